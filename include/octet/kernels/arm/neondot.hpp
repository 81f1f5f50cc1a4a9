// octet — the aarch64 dot-product kernel: `sdot` (ARMv8.2 FEAT_DotProd), exact for every int8.
//
// The instruction. `sdot vd.4s, vn.16b, vm.4b[l]` adds to each int32 lane i of vd the dot product of bytes
// 4i..4i+3 of vn with bytes 4l..4l+3 of vm: four s8 x s8 products summed straight into int32, so nothing can
// saturate and no operand needs a +128 shift. With the packed layouts of the kernel contract and KG = 4,
// one 16-byte load of B is 4 columns x 4 k and one 16-byte load of A is 4 rows x 4 k; the by-element form
// picks one row of A and multiplies it against 4 columns at once, producing 4 adjacent C values of a row.
//
// The register block: 8 rows x 12 columns of C. Per group of 4 k: 2 loads of A (rows 0-3, 4-7), 3 loads of B
// (columns 0-3, 4-7, 8-11) and 24 `sdot` into 24 accumulators; 24 + 5 = 29 of the 32 vector registers.
// That is the widest block that fits without spilling: 8 x 16 would need 32 accumulators alone.
//
// Compiling without -march. The kernel carries a target attribute (GCC: "arch=armv8.2-a+dotprod", which
// arm_neon.h itself uses around the dot-product intrinsics, so a plain "+dotprod" on armv8-a is refused as
// a mismatch; Clang: "dotprod"), and gemm/dispatch.hpp calls it only when cpu_supports(Isa::neondot), i.e.
// getauxval(AT_HWCAP) has HWCAP_ASIMDDP. Clang before 16 declares vdotq_* only under __ARM_FEATURE_DOTPROD
// (that is, with -march=...+dotprod), so without that macro Clang gets the same instruction as inline asm.
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_ARM64)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "../contract.hpp"

#include "neon.hpp"

#if defined(__clang__)
#  define OCTET_TARGET_DOTPROD __attribute__((target("dotprod")))
#else
#  define OCTET_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

namespace octet {
namespace detail {
namespace kernels {
namespace neondot_detail {

/// acc.s[i] += sum_t b.b[4i + t] * a.b[4 Lane + t]: 4 columns of B against row `Lane` of a 4-row A group.
template <int Lane>
OCTET_TARGET_DOTPROD OCTET_ALWAYS_INLINE int32x4_t sdot_lane(int32x4_t acc, int8x16_t b, int8x16_t a) {
  static_assert(Lane >= 0 && Lane < 4, "sdot selects one of four 4-byte groups");
#if defined(__clang__) && !defined(__ARM_FEATURE_DOTPROD)
  __asm__("sdot %0.4s, %1.16b, %2.4b[%3]" : "+w"(acc) : "w"(b), "w"(a), "n"(Lane));
  return acc;
#else
  return vdotq_laneq_s32(acc, b, a, Lane);
#endif
}

/// One row of C (12 columns in three accumulators) for one group of 4 k.
template <int Lane>
OCTET_TARGET_DOTPROD OCTET_ALWAYS_INLINE void row_step(int32x4_t* acc, int8x16_t a, int8x16_t b0, int8x16_t b1,
                                                       int8x16_t b2) {
  acc[0] = sdot_lane<Lane>(acc[0], b0, a);
  acc[1] = sdot_lane<Lane>(acc[1], b1, a);
  acc[2] = sdot_lane<Lane>(acc[2], b2, a);
}

}  // namespace neondot_detail

struct NeonDot : Int8Operands {  // s8 x s8 as they are: no +128 shift, no correction
  static constexpr const char* name = "neondot";
  static constexpr int MR = 8, NR = 12, KG = 4;
  // An A block of MC x KC = 64 KiB streams from L2 while one B panel (KC x NR = 12 KiB) stays in L1;
  // NC = 20 panels keeps the int32 C tile (MC x NC x 4 = 60 KiB) about as large as the other kernels'.
  static constexpr std::ptrdiff_t MC = 64, KC = 1024, NC = 240;


  /// C[0:mr, 0:nr] (+)= A panel * B panel over `kgroups` groups of 4. The panels are zero padded to whole
  /// MR x NR blocks, so the full block is always computed and only the valid part of C is written.
  OCTET_TARGET_DOTPROD static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b,
                                         std::int32_t* c, std::ptrdiff_t ldc, bool accumulate) {
    using neondot_detail::row_step;
    int32x4_t acc[MR][3];
    for (int r = 0; r < MR; ++r)
      for (int q = 0; q < 3; ++q) acc[r][q] = vdupq_n_s32(0);

    for (std::ptrdiff_t g = 0; g < kgroups; ++g) {
      const int8x16_t a0 = vld1q_s8(a), a1 = vld1q_s8(a + 16);
      const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32);
      a += MR * KG;
      b += NR * KG;
      row_step<0>(acc[0], a0, b0, b1, b2);
      row_step<1>(acc[1], a0, b0, b1, b2);
      row_step<2>(acc[2], a0, b0, b1, b2);
      row_step<3>(acc[3], a0, b0, b1, b2);
      row_step<0>(acc[4], a1, b0, b1, b2);
      row_step<1>(acc[5], a1, b0, b1, b2);
      row_step<2>(acc[6], a1, b0, b1, b2);
      row_step<3>(acc[7], a1, b0, b1, b2);
    }

    for (int r = 0; r < mr; ++r)
      for (int q = 0; q < 3 && 4 * q < nr; ++q)
        neon_common::store_row4(acc[r][q], c + r * ldc + 4 * q, nr - 4 * q, accumulate);
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_ARM64
