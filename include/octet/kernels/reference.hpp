// octet — the scalar reference: C(int32) = A(int8) * B(int8), a plain triple loop on pointers and strides.
//
// Every kernel path is tested against this function. It accumulates in int64 and is deliberately naive:
// it is the definition of the result, not a fast path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace octet {
namespace reference {

/// C(i,j) = sum_p A(i,p) * B(p,j). Element (i,j) of a matrix X lives at x[i*x_rs + j*x_cs].
inline void gemm_i8(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,                  //
                    const std::int8_t* a, std::ptrdiff_t a_rs, std::ptrdiff_t a_cs,       //
                    const std::int8_t* b, std::ptrdiff_t b_rs, std::ptrdiff_t b_cs,       //
                    std::int32_t* c, std::ptrdiff_t c_rs, std::ptrdiff_t c_cs) {
  for (std::ptrdiff_t i = 0; i < m; ++i)
    for (std::ptrdiff_t j = 0; j < n; ++j) {
      std::int64_t acc = 0;
      for (std::ptrdiff_t p = 0; p < k; ++p)
        acc += static_cast<std::int64_t>(a[i * a_rs + p * a_cs]) * static_cast<std::int64_t>(b[p * b_rs + j * b_cs]);
      c[i * c_rs + j * c_cs] = static_cast<std::int32_t>(acc);
    }
}

}  // namespace reference
}  // namespace octet
