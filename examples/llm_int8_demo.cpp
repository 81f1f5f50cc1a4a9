// octet's main demo: LLM.int8() on activations with outlier features.
//
// Large language models (above ~6.7B parameters) grow a few "outlier features": hidden dimensions whose values
// are 20-60x larger than the rest. Plain int8 quantization spends its 255 codes on those and loses the rest;
// LLM.int8() multiplies the outlier dimensions in float and everything else in int8. This program shows
//   1. which columns of X were routed to float,
//   2. the error of per-tensor int8, vector-wise int8 and LLM.int8() against the float product,
//   3. the speed of a prepared LLMInt8Linear layer against Eigen's float product.
#include <octet/llm_int8.hpp>
#include <octet/quantize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace {

Eigen::MatrixXf normal(Eigen::Index rows, Eigen::Index cols, unsigned seed, float sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  Eigen::MatrixXf x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = dist(gen);
  return x;
}

/// Standard normal activations in which a few feature dimensions are scaled x20..x60.
Eigen::MatrixXf activations(Eigen::Index tokens, Eigen::Index features, const std::vector<Eigen::Index>& outliers,
                            unsigned seed) {
  Eigen::MatrixXf x = normal(tokens, features, seed, 1.0f);
  for (std::size_t f = 0; f < outliers.size(); ++f) x.col(outliers[f]) *= 20.0f + 40.0f * float(f) / float(outliers.size());
  return x;
}

double relative_error(const Eigen::MatrixXf& y, const Eigen::MatrixXd& exact) {
  return (y.cast<double>() - exact).norm() / exact.norm();
}

template <class F>
double median_ms(F&& f, int runs) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main() {
  std::printf("octet LLM.int8() demo (int8 kernels: %s, %d threads)\n\n", octet::active_isa(), octet::num_threads());

  // 1. Which columns go to float.
  const Eigen::Index tokens = 64, d = 1024;
  const std::vector<Eigen::Index> planted = {17, 301, 655, 900};
  const Eigen::MatrixXf x = activations(tokens, d, planted, 1);
  const Eigen::MatrixXf w = normal(d, d, 2, 0.02f);
  const std::vector<Eigen::Index> cols = octet::outlier_columns(x, 6.0f);
  std::printf("X: %ld tokens x %ld features, standard normal, features 17 301 655 900 scaled x20..x50\n",
              long(tokens), long(d));
  std::printf("W: %ld x %ld, normal(0, 0.02)\n\n", long(d), long(d));
  std::printf("columns of X routed to float (some |x| > 6):");
  for (Eigen::Index c : cols) std::printf(" %ld", long(c));
  std::printf("   (%zu of %ld = %.2f%%)\n\n", cols.size(), long(d), 100.0 * double(cols.size()) / double(d));

  // 2. Accuracy against the exact product.
  const Eigen::MatrixXd exact = x.cast<double>() * w.cast<double>();
  const Eigen::MatrixXf per_tensor = octet::matmul(octet::quantize<octet::AbsMax, octet::PerTensor>(x),
                                                   octet::quantize<octet::AbsMax, octet::PerTensor>(w));
  const octet::LLMInt8Linear layer(w);
  std::printf("error against float (relative, ||Y - XW|| / ||XW||):\n");
  std::printf("  %-38s %8.3f%%\n", "int8, per-tensor absmax", 100.0 * relative_error(per_tensor, exact));
  std::printf("  %-38s %8.3f%%\n", "int8, vector-wise (row/column absmax)",
              100.0 * relative_error(octet::matmul_vectorwise(x, w), exact));
  std::printf("  %-38s %8.3f%%\n", "LLM.int8() (threshold 6)", 100.0 * relative_error(octet::matmul_llm_int8(x, w), exact));
  octet::LLMInt8Options keep_float;
  keep_float.outlier_weights = octet::OutlierWeights::float32;
  const octet::LLMInt8Linear layer_f32(w, 6.0f, keep_float);
  std::printf("  %-38s %8.3f%%\n", "LLMInt8Linear, outliers x int8 W (bnb)", 100.0 * relative_error(layer(x), exact));
  std::printf("  %-38s %8.3f%%\n", "LLMInt8Linear, outliers x float W", 100.0 * relative_error(layer_f32(x), exact));
  std::printf("\n");

  // 3. Speed of a prepared layer against Eigen float.
  const Eigen::Index k = 4096, n = 4096;
  const Eigen::MatrixXf big_w = normal(k, n, 3, 0.02f);
  const octet::LLMInt8Linear big(big_w);
  const int all_threads = octet::num_threads();
  std::printf("speed, W %ld x %ld, one outlier feature in X (median of 5 runs):\n", long(k), long(n));
  std::printf("  %7s %6s %14s %16s %9s\n", "threads", "tokens", "Eigen float", "LLMInt8Linear", "speed-up");
  for (int threads : {1, all_threads}) {
    octet::set_num_threads(threads);
    Eigen::setNbThreads(threads);
    for (Eigen::Index m : {1, 32, 128}) {
      const Eigen::MatrixXf xm = activations(m, k, {1234}, 4);
      Eigen::MatrixXf y_f(m, n), y_q;
      const double t_f = median_ms([&] { y_f.noalias() = xm * big_w; }, 5);
      const double t_q = median_ms([&] { y_q = big(xm); }, 5);
      std::printf("  %7d %6ld %11.2f ms %13.2f ms %8.1fx\n", threads, long(m), t_f, t_q, t_f / t_q);
    }
    if (all_threads == 1) break;
  }
  std::printf("\nmemory: float W %.1f MiB, prepared layer %.1f MiB (%.2f bytes per weight)\n",
              double(k * n * 4) / 1048576.0, double(big.bytes()) / 1048576.0, double(big.bytes()) / double(k * n));
  return 0;
}
