// A tour of octet's quantizers: the same tensors quantized by the four schemes at the three granularities,
// with the error of each round trip (quantize, then dequantize) measured by octet::error_stats.
//
// Build and run:  g++ -std=c++17 -O2 -I include -I /usr/include/eigen3 examples/quantization_tour.cpp && ./a.out
//
// What to look for:
//   - normal data (roughly symmetric around 0): all schemes are close; AbsMax is a little behind, because it
//     spreads its codes over [-max|x|, max|x|], which is wider than [min, max].
//   - post-ReLU data (max(0, normal), half of it exactly 0): AbsMax wastes its negative codes, so ZeroPoint
//     and MinMax, which spend all 256 codes on [min, max], halve its error (+6 dB, one bit). MidRange does
//     not: its minimum always falls on a rounding tie (-127.5), so every exact 0 comes back off by step/2.
//   - one outlier: every value that shares a group with the outlier gets a coarse step. Per tensor that is
//     everything; per row or per column only one row or column suffers -- the case for vector-wise quantization
//     (and, taken further, for LLM.int8(), which keeps the outlier columns in floating point).
#include <octet/octet.hpp>

#include <Eigen/Core>

#include <cstdio>
#include <random>
#include <string>

namespace {

// A rows x cols matrix of standard normal values from a fixed seed, so every run prints the same figures.
Eigen::MatrixXf normal_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Eigen::MatrixXf x(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) x(i, j) = normal(rng);
  return x;
}

// One line of the table: quantize x with Scheme at Granularity, dequantize, compare with x.
template <class Scheme, class Granularity>
void report(const char* granularity, const Eigen::MatrixXf& x) {
  const auto q = octet::quantize<Scheme, Granularity>(x);
  const octet::ErrorStats e = octet::error_stats(x, q.dequantize());
  std::printf("  %-10s %-11s %12.6f %12.6f %10.2f\n", Scheme::name, granularity, e.mean_abs, e.max_abs,
              e.sqnr_db);
}

template <class Scheme>
void report_all_granularities(const Eigen::MatrixXf& x) {
  report<Scheme, octet::PerTensor>("per tensor", x);
  report<Scheme, octet::PerRow>("per row", x);
  report<Scheme, octet::PerColumn>("per column", x);
}

void table(const std::string& title, const Eigen::MatrixXf& x) {
  std::printf("%s  (%ldx%ld, min %.3f, max %.3f)\n", title.c_str(), static_cast<long>(x.rows()),
              static_cast<long>(x.cols()), static_cast<double>(x.minCoeff()), static_cast<double>(x.maxCoeff()));
  std::printf("  %-10s %-11s %12s %12s %10s\n", "scheme", "groups", "mean |err|", "max |err|", "SQNR dB");
  report_all_granularities<octet::AbsMax>(x);
  report_all_granularities<octet::ZeroPoint>(x);
  report_all_granularities<octet::MidRange>(x);
  report_all_granularities<octet::MinMax>(x);
  std::printf("\n");
}

}  // namespace

int main() {
  std::printf(
      "octet quantization tour: x is quantized to 8-bit codes and dequantized back to x_hat;\n"
      "the columns are mean |x - x_hat|, max |x - x_hat| and SQNR = 10 log10(sum x^2 / sum (x - x_hat)^2)\n"
      "(higher is better; each extra bit of precision adds about 6 dB).\n\n");

  const Eigen::MatrixXf normal = normal_matrix(64, 128, 42u);
  table("normal data", normal);

  const Eigen::MatrixXf relu = normal.cwiseMax(0.0f);
  table("post-ReLU data, max(0, normal)", relu);

  Eigen::MatrixXf outlier = normal;
  outlier(17, 93) = 40.0f;  // one value some 10x larger than the rest, as in LLM activations
  table("normal data with one outlier of 40 at (17, 93)", outlier);

  // Ten values of a worked example of LMDeploy's KV-cache int8 schemes (docs/quantization.md, "Ties"):
  // np.random.seed(0); np.random.randint(0, 10, (10,)) + np.cos(np.random.uniform(0, 10, (10,))). Per tensor.
  Eigen::RowVectorXf values(10);
  values << 4.01378717f, 0.84344637f, 2.08489566f, 3.06421797f, 6.73548049f, 9.08727158f, 2.29349957f,
      4.51461278f, 1.0268764f, 4.98035689f;
  const auto mid = octet::quantize<octet::MidRange>(values);
  const auto from_min = octet::quantize<octet::MinMax>(values);
  std::printf("ten values of a KV-cache int8 example (docs/quantization.md)\n  x        ");
  for (Eigen::Index i = 0; i < values.size(); ++i) std::printf("%6.2f", static_cast<double>(values(i)));
  std::printf("\n  MidRange ");
  for (Eigen::Index i = 0; i < values.size(); ++i) std::printf("%6d", static_cast<int>(mid.codes(0, i)));
  std::printf("   (c = %.4f, step = %.5f)\n  MinMax   ", static_cast<double>(mid.offset(0)),
              static_cast<double>(mid.step(0)));
  for (Eigen::Index i = 0; i < values.size(); ++i) std::printf("%6d", static_cast<int>(from_min.codes(0, i)));
  std::printf("   (min = %.4f, step = %.5f)\n", static_cast<double>(from_min.offset(0)),
              static_cast<double>(from_min.step(0)));
  std::printf(
      "  The minimum gets -128, not NumPy's -127: (min - c)/step is exactly -127.5 in real arithmetic,\n"
      "  a tie that octet's float32 rounding (half to even) sends to -128; NumPy's float64 landed just above.\n");
  return 0;
}
