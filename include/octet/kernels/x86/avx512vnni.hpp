// octet — the AVX-512 VNNI kernel: `vpdpbusd` on 512-bit registers.
//
// What it computes. `vpdpbusd acc, x, y` multiplies 64 unsigned bytes of x by 64 signed bytes of y and adds
// each group of four products into one of the 16 int32 lanes of acc. The products and their sum are exact
// (|4 * 255 * 128| fits easily), so nothing saturates. It is u8 x s8, while octet multiplies s8 x s8: A is
// packed as a + 128 (a ^ 0x80, an unsigned byte) and the driver subtracts 128 * sum_p B(p, j), computed once
// when B is packed (shift_a). Every int8 value, -128 included, gives the exact int32.
//
// The register block is 6 rows x 64 columns: 24 zmm accumulators (6 x 4), 4 zmm of packed B loaded per
// k-group of 4, and one broadcast of 4 bytes of A per row. Per k-group that is 24 `vpdpbusd` against 4 vector
// loads and 6 broadcast loads (a broadcast from memory is a load, not an ALU operation), so the two vector
// ALUs, not the load ports, set the pace; 6 x 64 uses 30 of the 32 zmm. Narrower blocks (8 x 32, 8 x 48)
// reload A more often per `vpdpbusd` and measured slower here.
//
// B is prefetched 32 k-groups (8 KiB) ahead: it streams from L3 or DRAM when m is small (a prefetch past the
// end of the buffer is harmless). Column edges use the mask registers. The loop itself is x86/micro.hpp's.
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "common.hpp"

namespace octet {
namespace detail {
namespace kernels {

OCTET_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
namespace avx512vnni {

struct Ops {
  using V = __m512i;
  using Mask = __mmask16;
  using AElem = std::uint8_t;
  using BElem = std::int8_t;
  static constexpr int lanes = 16, MR = 6, NV = 4, KG = 4;
  static constexpr std::ptrdiff_t prefetch_bytes = 32 * 64 * 4;  // 32 k-groups of a 64-column panel

  static V zero() { return _mm512_setzero_si512(); }
  static V add(V a, V b) { return _mm512_add_epi32(a, b); }
  static V sub(V a, V b) { return _mm512_sub_epi32(a, b); }
  static V load_c(const std::int32_t* p) { return _mm512_loadu_si512(p); }
  static void store_c(std::int32_t* p, V v) { _mm512_storeu_si512(p, v); }
  static Mask mask(int live) { return static_cast<Mask>(live >= 16 ? 0xFFFF : live <= 0 ? 0 : (1u << live) - 1u); }
  static V load_c(const std::int32_t* p, Mask m) { return _mm512_maskz_loadu_epi32(m, p); }
  static void store_c(std::int32_t* p, Mask m, V v) { _mm512_mask_storeu_epi32(p, m, v); }
  static V load_b(const BElem* p) { return _mm512_load_si512(p); }
  static V broadcast_a(const AElem* p) {
    std::int32_t x;
    std::memcpy(&x, p, 4);
    return _mm512_set1_epi32(x);
  }
  static V madd(V acc, V a, V b) { return _mm512_dpbusd_epi32(acc, a, b); }
  static void prefetch_b(const BElem* p) { _mm_prefetch(reinterpret_cast<const char*>(p + prefetch_bytes), _MM_HINT_T0); }

  // Float accumulators of block-wise scales (micro_blocked): 16 floats a vector.
  using F = __m512;
  static F to_float(V v) { return _mm512_maskz_cvtepi32_ps(0xFFFF, v); }  // maskz: no GCC 12 -Wmaybe-uninitialized (PR 105593)
  static F fzero() { return _mm512_setzero_ps(); }
  static F fset1(float x) { return _mm512_set1_ps(x); }
  static F fload(const float* p) { return _mm512_loadu_ps(p); }
  static F fload(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void fstore(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F fadd(F a, F b) { return _mm512_add_ps(a, b); }
  static F fmul(F a, F b) {  // rounded on its own: never fused with a following add into an FMA
    F r = _mm512_mul_ps(a, b);
    __asm__("" : "+v"(r));
    return r;
  }
};

#include "micro.hpp"

}  // namespace avx512vnni
OCTET_TARGET_END()

struct Avx512Vnni : avx512vnni::MicroKernel<avx512vnni::Ops>, x86::ShiftedA<avx512vnni::Ops::MR, avx512vnni::Ops::NV * avx512vnni::Ops::lanes> {
  static constexpr const char* name = "avx512vnni";
  static constexpr std::ptrdiff_t MC = 192, KC = 512, NC = 256;
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
