// octet — the baseline aarch64 kernel: NEON `smull` + `sadalp`, exact for every int8 including -128.
//
// Advanced SIMD is part of every aarch64 CPU, so this file needs no target attribute and no -march flag.
//
// The arithmetic. `smull` multiplies eight int8 pairs into eight int16: each product lies in
// [-16256, 16384] and fits. The tempting next step, `smlal` (multiply-accumulate into the same int16 lanes),
// overflows as soon as two -128 x -128 products meet (2 x 16384 = 32768 > 32767), so it is never used here:
// every int16 product vector goes straight into `sadalp`, which adds adjacent int16 pairs into int32 lanes.
// Each int32 lane therefore holds an exact partial sum; k * 128 * 128 < 2^31 is checked by the caller.
//
// The register block: 4 rows x 4 columns of C, k in groups of KG = 16. One packed A row (16 k) and one packed
// B column (16 k) are each one 128-bit register, so a k-group costs 8 loads and, per (row, column) pair,
// smull + smull2 + 2 x sadalp into that pair's own int32x4 accumulator (16 k products folded into 4 lanes).
// 16 accumulators + 8 operands + 2 products = 26 of the 32 vector registers; a larger block would spill.
// At the end, three pairwise adds (`addp`) per row fold the four lanes of four accumulators into one int32x4
// row of C. (With the dotprod extension, arm/neondot.hpp does the folding in the instruction itself.)
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_ARM64)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "../contract.hpp"

namespace octet {
namespace detail {
namespace kernels {
namespace neon_common {

/// Writes (or adds) one row of 4 C values; at the right edge of C (`cols` < 4) only the first `cols`, as the
/// kernel contract promises: nothing outside C[0:mr, 0:nr] is touched.
OCTET_ALWAYS_INLINE void store_row4(int32x4_t v, std::int32_t* c, int cols, bool accumulate) {
  if (cols >= 4) {
    vst1q_s32(c, accumulate ? vaddq_s32(vld1q_s32(c), v) : v);
    return;
  }
  std::int32_t tmp[4];
  vst1q_s32(tmp, v);
  for (int j = 0; j < cols; ++j) c[j] = accumulate ? c[j] + tmp[j] : tmp[j];
}

/// An empty volatile asm: emits nothing, but GCC's instruction scheduler does not move code across it. Without
/// it, GCC 12 hoists all 32 `smull` of a k-group above the `sadalp` that consume them, runs out of the 32
/// vector registers and spills accumulators inside the loop; fenced after each row of C, the loop has no spill.
OCTET_ALWAYS_INLINE void schedule_fence() { __asm__ volatile(""); }

}  // namespace neon_common

struct Neon : Int8Operands {  // s8 x s8 as they are: no +128 shift, no correction
  static constexpr const char* name = "neon";
  static constexpr int MR = 4, NR = 4, KG = 16;
  // An A block of MC x KC = 64 KiB streams from L2 while one B panel (KC x NR = 4 KiB) stays in L1.
  static constexpr std::ptrdiff_t MC = 64, KC = 1024, NC = 256;


  /// C[0:mr, 0:nr] (+)= A panel * B panel over `kgroups` groups of 16. The panels are zero padded to whole
  /// MR x NR blocks, so the full block is always computed and only the valid part of C is written.
  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                    std::ptrdiff_t ldc, bool accumulate) {
    int32x4_t acc[MR][NR];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) acc[r][j] = vdupq_n_s32(0);

    for (std::ptrdiff_t g = 0; g < kgroups; ++g) {
      const int8x16_t a0 = vld1q_s8(a), a1 = vld1q_s8(a + 16), a2 = vld1q_s8(a + 32), a3 = vld1q_s8(a + 48);
      const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
      a += MR * KG;
      b += NR * KG;
      row_step(acc[0], a0, b0, b1, b2, b3);
      neon_common::schedule_fence();
      row_step(acc[1], a1, b0, b1, b2, b3);
      neon_common::schedule_fence();
      row_step(acc[2], a2, b0, b1, b2, b3);
      neon_common::schedule_fence();
      row_step(acc[3], a3, b0, b1, b2, b3);
    }

    for (int r = 0; r < mr; ++r) {
      const int32x4_t row = vpaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]), vpaddq_s32(acc[r][2], acc[r][3]));
      neon_common::store_row4(row, c + r * ldc, nr, accumulate);
    }
  }

 private:
  /// Both halves of a 16-byte product, each through its own sadalp: never two products in one int16 lane.
  static OCTET_ALWAYS_INLINE int32x4_t dot16(int32x4_t acc, int8x16_t x, int8x16_t y) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(y)));
    return vpadalq_s16(acc, vmull_high_s8(x, y));
  }
  static OCTET_ALWAYS_INLINE void row_step(int32x4_t* acc, int8x16_t a, int8x16_t b0, int8x16_t b1, int8x16_t b2,
                                           int8x16_t b3) {
    acc[0] = dot16(acc[0], a, b0);
    acc[1] = dot16(acc[1], a, b1);
    acc[2] = dot16(acc[2], a, b2);
    acc[3] = dot16(acc[3], a, b3);
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_ARM64
