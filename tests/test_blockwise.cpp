// Block-wise scales in the LLM.int8() layer (LLMInt8Options::block_size): X quantized per row and block of k, W per
// column and block, int32 sums per block scaled and accumulated in float inside the GEMM.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include <Eigen/Core>

#include "catch.hpp"
#include "helpers.hpp"
#include <octet/llm_int8.hpp>

namespace {

using octet::Isa;
using octet::LLMInt8Linear;
using octet::LLMInt8Options;
using Eigen::Index;
using Eigen::MatrixXf;

MatrixXf random_f(Index rows, Index cols, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  MatrixXf m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = dist(gen);
  return m;
}

/// The block-wise layer computed independently: codes and steps from the AbsMax scheme per block (X over the
/// non-outlier columns, whose codes are 0; W over every row), each block's integer sum exact, the scaled sums,
/// the outlier product (X's outlier columns times W's dequantized int8 rows) and the bias in double.
Eigen::MatrixXd reference(const MatrixXf& x, const MatrixXf& w, Index g, float threshold, const Eigen::VectorXf& bias,
                          Eigen::MatrixXf* wsteps_out = nullptr) {
  const Index m = x.rows(), k = x.cols(), n = w.cols(), blocks = (k + g - 1) / g;
  std::vector<bool> outlier(static_cast<std::size_t>(k), false);
  for (Index c = 0; c < k; ++c) outlier[static_cast<std::size_t>(c)] = x.col(c).cwiseAbs().maxCoeff() > threshold;
  Eigen::MatrixXi xc(m, k), wc(k, n);
  Eigen::MatrixXf sx(m, blocks), sw(blocks, n);
  for (Index b = 0; b < blocks; ++b) {
    const Index c0 = b * g, len = std::min(g, k - c0);
    for (Index i = 0; i < m; ++i) {
      float a = 0.0f;
      for (Index c = c0; c < c0 + len; ++c)
        if (!outlier[static_cast<std::size_t>(c)]) a = std::max(a, std::abs(x(i, c)));
      const auto p = octet::AbsMax::make_params(a, a);
      sx(i, b) = p.step;
      for (Index c = c0; c < c0 + len; ++c) xc(i, c) = outlier[static_cast<std::size_t>(c)] ? 0 : octet::AbsMax::quantize_one(p, x(i, c));
    }
    for (Index j = 0; j < n; ++j) {
      const float a = w.col(j).segment(c0, len).cwiseAbs().maxCoeff();
      const auto p = octet::AbsMax::make_params(a, a);
      sw(b, j) = p.step;
      for (Index c = c0; c < c0 + len; ++c) wc(c, j) = octet::AbsMax::quantize_one(p, w(c, j));
    }
  }
  if (wsteps_out) *wsteps_out = sw;
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(m, n);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j) {
      double acc = 0.0;
      for (Index b = 0; b < blocks; ++b) {
        std::int64_t s = 0;
        for (Index c = b * g; c < std::min(k, (b + 1) * g); ++c) s += std::int64_t(xc(i, c)) * wc(c, j);
        acc += double(s) * sx(i, b) * sw(b, j);
      }
      for (Index c = 0; c < k; ++c)
        if (outlier[static_cast<std::size_t>(c)]) acc += double(x(i, c)) * (double(wc(c, j)) * sw(c / g, j));
      if (bias.size()) acc += bias(j);
      y(i, j) = acc;
    }
  return y;
}

/// |a - b| within a few float roundings of the magnitudes summed.
void check_close(const MatrixXf& got, const Eigen::MatrixXd& want, const Eigen::MatrixXd& scale) {
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  for (Index i = 0; i < got.rows(); ++i)
    for (Index j = 0; j < got.cols(); ++j) {
      INFO("at (" << i << ", " << j << ")");
      REQUIRE(std::abs(double(got(i, j)) - want(i, j)) <= 1e-5 * scale(i, j) + 1e-30);
    }
}

/// Sum of |terms| of each output: |X| |W| (the scale of float rounding errors).
Eigen::MatrixXd magnitude(const MatrixXf& x, const MatrixXf& w, const Eigen::VectorXf& bias) {
  Eigen::MatrixXd s = x.cast<double>().cwiseAbs() * w.cast<double>().cwiseAbs();
  if (bias.size()) s.rowwise() += bias.cast<double>().cwiseAbs().transpose();
  return s;
}

LLMInt8Options block_options(Index g, Isa isa) {
  LLMInt8Options o;
  o.block_size = g;
  o.isa = isa;
  return o;
}

bool same_bits(const MatrixXf& a, const MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0);
}

}  // namespace

TEST_CASE("blockwise: the layer against an independent reference, shapes around block and tile edges", "[blockwise]") {
  std::uint32_t seed = 1;
  for (Isa isa : octet::supported_isas()) {
    for (Index g : {32, 64, 128, 256}) {
      for (Index k : {Index(1), g - 1, g, g + 1, 2 * g + 1, Index(513), Index(1030)}) {
        for (Index m : {1, 3, 5, 25, 70}) {
          for (Index n : {1, 17, 40}) {
            if ((m > 5 && n > 17 && k > 600) || (g > 64 && m == 70)) continue;  // keep the test quick
            MatrixXf x = random_f(m, k, ++seed), w = random_f(k, n, ++seed, 0.1f);
            if (k > 3) x.col(k / 2) *= 20.0f;  // an outlier column (threshold 6)
            Eigen::VectorXf bias = Eigen::VectorXf::LinSpaced(n, -1.0f, 1.0f);
            LLMInt8Options o = block_options(g, isa);
            o.bias = bias;
            const LLMInt8Linear layer(w, 6.0f, o);
            INFO(octet::isa_name(isa) << " g=" << g << " m=" << m << " k=" << k << " n=" << n);
            Eigen::MatrixXf wsteps;
            const Eigen::MatrixXd want = reference(x, w, g, 6.0f, bias, &wsteps);
            CHECK(Eigen::MatrixXf(layer.weight_steps()) == wsteps);
            check_close(layer(x), want, magnitude(x, w, bias));
          }
        }
      }
    }
  }
}

TEST_CASE("blockwise: the layer's weight steps and codes are PerColumnBlock's", "[blockwise]") {
  const MatrixXf w = random_f(300, 21, 31);
  for (Isa isa : octet::supported_isas()) {
    INFO(octet::isa_name(isa));
    const LLMInt8Linear l32(w, 6.0f, block_options(32, isa));
    const auto q32 = octet::quantize<octet::AbsMax, octet::PerColumnBlock<32>>(w);
    CHECK(Eigen::MatrixXf(l32.weight_steps()) == q32.step);
    CHECK(l32.weight_codes() == q32.codes);
    const LLMInt8Linear l128(w, 6.0f, block_options(128, isa));
    const auto q128 = octet::quantize<octet::AbsMax, octet::PerColumnBlock<128>>(w);
    CHECK(Eigen::MatrixXf(l128.weight_steps()) == q128.step);
    CHECK(l128.weight_codes() == q128.codes);
  }
}

TEST_CASE("blockwise: every ISA path and thread count gives bit-identical results", "[blockwise]") {
  for (Index g : {32, 64, 256}) {
    const Index m = 53, k = 1100, n = 70;
    MatrixXf x = random_f(m, k, 7), w = random_f(k, n, 8, 0.05f);
    x.col(3) *= 30.0f;
    x.col(700) *= 30.0f;
    const LLMInt8Linear reference_layer(w, 6.0f, block_options(g, Isa::scalar));
    const MatrixXf want = reference_layer(x), want_row = reference_layer(x.topRows(1));
    for (Isa isa : octet::supported_isas()) {
      const LLMInt8Linear layer(w, 6.0f, block_options(g, isa));
      for (int threads : {1, 2}) {
        octet_test::ThreadScope scope(threads);
        INFO(octet::isa_name(isa) << " g=" << g << " threads=" << threads);
        CHECK(same_bits(layer(x), want));
        CHECK(same_bits(layer(x.topRows(1)), want_row));  // the few-rows (whole depth) path
      }
    }
  }
}

TEST_CASE("blockwise: extreme codes and the deepest k", "[blockwise]") {
  for (Isa isa : octet::supported_isas()) {
    // Every code at +-127 (alternating signs in X, one sign in W): the largest block sums, over the deepest k.
    const Index k = octet::detail::max_depth, m = 2, n = 17;
    MatrixXf x(m, k), w(k, n);
    for (Index c = 0; c < k; ++c) {
      x(0, c) = (c % 2) ? -1.0f : 1.0f;
      x(1, c) = 1.0f;
      for (Index j = 0; j < n; ++j) w(c, j) = (j % 2) ? -0.5f : 0.5f;
    }
    const LLMInt8Linear layer(w, 6.0f, block_options(256, isa));
    const MatrixXf y = layer(x);
    INFO(octet::isa_name(isa));
    const Eigen::MatrixXd want = reference(x, w, 256, 6.0f, Eigen::VectorXf());
    check_close(y, want, magnitude(x, w, Eigen::VectorXf()));
    CHECK(y(1, 0) == Approx(0.5 * k).epsilon(1e-6));
  }
}

TEST_CASE("blockwise: huge and tiny values, zero blocks and k = 0", "[blockwise]") {
  for (Isa isa : octet::supported_isas()) {
    INFO(octet::isa_name(isa));
    const Index k = 100, n = 9;
    MatrixXf x = random_f(4, k, 3), w = random_f(k, n, 4);
    x.row(0) *= 1e30f;    // C * sx overflows for some blocks: the dequant order rule
    x.row(1) *= 1e-38f;   // subnormal steps
    x.row(2).segment(32, 32).setZero();  // an all-zero block: contributes 0, never NaN
    w.col(3).setZero();
    const LLMInt8Linear layer(w, std::numeric_limits<float>::infinity(), block_options(32, isa));
    const MatrixXf y = layer(x);
    CHECK(y.allFinite());
    CHECK(y.col(3).isZero(0));
    const MatrixXf want = LLMInt8Linear(w, std::numeric_limits<float>::infinity(), block_options(32, Isa::scalar))(x);
    CHECK(same_bits(y, want));
    check_close(y.bottomRows(2), reference(x, w, 32, std::numeric_limits<float>::infinity(), Eigen::VectorXf()).bottomRows(2),
                magnitude(x, w, Eigen::VectorXf()).bottomRows(2));

    Eigen::VectorXf bias = Eigen::VectorXf::Constant(n, 2.0f);
    LLMInt8Options o = block_options(64, isa);
    o.bias = bias;
    const LLMInt8Linear empty(MatrixXf(0, n), 6.0f, o);  // k = 0: bias only
    CHECK(empty(MatrixXf(3, 0)) == MatrixXf::Constant(3, n, 2.0f));
    CHECK(empty.weight_steps().rows() == 1);
  }
}

TEST_CASE("blockwise: options, prequantized weights, save and load", "[blockwise]") {
  const MatrixXf w = random_f(300, 20, 11), x = random_f(7, 300, 12);
  for (Index bad : {-32, 1, 16, 48, 100, 512})
    CHECK_THROWS_AS(LLMInt8Linear(w, 6.0f, block_options(bad, Isa::scalar)), std::invalid_argument);
  for (Isa isa : octet::supported_isas()) {
    INFO(octet::isa_name(isa));
    const LLMInt8Linear layer(w, 6.0f, block_options(64, isa));
    CHECK(layer.block_size() == 64);
    CHECK(layer.weight_steps().rows() == 5);
    CHECK(layer.weight_steps().cols() == 20);
    const MatrixXf y = layer(x);

    const LLMInt8Linear again = LLMInt8Linear::from_quantized(layer.weight_codes(), layer.weight_steps(), 6.0f,
                                                              block_options(64, isa));
    CHECK(same_bits(again(x), y));
    CHECK_THROWS_AS(LLMInt8Linear::from_quantized(layer.weight_codes(), layer.weight_steps().topRows(4), 6.0f,
                                                  block_options(64, isa)),
                    std::invalid_argument);
    // weight_codes()'s documented recipe: the steps as weight_step() gives them (blocks x n, block after block).
    const LLMInt8Linear recipe = LLMInt8Linear::from_quantized(layer.weight_codes(), layer.weight_step(), 6.0f,
                                                               block_options(64, isa));
    CHECK(same_bits(recipe(x), y));
    CHECK(same_bits(recipe.weight_step(), layer.weight_step()));
    CHECK_THROWS_AS(LLMInt8Linear::from_quantized(layer.weight_codes(), layer.weight_step().head(99), 6.0f,
                                                  block_options(64, isa)),
                    std::invalid_argument);

    std::stringstream file;
    layer.save(file);
    const LLMInt8Linear loaded = LLMInt8Linear::load(file, isa);
    CHECK(loaded.block_size() == 64);
    CHECK(same_bits(loaded(x), y));
    // A vector-wise layer still writes version 1, byte for byte as before block sizes existed.
    std::stringstream v1;
    LLMInt8Linear(w, 6.0f).save(v1);
    CHECK(v1.str()[8] == 1);
  }
}

TEST_CASE("blockwise: block scales beat vector-wise scales on rows with a few large values", "[blockwise]") {
  // Rows whose magnitude varies along k (as in LLM activations): per-block steps keep the small values' precision.
  const Index m = 16, k = 1024, n = 64;
  MatrixXf x = random_f(m, k, 21), w = random_f(k, n, 22, 0.05f);
  for (Index c = 0; c < k; c += 97) x.col(c) *= 5.0f;  // large, but below the threshold
  const Eigen::MatrixXd exact = x.cast<double>() * w.cast<double>();
  auto error = [&](Index g) {
    const MatrixXf y = LLMInt8Linear(w, 6.0f, block_options(g, octet::active_isa_id()))(x);
    return (y.cast<double>() - exact).norm() / exact.norm();
  };
  const double vectorwise = error(0), block32 = error(32);
  INFO("relative error: vector-wise " << vectorwise << ", blocks of 32 " << block32);
  CHECK(block32 < 0.7 * vectorwise);
}
