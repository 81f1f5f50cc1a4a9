// octet — the AVX-VNNI kernel: `vpdpbusd` on 256-bit registers (the VEX encoding, no AVX-512 needed).
//
// The arithmetic is that of kernels/avx512vnni.hpp: `vpdpbusd` multiplies unsigned bytes of A by signed
// bytes of B and adds groups of four products exactly into int32 lanes; A is packed as a + 128 (a ^ 0x80)
// and the driver subtracts 128 * sum_p B(p, j) (shift_a), so every int8 value, -128 included, is exact.
//
// The register block is 6 rows x 16 columns: 12 ymm accumulators, 2 ymm of packed B per k-group of 4 and
// one broadcast of A, 15 of the 16 ymm registers. Per k-group: 12 `vpdpbusd` against 2 vector loads and 6
// broadcast loads. (4 x 24 has the same 12 accumulators and fewer loads, but needs all 16 registers and
// leaves the compiler none for the broadcast.) Rows and column edges are handled as in the AVX-512 kernel:
// a template on the live rows R, and masked stores (`vpmaskmovd`) of the live columns.
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
namespace avxvnni {

constexpr int MR = 6, NV = 2, NR = NV * 8, KG = 4;

/// C[0:R, 0:nr] (+)= A panel (MR rows, the first R live) x B panel, over `kgroups` groups of 4.
template <int R>
__attribute__((target("avx2,avxvnni"))) void micro_rows(std::ptrdiff_t kgroups, const std::uint8_t* OCTET_RESTRICT a,
                                                       const std::int8_t* OCTET_RESTRICT b, std::int32_t* c,
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
      const std::int8_t* bg = b + (g + u) * (NR * KG);
      const std::uint8_t* ag = a + (g + u) * (MR * KG);
      __m256i bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(bg + 32 * v));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        std::int32_t a4;
        std::memcpy(&a4, ag + r * KG, 4);
        const __m256i av = _mm256_set1_epi32(a4);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm256_dpbusd_avx_epi32(acc[u][r][v], av, bv[v]);
      }
    }
  }
  for (; g < kgroups; ++g) {  // only when U = 2 and kgroups is odd
    const std::int8_t* bg = b + g * (NR * KG);
    const std::uint8_t* ag = a + g * (MR * KG);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      std::int32_t a4;
      std::memcpy(&a4, ag + r * KG, 4);
      const __m256i av = _mm256_set1_epi32(a4);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        acc[0][r][v] = _mm256_dpbusd_avx_epi32(acc[0][r][v], av,
                                               _mm256_load_si256(reinterpret_cast<const __m256i*>(bg + 32 * v)));
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

}  // namespace avxvnni

struct AvxVnni {
  static constexpr const char* name = "avxvnni";
  using AElem = std::uint8_t;  // a + 128
  using BElem = std::int8_t;
  static constexpr int MR = avxvnni::MR, NR = avxvnni::NR, KG = avxvnni::KG;
  static constexpr bool shift_a = true;
  static constexpr std::ptrdiff_t MC = 192, KC = 1024, NC = 256;

  static AElem pack_a(std::int8_t v) { return static_cast<AElem>(static_cast<std::uint8_t>(v) ^ 0x80u); }
  static BElem pack_b(std::int8_t v) { return v; }

  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                    std::ptrdiff_t ldc, bool accumulate) {
    switch (mr) {
      case 1: return avxvnni::micro_rows<1>(kgroups, a, b, c, ldc, nr, accumulate);
      case 2: return avxvnni::micro_rows<2>(kgroups, a, b, c, ldc, nr, accumulate);
      case 3: return avxvnni::micro_rows<3>(kgroups, a, b, c, ldc, nr, accumulate);
      case 4: return avxvnni::micro_rows<4>(kgroups, a, b, c, ldc, nr, accumulate);
      case 5: return avxvnni::micro_rows<5>(kgroups, a, b, c, ldc, nr, accumulate);
      default: return avxvnni::micro_rows<6>(kgroups, a, b, c, ldc, nr, accumulate);
    }
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
