// Shared test helpers: seeded random matrices and the reference product.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include <octet/gemm.hpp>

namespace octet_test {

inline octet::MatrixXi8 random_i8(Eigen::Index rows, Eigen::Index cols, std::uint32_t seed, int lo = -128,
                                  int hi = 127) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  octet::MatrixXi8 m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = static_cast<std::int8_t>(dist(gen));
  return m;
}

/// The scalar reference product of two column-major int8 matrices.
inline octet::MatrixXi32 reference_product(const octet::MatrixXi8& a, const octet::MatrixXi8& b) {
  octet::MatrixXi32 c(a.rows(), b.cols());
  octet::reference::gemm_i8(a.rows(), b.cols(), a.cols(), a.data(), 1, a.rows(), b.data(), 1, b.rows(), c.data(), 1,
                            c.rows());
  return c;
}

/// Sets the thread count for the lifetime of the object.
struct ThreadScope {
  explicit ThreadScope(int n) { octet::set_num_threads(n); }
  ~ThreadScope() { octet::set_num_threads(0); }
};

}  // namespace octet_test
