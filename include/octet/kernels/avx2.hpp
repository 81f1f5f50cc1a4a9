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
// `vpmaddwd` peak. Edges as in the other x86 kernels:
// a template on the live rows R, masked stores (`vpmaskmovd`) of the live columns.
#pragma once

#include "../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "x86_common.hpp"

namespace octet {
namespace detail {
namespace kernels {
namespace avx2 {

constexpr int MR = 4, NV = 2, NR = NV * 8, KG = 2;

/// C[0:R, 0:nr] (+)= A panel (MR rows, the first R live) x B panel, over `kgroups` groups of 2.
template <int R>
__attribute__((target("avx2"))) void micro_rows(std::ptrdiff_t kgroups, const std::int16_t* OCTET_RESTRICT a,
                                               const std::int16_t* OCTET_RESTRICT b, std::int32_t* c,
                                               std::ptrdiff_t ldc, int nr, bool accumulate) {
  constexpr int U = R <= 2 ? 2 : 1;  // few rows: two sets of accumulators over k hide the latency
  __m256i acc[U][R][NV];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm256_setzero_si256();

  std::ptrdiff_t g = 0;
  for (; g + U <= kgroups; g += U) {
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      const std::int16_t* bg = b + (g + u) * (NR * KG);
      const std::int16_t* ag = a + (g + u) * (MR * KG);
      __m256i bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(bg + 16 * v));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        std::int32_t a2;
        std::memcpy(&a2, ag + r * KG, 4);
        const __m256i av = _mm256_set1_epi32(a2);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm256_add_epi32(acc[u][r][v], _mm256_madd_epi16(av, bv[v]));
      }
    }
  }
  for (; g < kgroups; ++g) {  // only when U = 2 and kgroups is odd
    const std::int16_t* bg = b + g * (NR * KG);
    const std::int16_t* ag = a + g * (MR * KG);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      std::int32_t a2;
      std::memcpy(&a2, ag + r * KG, 4);
      const __m256i av = _mm256_set1_epi32(a2);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        acc[0][r][v] = _mm256_add_epi32(
            acc[0][r][v], _mm256_madd_epi16(av, _mm256_load_si256(reinterpret_cast<const __m256i*>(bg + 16 * v))));
    }
  }
  if constexpr (U == 2) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm256_add_epi32(acc[0][r][v], acc[1][r][v]);
  }
  x86::store_block_256<R, NV>(acc[0], nr, c, ldc, accumulate);
}

}  // namespace avx2

struct Avx2 {
  static constexpr const char* name = "avx2";
  using AElem = std::int16_t;
  using BElem = std::int16_t;
  static constexpr int MR = avx2::MR, NR = avx2::NR, KG = avx2::KG;
  static constexpr bool shift_a = false;
  static constexpr std::ptrdiff_t MC = 192, KC = 512, NC = 256;

  static AElem pack_a(std::int8_t v) { return v; }
  static BElem pack_b(std::int8_t v) { return v; }

  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                    std::ptrdiff_t ldc, bool accumulate) {
    static_assert(MR == 4, "one case per row count below MR");
    switch (mr) {
      case 1: return avx2::micro_rows<1>(kgroups, a, b, c, ldc, nr, accumulate);
      case 2: return avx2::micro_rows<2>(kgroups, a, b, c, ldc, nr, accumulate);
      case 3: return avx2::micro_rows<3>(kgroups, a, b, c, ldc, nr, accumulate);
      default: return avx2::micro_rows<MR>(kgroups, a, b, c, ldc, nr, accumulate);
    }
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
