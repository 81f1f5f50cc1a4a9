// octet — the portable kernel: plain C++ on the packed layout, for machines without a SIMD path.
//
// The kernel contract (what every kernel struct provides) is in kernels/contract.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "contract.hpp"

namespace octet {
namespace detail {
namespace kernels {

struct Scalar : Int8Operands {
  static constexpr const char* name = "scalar";
  static constexpr int MR = 4, NR = 16, KG = 4;
  static constexpr std::ptrdiff_t MC = 64, KC = 1024, NC = 256;


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
