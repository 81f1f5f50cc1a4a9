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
// Edges. Rows: the block is a template on the number of live rows R (1..6), so a short panel (m = 1, the
// GEMV of one token) costs R/6 of a full one; R <= 2 splits k over two sets of accumulators to hide the
// `vpdpbusd` latency. B is prefetched 32 k-groups (8 KiB) ahead: it streams from L3 or DRAM when m is small
// (a prefetch past the end of the buffer is harmless). Columns: B panels are zero padded to 64 columns, so
// the block always computes all 64 and only the stores are masked to the live nr columns.
#pragma once

#include "../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>


namespace octet {
namespace detail {
namespace kernels {
namespace avx512vnni {

#define OCTET_TARGET_AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

constexpr int MR = 6, NV = 4, NR = NV * 16, KG = 4;
constexpr std::ptrdiff_t prefetch_groups = 32;

/// Writes (or adds) the accumulators of R rows into C, only the first nr columns.
template <int R>
OCTET_TARGET_AVX512VNNI OCTET_ALWAYS_INLINE void store_block(__m512i (&acc)[R][NV], int nr, std::int32_t* c,
                                                             std::ptrdiff_t ldc, bool accumulate) {
  __mmask16 mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const int live = nr - 16 * v;
    mask[v] = static_cast<__mmask16>(live >= 16 ? 0xFFFF : live <= 0 ? 0 : (1u << live) - 1u);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    std::int32_t* row = c + r * ldc;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      __m512i x = acc[r][v];
      if (accumulate) x = _mm512_add_epi32(x, _mm512_maskz_loadu_epi32(mask[v], row + 16 * v));
      _mm512_mask_storeu_epi32(row + 16 * v, mask[v], x);
    }
  }
}

/// C[0:R, 0:nr] (+)= A panel (MR rows, only the first R live) x B panel, over `kgroups` groups of 4.
template <int R>
OCTET_TARGET_AVX512VNNI void micro_rows(std::ptrdiff_t kgroups, const std::uint8_t* OCTET_RESTRICT a,
                                        const std::int8_t* OCTET_RESTRICT b, std::int32_t* c, std::ptrdiff_t ldc,
                                        int nr, bool accumulate) {
  // Few rows: the chain of one accumulator per k-group would be latency bound, so use two sets.
  constexpr int U = R <= 2 ? 2 : 1;
  __m512i acc[U][R][NV];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm512_setzero_si512();

  std::ptrdiff_t g = 0;
  for (; g + U <= kgroups; g += U) {
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      const std::int8_t* bg = b + (g + u) * (NR * KG);
      const std::uint8_t* ag = a + (g + u) * (MR * KG);
      __m512i bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_si512(bg + 64 * v);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)  // B streams from memory when m is small: fetch it 8 KiB ahead
        _mm_prefetch(reinterpret_cast<const char*>(bg + prefetch_groups * NR * KG + 64 * v), _MM_HINT_T0);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        std::int32_t a4;
        std::memcpy(&a4, ag + r * KG, 4);
        const __m512i av = _mm512_set1_epi32(a4);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm512_dpbusd_epi32(acc[u][r][v], av, bv[v]);
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
      const __m512i av = _mm512_set1_epi32(a4);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        acc[0][r][v] = _mm512_dpbusd_epi32(acc[0][r][v], av, _mm512_load_si512(bg + 64 * v));
    }
  }
  if constexpr (U == 2) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm512_add_epi32(acc[0][r][v], acc[1][r][v]);
  }
  store_block<R>(acc[0], nr, c, ldc, accumulate);
}

#undef OCTET_TARGET_AVX512VNNI

}  // namespace avx512vnni

struct Avx512Vnni {
  static constexpr const char* name = "avx512vnni";
  using AElem = std::uint8_t;  // a + 128
  using BElem = std::int8_t;
  static constexpr int MR = avx512vnni::MR, NR = avx512vnni::NR, KG = avx512vnni::KG;
  static constexpr bool shift_a = true;
  static constexpr std::ptrdiff_t MC = 192, KC = 512, NC = 256;

  static AElem pack_a(std::int8_t v) { return static_cast<AElem>(static_cast<std::uint8_t>(v) ^ 0x80u); }
  static BElem pack_b(std::int8_t v) { return v; }

  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                    std::ptrdiff_t ldc, bool accumulate) {
    switch (mr) {
      case 1: return avx512vnni::micro_rows<1>(kgroups, a, b, c, ldc, nr, accumulate);
      case 2: return avx512vnni::micro_rows<2>(kgroups, a, b, c, ldc, nr, accumulate);
      case 3: return avx512vnni::micro_rows<3>(kgroups, a, b, c, ldc, nr, accumulate);
      case 4: return avx512vnni::micro_rows<4>(kgroups, a, b, c, ldc, nr, accumulate);
      case 5: return avx512vnni::micro_rows<5>(kgroups, a, b, c, ldc, nr, accumulate);
      default: return avx512vnni::micro_rows<6>(kgroups, a, b, c, ldc, nr, accumulate);
    }
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
