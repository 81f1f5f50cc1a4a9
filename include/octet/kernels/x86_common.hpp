// octet — what the 256-bit x86 kernels (AVX2, AVX-VNNI) share: writing an accumulator block to C.
//
// Every function here carries its own target attribute, so nothing needs a -m flag; a kernel compiled for a
// wider target ("avx2,avxvnni") may inline them.
#pragma once

#include "../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>

#include <immintrin.h>


namespace octet {
namespace detail {
namespace kernels {
namespace x86 {

/// C[0:R, 0:nr] (+)= acc, where row r of acc holds NV vectors of 8 int32 columns; columns from nr on are
/// neither read nor written (`vpmaskmovd`), so the block may hang over the end of C.
template <int R, int NV>
__attribute__((target("avx2"))) OCTET_ALWAYS_INLINE void store_block_256(__m256i (&acc)[R][NV], int nr,
                                                                        std::int32_t* c, std::ptrdiff_t ldc,
                                                                        bool accumulate) {
  if (nr >= NV * 8) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        __m256i* dst = reinterpret_cast<__m256i*>(c + r * ldc + 8 * v);
        __m256i x = acc[r][v];
        if (accumulate) x = _mm256_add_epi32(x, _mm256_loadu_si256(dst));
        _mm256_storeu_si256(dst, x);
      }
    return;
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8 * v), lane);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      if (nr <= 8 * v) continue;
      int* dst = reinterpret_cast<int*>(c + r * ldc + 8 * v);
      __m256i x = acc[r][v];
      if (accumulate) x = _mm256_add_epi32(x, _mm256_maskload_epi32(dst, mask[v]));
      _mm256_maskstore_epi32(dst, mask[v], x);
    }
}

/// out[j*ldo + i] = tile[i*ldt + j] for the 8 x 8 blocks of a rows x cols tile (rows and cols multiples
/// of 8): 8 loads, 24 shuffles and 8 stores per 64 elements.
__attribute__((target("avx2"))) inline void transpose_8x8_blocks(const std::int32_t* tile, std::ptrdiff_t ldt,
                                                                 std::ptrdiff_t rows, std::ptrdiff_t cols,
                                                                 std::int32_t* out, std::ptrdiff_t ldo) {
  for (std::ptrdiff_t j = 0; j < cols; j += 8)
    for (std::ptrdiff_t i = 0; i < rows; i += 8) {
      __m256i r[8], t[8];
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) r[q] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + (i + q) * ldt + j));
#pragma GCC unroll 4
      for (int q = 0; q < 8; q += 2) {
        t[q] = _mm256_unpacklo_epi32(r[q], r[q + 1]);
        t[q + 1] = _mm256_unpackhi_epi32(r[q], r[q + 1]);
      }
#pragma GCC unroll 2
      for (int q = 0; q < 8; q += 4) {
        r[q] = _mm256_unpacklo_epi64(t[q], t[q + 2]);
        r[q + 1] = _mm256_unpackhi_epi64(t[q], t[q + 2]);
        r[q + 2] = _mm256_unpacklo_epi64(t[q + 1], t[q + 3]);
        r[q + 3] = _mm256_unpackhi_epi64(t[q + 1], t[q + 3]);
      }
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (j + q) * ldo + i),
                            _mm256_permute2x128_si256(r[q], r[q + 4], 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (j + q + 4) * ldo + i),
                            _mm256_permute2x128_si256(r[q], r[q + 4], 0x31));
      }
    }
}

}  // namespace x86
}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
