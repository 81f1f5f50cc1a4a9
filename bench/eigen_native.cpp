// See eigen_native.hpp. Compiled with -march=native -fvisibility=hidden into a shared library.
#include "eigen_native.hpp"

#include <Eigen/Core>

extern "C" __attribute__((visibility("default"))) void octet_bench_eigen_native_gemm(long m, long n, long k,
                                                                                    const float* a, const float* b,
                                                                                    float* c, int threads) {
  Eigen::setNbThreads(threads);
  Eigen::Map<const Eigen::MatrixXf> ma(a, m, k), mb(b, k, n);
  Eigen::Map<Eigen::MatrixXf> mc(c, m, n);
  mc.noalias() = ma * mb;
}

extern "C" __attribute__((visibility("default"))) const char* octet_bench_eigen_native_isa() {
  return Eigen::SimdInstructionSetsInUse();
}
