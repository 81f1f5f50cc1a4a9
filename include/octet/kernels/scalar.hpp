// octet — the portable kernel: plain C++ on the packed layout, for machines without a SIMD path.
//
// A kernel is a small traits struct that the generic driver (core/driver.hpp) is templated on:
//   AElem, BElem    element types of packed A and packed B
//   MR x NR         the register block of C one micro-kernel call computes
//   KG              k is packed in groups of KG consecutive values (4 for a 4-way dot product)
//   shift_a         packed A holds a + 128 as uint8 (for u8 x s8 instructions); the driver then subtracts
//                   128 * (column sums of B), precomputed when B is packed
//   MC, KC, NC      cache blocking: rows of A, depth and columns of B processed per block
//   pack_a/pack_b   the value conversion applied while packing
//   micro()         C[0:mr, 0:nr] (+)= Apanel * Bpanel over `kgroups` groups of KG
// Packed layouts (zero padded): an A panel of MR rows is [kgroup][MR][KG]; a B panel of NR columns is
// [kgroup][NR][KG]. C is a row-major tile with leading dimension ldc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace octet {
namespace detail {
namespace kernels {

struct Scalar {
  static constexpr const char* name = "scalar";
  using AElem = std::int8_t;
  using BElem = std::int8_t;
  static constexpr int MR = 4, NR = 16, KG = 4;
  static constexpr bool shift_a = false;
  static constexpr std::ptrdiff_t MC = 64, KC = 1024, NC = 256;

  static AElem pack_a(std::int8_t v) { return v; }
  static BElem pack_b(std::int8_t v) { return v; }

  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                    std::ptrdiff_t ldc, bool accumulate) {
    std::int32_t acc[MR][NR] = {};
    for (std::ptrdiff_t g = 0; g < kgroups; ++g) {
      const AElem* ag = a + g * MR * KG;
      const BElem* bg = b + g * NR * KG;
      for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NR; ++j) {
          std::int32_t s = 0;
          for (int t = 0; t < KG; ++t) s += std::int32_t(ag[r * KG + t]) * std::int32_t(bg[j * KG + t]);
          acc[r][j] += s;
        }
    }
    for (int r = 0; r < mr; ++r)
      for (int j = 0; j < nr; ++j) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet
