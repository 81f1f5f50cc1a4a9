// octet — the AVX2 kernel: `vpmaddwd` on operands widened to int16 when packed (exact, never saturates).
//
// Why not `vpmaddubsw`? It multiplies u8 x s8 and adds pairs into *saturating* int16: 255 * 127 * 2 does not
// fit, so it is wrong for full-range int8 (oneDNN #476, FBGEMM #199). Instead both operands are widened to
// int16 while packing (A per call, B once) and `vpmaddwd` multiplies int16 pairs and adds each pair into an
// int32 lane: |2 * 128 * 128| = 32768 fits easily, so every int8 value, -128 included, is exact, with no
// +128 shift and no correction. Per instruction that is 16 multiply-adds, the same as `vpmaddubsw` followed
// by the `vpmaddwd` it would need, at the cost of packed B twice as large (2 bytes per weight).
//
// The register block is 4 rows x 16 columns over k-groups of 2: 8 ymm accumulators, 2 ymm of packed B,
// broadcasts of A (a pair of int16 each) and the products. Per k-group: 8 `vpmaddwd` + 8 `vpaddd` against 2
// vector loads and 4 broadcast loads. A 6 x 16 block needs all 16 ymm registers (12 accumulators, 2 of B, a
// broadcast, a product) and GCC 12 then spills accumulators inside the loop: it measured about half of the
// `vpmaddwd` peak. The loop itself is x86/micro.hpp's.
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

OCTET_TARGET_BEGIN("avx2")
namespace avx2 {

struct Ops : x86::Acc256 {
  using AElem = std::int16_t;
  using BElem = std::int16_t;
  static constexpr int MR = 4, NV = 2, KG = 2;
  static V madd(V acc, V a, V b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
};

#include "micro.hpp"

/// Stores 16 bytes widened to 16 int16.
inline void store_widened(std::int16_t* p, __m128i bytes) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_cvtepi8_epi16(bytes));
}

/// Packs 16 whole columns of B, B(p, j) = src[p*rs + j*cs] with rs or cs 1, over `groups` k-groups of 2 into
/// the int16 panels [group][16][2] at dst: byte and word unpacks transpose, vpmovsxbw widens 16 values at once.
inline void pack_b_words(const std::int8_t* src, std::ptrdiff_t rs, std::ptrdiff_t cs, std::ptrdiff_t groups,
                         std::int16_t* dst) {
  if (cs == 1) {  // row-major: the 2 rows of a group interleaved bytewise
    for (std::ptrdiff_t g = 0; g < groups; ++g) {
      const __m128i r0 = x86::load16(src + 2 * g * rs), r1 = x86::load16(src + (2 * g + 1) * rs);
      store_widened(dst + 32 * g, _mm_unpacklo_epi8(r0, r1));  // columns 0..7
      store_widened(dst + 32 * g + 16, _mm_unpackhi_epi8(r0, r1));
    }
    return;
  }
  // Column-major: 16 k (8 groups) of 8 columns at a time, an 8 x 8 transpose of 2-byte groups.
  std::ptrdiff_t g = 0;
  for (; g + 8 <= groups; g += 8)
    for (int h = 0; h < 16; h += 8) {
      const std::int8_t* s = src + h * cs + 2 * g;
      __m128i c[8], t[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) c[i] = x86::load16(s + i * cs);
#pragma GCC unroll 4
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm_unpacklo_epi16(c[i], c[i + 1]);
        t[i + 1] = _mm_unpackhi_epi16(c[i], c[i + 1]);
      }
      // t[0], t[2], t[4], t[6]: groups 0..3 of column pairs (0,1), (2,3), (4,5), (6,7); t[odd]: groups 4..7
      const __m128i u0 = _mm_unpacklo_epi32(t[0], t[2]), u1 = _mm_unpackhi_epi32(t[0], t[2]);
      const __m128i u2 = _mm_unpacklo_epi32(t[1], t[3]), u3 = _mm_unpackhi_epi32(t[1], t[3]);
      const __m128i u4 = _mm_unpacklo_epi32(t[4], t[6]), u5 = _mm_unpackhi_epi32(t[4], t[6]);
      const __m128i u6 = _mm_unpacklo_epi32(t[5], t[7]), u7 = _mm_unpackhi_epi32(t[5], t[7]);
      std::int16_t* d = dst + 32 * g + 2 * h;
      store_widened(d, _mm_unpacklo_epi64(u0, u4));  // group g, columns h..h+7
      store_widened(d + 32, _mm_unpackhi_epi64(u0, u4));
      store_widened(d + 64, _mm_unpacklo_epi64(u1, u5));
      store_widened(d + 96, _mm_unpackhi_epi64(u1, u5));
      store_widened(d + 128, _mm_unpacklo_epi64(u2, u6));
      store_widened(d + 160, _mm_unpackhi_epi64(u2, u6));
      store_widened(d + 192, _mm_unpacklo_epi64(u3, u7));
      store_widened(d + 224, _mm_unpackhi_epi64(u3, u7));
    }
  for (; g < groups; ++g)  // fewer than 8 groups left
    for (int j = 0; j < 16; ++j)
      for (int t = 0; t < 2; ++t) dst[32 * g + 2 * j + t] = src[j * cs + 2 * g + t];
}

}  // namespace avx2
OCTET_TARGET_END()

struct Avx2 : avx2::MicroKernel<avx2::Ops> {
  static constexpr const char* name = "avx2";
  using AElem = std::int16_t;  // widened when packed
  using BElem = std::int16_t;
  static constexpr bool shift_a = false;
  static constexpr bool has_pack_a_rows8 = false;
  static constexpr std::ptrdiff_t MC = 192, KC = 512, NC = 256;
  static AElem pack_a(std::int8_t v) { return v; }
  static BElem pack_b(std::int8_t v) { return v; }
  static std::int8_t unpack_b(BElem v) { return static_cast<std::int8_t>(v); }
  static void pack_b_panel(const std::int8_t* src, std::ptrdiff_t rs, std::ptrdiff_t cs, std::ptrdiff_t groups,
                           BElem* dst) {
    static_assert(NR == 16, "pack_b_words packs 16 columns");
    avx2::pack_b_words(src, rs, cs, groups, dst);
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
