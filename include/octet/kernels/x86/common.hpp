// octet — what the x86 GEMM kernels share: 256-bit int32 accumulator operations (AVX2 and AVX-VNNI) and the
// fast packing of column-major A and of B into byte panels (AVX-VNNI and AVX-512 VNNI).
//
// Everything here is compiled for AVX2 (a target region), so a kernel compiled for a wider target
// ("avx2,avxvnni", AVX-512) may inline it.
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "../float_scalar.hpp"

OCTET_TARGET_BEGIN("avx2")
namespace octet {
namespace detail {
namespace kernels {
namespace x86 {

/// The C side of a micro-kernel on ymm registers: 8 int32 columns a vector (see micro.hpp for its use).
struct Acc256 {
  using V = __m256i;
  using Mask = __m256i;
  static constexpr int lanes = 8;
  static V zero() { return _mm256_setzero_si256(); }
  static V add(V a, V b) { return _mm256_add_epi32(a, b); }
  static V sub(V a, V b) { return _mm256_sub_epi32(a, b); }
  static V load_c(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store_c(std::int32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  /// The first `live` lanes (any int; <= 0: none, >= 8: all).
  static Mask mask(int live) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(live), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static V load_c(const std::int32_t* p, Mask m) { return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), m); }
  static void store_c(std::int32_t* p, Mask m, V v) { _mm256_maskstore_epi32(reinterpret_cast<int*>(p), m, v); }
  /// One vector of packed B (aligned).
  static V load_b(const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); }
  /// Four bytes (one k-group of one row of packed A) in every 32-bit lane.
  static V broadcast_a(const void* p) {
    std::int32_t x;
    std::memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
  }
  static void prefetch_b(const void*) {}

  // Float accumulators of block-wise scales (micro_blocked): 8 floats a vector.
  using F = __m256;
  static F to_float(V v) { return _mm256_cvtepi32_ps(v); }
  static F fzero() { return _mm256_setzero_ps(); }
  static F fset1(float x) { return _mm256_set1_ps(x); }
  static F fload(const float* p) { return _mm256_loadu_ps(p); }
  static F fload(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void fstore(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F fadd(F a, F b) { return _mm256_add_ps(a, b); }
  /// a * b rounded on its own: the barrier keeps a caller's -mfma from fusing it with a following add.
  static F fmul(F a, F b) {
    F r = _mm256_mul_ps(a, b);
    __asm__("" : "+x"(r));
    return r;
  }
};

/// Packs one panel of MR (4, 6 or 8) rows of column-major A (A(r, p) = src[r + p*cs]) over k in [k_begin,
/// k_end) into [kgroup][MR][4] bytes at dst, each byte xor `flip` (0x80: the +128 shift of u8 x s8 kernels).
/// Reads 8 bytes from each column. Four 8-byte column reads and three unpacks make the 4-byte groups of 8 rows
/// at once, about 10x fewer operations than an element loop.
template <int MR>
void pack_a_rows8(const std::int8_t* src, std::ptrdiff_t cs, std::ptrdiff_t k_begin, std::ptrdiff_t k_end,
                  std::uint8_t* dst, std::uint8_t flip) {
  static_assert(MR == 4 || MR == 6 || MR == 8, "8-byte column reads cover at most 8 rows");
  const __m128i f = _mm_set1_epi8(static_cast<char>(flip));
  std::ptrdiff_t p = k_begin;
  for (; p + 4 <= k_end; p += 4) {
    const __m128i c0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + p * cs));
    const __m128i c1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (p + 1) * cs));
    const __m128i c2 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (p + 2) * cs));
    const __m128i c3 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (p + 3) * cs));
    const __m128i t01 = _mm_unpacklo_epi8(c0, c1), t23 = _mm_unpacklo_epi8(c2, c3);
    const __m128i rows03 = _mm_xor_si128(_mm_unpacklo_epi16(t01, t23), f);
    const __m128i rows47 = _mm_xor_si128(_mm_unpackhi_epi16(t01, t23), f);
    std::uint8_t* d = dst + (p - k_begin) * MR;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), rows03);
    if (MR == 6) _mm_storel_epi64(reinterpret_cast<__m128i*>(d + 16), rows47);
    if (MR == 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16), rows47);
  }
  for (; p < k_end; ++p)  // a last partial group
    for (int r = 0; r < MR; ++r)
      dst[(p - k_begin) / 4 * MR * 4 + r * 4 + p % 4] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(src[p * cs + r]) ^ flip);
}

/// 16 bytes from or to anywhere (no lambdas in target regions: GCC does not compile them for the region's target).
inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline void store16(void* p, __m128i v) { _mm_storeu_si128(static_cast<__m128i*>(p), v); }

/// Packs NR (a multiple of 16) whole columns of B, B(p, j) = src[p*rs + j*cs] with rs or cs 1, over `groups`
/// k-groups of 4 into byte panels [group][NR][4] at dst (the layout of the `vpdpbusd` kernels). Byte and word
/// unpacks do the transposes: about 2 instructions per 16 bytes where an element loop needs 2 per byte.
template <int NR>
void pack_b_bytes4(const std::int8_t* src, std::ptrdiff_t rs, std::ptrdiff_t cs, std::ptrdiff_t groups,
                   std::int8_t* dst) {
  static_assert(NR % 16 == 0, "16 columns at a time");
  if (cs == 1) {
    // Row-major: the 4 rows of a group, 16 columns at a time, interleaved bytewise then pairwise.
    for (std::ptrdiff_t g = 0; g < groups; ++g) {
      const std::int8_t* s = src + 4 * g * rs;
      std::int8_t* d = dst + g * NR * 4;
      for (int c = 0; c < NR; c += 16) {
        const __m128i r0 = load16(s + c), r1 = load16(s + rs + c), r2 = load16(s + 2 * rs + c), r3 = load16(s + 3 * rs + c);
        const __m128i lo01 = _mm_unpacklo_epi8(r0, r1), hi01 = _mm_unpackhi_epi8(r0, r1);
        const __m128i lo23 = _mm_unpacklo_epi8(r2, r3), hi23 = _mm_unpackhi_epi8(r2, r3);
        store16(d + 4 * c, _mm_unpacklo_epi16(lo01, lo23));  // columns c..c+3
        store16(d + 4 * c + 16, _mm_unpackhi_epi16(lo01, lo23));
        store16(d + 4 * c + 32, _mm_unpacklo_epi16(hi01, hi23));
        store16(d + 4 * c + 48, _mm_unpackhi_epi16(hi01, hi23));
      }
    }
    return;
  }
  // Column-major: 16 k (4 groups) of 4 columns at a time, a 4 x 4 transpose of 4-byte groups.
  std::ptrdiff_t g = 0;
  for (; g + 4 <= groups; g += 4) {
    std::int8_t* d = dst + g * NR * 4;
    for (int c = 0; c < NR; c += 4) {
      const std::int8_t* s = src + c * cs + 4 * g;
      const __m128i c0 = load16(s), c1 = load16(s + cs), c2 = load16(s + 2 * cs), c3 = load16(s + 3 * cs);
      const __m128i t0 = _mm_unpacklo_epi32(c0, c1), t1 = _mm_unpackhi_epi32(c0, c1);
      const __m128i t2 = _mm_unpacklo_epi32(c2, c3), t3 = _mm_unpackhi_epi32(c2, c3);
      store16(d + 4 * c, _mm_unpacklo_epi64(t0, t2));  // group g, columns c..c+3
      store16(d + NR * 4 + 4 * c, _mm_unpackhi_epi64(t0, t2));
      store16(d + 2 * NR * 4 + 4 * c, _mm_unpacklo_epi64(t1, t3));
      store16(d + 3 * NR * 4 + 4 * c, _mm_unpackhi_epi64(t1, t3));
    }
  }
  for (; g < groups; ++g)  // fewer than 4 groups left
    for (int c = 0; c < NR; ++c) std::memcpy(dst + g * NR * 4 + 4 * c, src + c * cs + 4 * g, 4);
}

}  // namespace x86
}  // namespace kernels
}  // namespace detail
}  // namespace octet
OCTET_TARGET_END()

namespace octet {
namespace detail {
namespace kernels {
namespace x86 {

/// The value conversions of the `vpdpbusd` kernels (u8 x s8), whose register block is MR x NR: A packed as
/// a + 128 (a ^ 0x80, an unsigned byte), B as it is; the driver subtracts 128 * sum_p B(p, j) (shift_a).
/// Outside any target region, so that the driver's packing loops inline pack_a and pack_b.
template <int MR, int NR>
struct ShiftedA {
  using AElem = std::uint8_t;
  using BElem = std::int8_t;
  static constexpr bool shift_a = true;
  static constexpr bool has_pack_a_rows8 = true;
  static AElem pack_a(std::int8_t v) { return static_cast<AElem>(static_cast<std::uint8_t>(v) ^ 0x80u); }
  static BElem pack_b(std::int8_t v) { return v; }
  static std::int8_t unpack_b(BElem v) { return v; }
  static void pack_a_rows8(const std::int8_t* src, std::ptrdiff_t cs, std::ptrdiff_t k_begin, std::ptrdiff_t k_end,
                           AElem* dst) {
    x86::pack_a_rows8<MR>(src, cs, k_begin, k_end, dst, 0x80);
  }
  static void pack_b_panel(const std::int8_t* src, std::ptrdiff_t rs, std::ptrdiff_t cs, std::ptrdiff_t groups,
                           BElem* dst) {
    x86::pack_b_bytes4<NR>(src, rs, cs, groups, dst);
  }
};

}  // namespace x86
}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
