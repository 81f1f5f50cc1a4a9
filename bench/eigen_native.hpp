// Eigen's float GEMM compiled with -march=native, as a user tuning Eigen for this machine would build it.
//
// The benchmarks themselves are built without -m flags (like octet's users), which leaves Eigen on SSE2. To
// compare with Eigen at its best as well, bench/eigen_native.cpp is compiled with -march=native into its own
// shared library with hidden symbols, so that its Eigen instantiations never mix with the benchmark's.
#pragma once

extern "C" {
/// C (m x n) = A (m x k) * B (k x n), all column-major float, with Eigen's own `threads` threads.
void octet_bench_eigen_native_gemm(long m, long n, long k, const float* a, const float* b, float* c, int threads);
/// The SIMD instruction sets this Eigen build uses (Eigen::SimdInstructionSetsInUse()).
const char* octet_bench_eigen_native_isa();
}
