// The passes of LLMInt8Linear around the GEMM (the scan of X, its row quantization) split across threads: the
// results are bit-identical on 1, 2 and 3 threads, on every path, to the scalar path on one thread, for shapes on
// both sides of the sizes at which the passes go parallel.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include <octet/octet.hpp>

#include "catch.hpp"
#include "helpers.hpp"

namespace {

using Eigen::Index;
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::MatrixXf normal(Index rows, Index cols, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  Eigen::MatrixXf m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = dist(gen);
  return m;
}

bool same_bits(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Index j = 0; j < a.cols(); ++j)
    for (Index i = 0; i < a.rows(); ++i)
      if (std::memcmp(&a(i, j), &b(i, j), sizeof(float)) != 0) return false;
  return true;
}

octet::LLMInt8Options on(octet::Isa isa, octet::Semantics s = octet::Semantics::paper) {
  octet::LLMInt8Options o;
  o.isa = isa;
  o.semantics = s;
  return o;
}

}  // namespace

TEST_CASE("parallel passes: LLMInt8Linear is bit-identical on 1, 2 and 3 threads and every path", "[threads]") {
  // (m, k): below every threshold; the quantization parallel, the scan not; both parallel (row blocks of
  // uneven size); four rows, deep (as many threads as rows, or fewer); one row, the quantization parallel.
  const Index shapes[][2] = {{3, 50}, {9, 4000}, {67, 4001}, {4, 65536}, {1, 40000}};
  const Index n = 16;
  std::uint32_t seed = 4200;
  for (const auto& shape : shapes) {
    const Index m = shape[0], k = shape[1];
    Eigen::MatrixXf x = normal(m, k, seed++);
    x.col(k / 2) *= 20.0f;  // an outlier column
    x(0, k / 2) = -40.0f;
    if (m > 2) x(m - 1, 3) = 30.0f;  // and one from a single value in the last row
    const Eigen::MatrixXf w = normal(k, n, seed++);
    const RowMajorF x_rm = x;
    const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x_bf = x.cast<Eigen::bfloat16>();
    for (octet::Semantics s : {octet::Semantics::paper, octet::Semantics::bitsandbytes}) {
      INFO("m=" << m << " k=" << k << (s == octet::Semantics::paper ? " paper" : " bitsandbytes"));
      Eigen::MatrixXf expect, expect_bf;
      octet::LLMInt8Stats expect_stats;
      {
        octet_test::ThreadScope one(1);
        const octet::LLMInt8Linear ref(w, 6.0f, on(octet::Isa::scalar, s));
        expect = ref(x, &expect_stats);
        REQUIRE(expect_stats.outlier_columns.size() >= (m > 2 ? 2u : 1u));
        expect_bf = ref(x_bf);
        REQUIRE(same_bits(ref(x_rm), expect));
      }
      for (octet::Isa isa : octet::supported_isas()) {
        const octet::LLMInt8Linear layer(w, 6.0f, on(isa, s));
        for (int threads : {1, 2, 3}) {
          INFO("isa " << octet::isa_name(isa) << ", " << threads << " threads");
          octet_test::ThreadScope scope(threads);
          octet::LLMInt8Stats stats;
          CHECK(same_bits(layer(x, &stats), expect));
          CHECK(stats.outlier_columns == expect_stats.outlier_columns);
          CHECK(same_bits(layer(x_rm), expect));
          CHECK(same_bits(layer(x_bf), expect_bf));
        }
      }
    }
  }
}

TEST_CASE("parallel passes: a non-finite X is reported the same way on any thread count", "[threads]") {
  for (const Index m : {5, 80}) {
    RowMajorF x = normal(m, 4096, 4300);
    x(m - 2, 1000) = std::numeric_limits<float>::quiet_NaN();
    const octet::LLMInt8Linear layer(normal(4096, 8, 4301));
    std::string first;
    for (int threads : {1, 2, 3}) {
      octet_test::ThreadScope scope(threads);
      std::string what;
      try {
        (void)layer(x);
      } catch (const std::domain_error& e) {
        what = e.what();
      }
      INFO(threads << " threads, m=" << m);
      CHECK(what.find("(row " + std::to_string(m - 2) + ", column 1000)") != std::string::npos);
      if (first.empty()) first = what;
      CHECK(what == first);
    }
  }
}
