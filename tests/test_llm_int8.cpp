// LLM.int8(): matmul_vectorwise, matmul_llm_int8, LLMInt8Linear and the integer-domain matmul(qa, qb), against
// plain scalar references written here, on every kernel path and thread count.
#include <octet/llm_int8.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "helpers.hpp"

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::MatrixXf;
using octet::LLMInt8Linear;
using octet::LLMInt8Options;
using octet::OutlierWeights;

namespace {

MatrixXf normal(Index rows, Index cols, std::uint32_t seed, float sigma = 1.0f, float mean = 0.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(mean, sigma);
  MatrixXf m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = dist(gen);
  return m;
}

/// Activations with emergent outlier features: a few feature dimensions (columns) scaled by 20..60.
MatrixXf with_outlier_features(MatrixXf x, const std::vector<Index>& features) {
  for (std::size_t f = 0; f < features.size(); ++f) x.col(features[f]) *= 20.0f + 40.0f * float(f) / float(std::max<std::size_t>(features.size() - 1, 1));
  return x;
}

/// The plain scalar reference of LLM.int8() (matmul_vectorwise when threshold = +inf), written from the
/// definition: outlier columns of X (some |x| > threshold); X rows AbsMax-quantized over the other columns, W
/// columns over the other rows (or over all rows: LLMInt8Linear's prepared weights); int64 products of the
/// codes; dequantized as C * step_x * step_w; plus X's outlier columns times W's matching rows, either float
/// (the paper) or dequantized int8 (bitsandbytes). Also returns, per element, a bound on |terms| for
/// tolerances.
struct Reference {
  MatrixXd y, magnitude;
  std::vector<Index> outliers;
};

Reference reference_llm(const MatrixXf& x, const MatrixXf& w, float threshold, bool w_scale_all_rows = false,
                        bool dequantized_outlier_weights = false) {
  const Index m = x.rows(), k = x.cols(), n = w.cols();
  Reference ref;
  std::vector<bool> outlier(static_cast<std::size_t>(k), false);
  for (Index p = 0; p < k; ++p) {
    for (Index i = 0; i < m; ++i)
      if (std::abs(x(i, p)) > threshold) outlier[static_cast<std::size_t>(p)] = true;
    if (outlier[static_cast<std::size_t>(p)]) ref.outliers.push_back(p);
  }
  auto quantize = [](float v, float amax) -> int {
    if (amax == 0.0f) return 0;
    const float s = 127.0f / amax;
    return static_cast<int>(std::max(-127.0f, std::min(127.0f, std::nearbyint(s * v))));
  };
  std::vector<float> sx(static_cast<std::size_t>(m)), sw(static_cast<std::size_t>(n));
  std::vector<std::vector<int>> qx(static_cast<std::size_t>(m), std::vector<int>(static_cast<std::size_t>(k)));
  std::vector<std::vector<int>> qw(static_cast<std::size_t>(n), std::vector<int>(static_cast<std::size_t>(k)));
  for (Index i = 0; i < m; ++i) {
    float amax = 0.0f;
    for (Index p = 0; p < k; ++p)
      if (!outlier[static_cast<std::size_t>(p)]) amax = std::max(amax, std::abs(x(i, p)));
    sx[static_cast<std::size_t>(i)] = amax / 127.0f;
    for (Index p = 0; p < k; ++p)
      qx[static_cast<std::size_t>(i)][static_cast<std::size_t>(p)] = outlier[static_cast<std::size_t>(p)] ? 0 : quantize(x(i, p), amax);
  }
  for (Index j = 0; j < n; ++j) {
    float amax = 0.0f;
    for (Index p = 0; p < k; ++p)
      if (w_scale_all_rows || !outlier[static_cast<std::size_t>(p)]) amax = std::max(amax, std::abs(w(p, j)));
    sw[static_cast<std::size_t>(j)] = amax / 127.0f;
    for (Index p = 0; p < k; ++p) qw[static_cast<std::size_t>(j)][static_cast<std::size_t>(p)] = quantize(w(p, j), amax);
  }
  ref.y.resize(m, n);
  ref.magnitude.resize(m, n);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j) {
      const auto ui = static_cast<std::size_t>(i), uj = static_cast<std::size_t>(j);
      long long c = 0, cabs = 0;
      double out = 0.0, out_abs = 0.0;
      for (Index p = 0; p < k; ++p) {
        const auto up = static_cast<std::size_t>(p);
        if (outlier[up]) {
          const double wv = dequantized_outlier_weights ? double(float(qw[uj][up]) * sw[uj]) : double(w(p, j));
          out += double(x(i, p)) * wv;
          out_abs += std::abs(double(x(i, p)) * wv);
        } else {
          c += static_cast<long long>(qx[ui][up]) * qw[uj][up];
          cabs += std::abs(static_cast<long long>(qx[ui][up]) * qw[uj][up]);
        }
      }
      ref.y(i, j) = double(c) * sx[ui] * sw[uj] + out;
      ref.magnitude(i, j) = double(cabs) * sx[ui] * sw[uj] + out_abs;
    }
  return ref;
}

/// |got - ref| within float rounding of the terms: any code off by one, or a wrong scale, is far outside.
void check_close(const MatrixXf& got, const Reference& ref, double rel = 2e-6) {
  REQUIRE(got.rows() == ref.y.rows());
  REQUIRE(got.cols() == ref.y.cols());
  double worst = 0.0;
  for (Index j = 0; j < got.cols(); ++j)
    for (Index i = 0; i < got.rows(); ++i) {
      const double err = std::abs(double(got(i, j)) - ref.y(i, j));
      const double tol = rel * ref.magnitude(i, j) + 1e-30;
      worst = std::max(worst, err / tol);
    }
  CHECK(worst <= 1.0);
}

/// Exact product in double.
MatrixXd exact(const MatrixXf& x, const MatrixXf& w) { return x.cast<double>() * w.cast<double>(); }

double relative_error(const MatrixXf& got, const MatrixXd& ref) { return (got.cast<double>() - ref).norm() / ref.norm(); }

bool bit_identical(const MatrixXf& a, const MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

LLMInt8Options options_for(octet::Isa isa, OutlierWeights ow = OutlierWeights::dequantized_int8) {
  LLMInt8Options o;
  o.isa = isa;
  o.outlier_weights = ow;
  return o;
}

}  // namespace

TEST_CASE("llm_int8: vector-wise and LLM.int8() on a small experiment, with int32 accumulation", "[llm_int8]") {
  // X 50x100 and W 100x50 standard normal, a third of row 0 set to 6, threshold 5: 33 columns go to float.
  MatrixXf x = normal(50, 100, 2022), w = normal(100, 50, 2023);
  x.block(0, 0, 1, 33).setConstant(6.0f);
  const MatrixXd truth = exact(x, w);

  const std::vector<Index> cols = octet::outlier_columns(x, 5.0f);
  REQUIRE(cols.size() == 33);
  for (Index c = 0; c < 33; ++c) CHECK(cols[static_cast<std::size_t>(c)] == c);

  const MatrixXf llm = octet::matmul_llm_int8(x, w, 5.0f);
  const MatrixXf vw = octet::matmul_vectorwise(x, w);
  const double err_llm = (llm.cast<double>() - truth).cwiseAbs().sum();
  const double err_vw = (vw.cast<double>() - truth).cwiseAbs().sum();
  INFO("sum |error|: LLM.int8() " << err_llm << ", vector-wise " << err_vw);
  CHECK(err_llm < err_vw);
  // With int32 accumulation both are small (an int16 accumulation, as in the design notes octet started from, overflowed: errors of ~3.5 and ~5 per
  // element): the mean error per element stays near 0.05 for values of order 10.
  CHECK(err_llm / 2500.0 < 0.1);
  CHECK(err_vw / 2500.0 < 0.15);

  {
    octet::LLMInt8Stats stats;
    const LLMInt8Linear layer(w, 5.0f);
    const MatrixXf y = layer(x, &stats);
    CHECK(stats.outlier_columns == cols);
    CHECK((y.cast<double>() - truth).cwiseAbs().sum() < err_vw);
  }
}

TEST_CASE("llm_int8: emergent outlier features — LLM.int8() keeps outlier-free int8 accuracy", "[llm_int8]") {
  // A handful of feature dimensions scaled x20..x60, as the paper describes for models above 6.7B parameters.
  const std::vector<Index> features = {3, 77, 150, 301, 444};
  const MatrixXf clean = normal(96, 512, 31), w = normal(512, 256, 32, 0.05f);
  const MatrixXf x = with_outlier_features(clean, features);

  const double err_clean = relative_error(octet::matmul_vectorwise(clean, w), exact(clean, w));
  const double err_vw = relative_error(octet::matmul_vectorwise(x, w), exact(x, w));
  const double err_llm = relative_error(octet::matmul_llm_int8(x, w), exact(x, w));
  const LLMInt8Linear layer(w);
  const double err_layer = relative_error(layer(x), exact(x, w));
  INFO("relative error: outlier-free int8 " << err_clean << ", vector-wise " << err_vw << ", LLM.int8() " << err_llm
                                            << ", LLMInt8Linear " << err_layer);
  CHECK(octet::outlier_columns(x) == features);
  CHECK(err_llm <= 1.5 * err_clean);    // at the level of outlier-free int8
  CHECK(err_layer <= 1.5 * err_clean);
  CHECK(err_vw >= 4.0 * err_llm);       // vector-wise degrades several-fold
  CHECK(err_vw >= 3.0 * err_clean);
}

TEST_CASE("llm_int8: matmul_vectorwise and matmul_llm_int8 against the scalar reference", "[llm_int8]") {
  const std::vector<Index> ms = {1, 2, 7, 8, 9, 31, 33, 70};
  const std::vector<Index> ks = {1, 5, 8, 31, 32, 33, 100, 257};
  const std::vector<Index> ns = {1, 3, 16, 17, 64, 65, 130};
  std::uint32_t seed = 500;
  for (Index m : ms)
    for (std::size_t t = 0; t < ks.size(); ++t) {
      const Index k = ks[t], n = ns[(t + static_cast<std::size_t>(m)) % ns.size()];
      MatrixXf x = normal(m, k, seed++, 2.0f), w = normal(k, n, seed++);
      if (k > 4) x.col(k / 2) *= 9.0f;  // an outlier feature
      if (k > 20) x(m / 2, k - 3) = -30.0f;  // and a lone outlier value
      INFO("m=" << m << " k=" << k << " n=" << n);
      check_close(octet::matmul_vectorwise(x, w), reference_llm(x, w, std::numeric_limits<float>::infinity()));
      for (float threshold : {6.0f, 3.0f, 0.5f}) {
        INFO("threshold " << threshold);
        check_close(octet::matmul_llm_int8(x, w, threshold), reference_llm(x, w, threshold));
      }
    }
}

TEST_CASE("llm_int8: a threshold above every |x| gives exactly matmul_vectorwise", "[llm_int8]") {
  const MatrixXf x = normal(45, 300, 61, 3.0f), w = normal(300, 70, 62);
  const float amax = x.cwiseAbs().maxCoeff();
  const MatrixXf vw = octet::matmul_vectorwise(x, w);
  CHECK(bit_identical(octet::matmul_llm_int8(x, w, amax), vw));  // strictly greater: amax itself is no outlier
  CHECK(bit_identical(octet::matmul_llm_int8(x, w, 1e30f), vw));
  CHECK(bit_identical(octet::matmul_llm_int8(x, w, std::numeric_limits<float>::infinity()), vw));
  CHECK_FALSE(bit_identical(octet::matmul_llm_int8(x, w, amax * 0.9f), vw));
}

TEST_CASE("llm_int8: rows and columns with nothing to scale contribute 0, never NaN", "[llm_int8]") {
  MatrixXf x = normal(20, 40, 71), w = normal(40, 30, 72);
  x.row(3).setZero();                    // an all-zero row of X
  w.col(5).setZero();                    // an all-zero column of W
  x.row(7).setZero();
  x(7, 11) = 50.0f;                      // a row whose only values are in an outlier column
  w.col(9).setZero();
  w(11, 9) = 2.0f;                       // a column whose only values are in an outlier row
  const MatrixXf llm = octet::matmul_llm_int8(x, w);
  const MatrixXf vw = octet::matmul_vectorwise(x, w);
  CHECK(llm.allFinite());
  CHECK(vw.allFinite());
  CHECK(llm.row(3).isZero(0));
  CHECK(llm.col(5).isZero(0));
  CHECK(vw.row(3).isZero(0));
  check_close(llm, reference_llm(x, w, 6.0f));
  // row 7 is its outlier alone: exactly x(7, 11) * w(11, :) in float
  for (Index j = 0; j < w.cols(); ++j) CHECK(llm(7, j) == 50.0f * w(11, j));
  for (OutlierWeights ow : {OutlierWeights::dequantized_int8, OutlierWeights::float32}) {
    const MatrixXf y = LLMInt8Linear(w, 6.0f, options_for(octet::active_isa_id(), ow))(x);
    CHECK(y.allFinite());
    CHECK(y.row(3).isZero(0));
    CHECK(y.col(5).isZero(0));
  }
  CHECK(octet::matmul_vectorwise(MatrixXf::Zero(4, 6), MatrixXf::Zero(6, 3)).isZero(0));
}

TEST_CASE("llm_int8: LLMInt8Linear against the scalar reference of its own semantics", "[llm_int8]") {
  // The prepared W is scaled over all its rows; the outlier path multiplies by float or dequantized weights.
  std::uint32_t seed = 800;
  for (Index m : {1, 4, 19, 64})
    for (Index k : {9, 64, 301})
      for (Index n : {7, 64, 100}) {
        MatrixXf x = normal(m, k, seed++, 1.5f), w = normal(k, n, seed++);
        x.col(k / 3) *= 12.0f;
        w.row(k / 3) *= 3.0f;  // the outlier row of W often holds its column's maximum
        INFO("m=" << m << " k=" << k << " n=" << n);
        const LLMInt8Linear paper(w, 6.0f, options_for(octet::active_isa_id(), OutlierWeights::float32));
        const LLMInt8Linear bnb(w, 6.0f, options_for(octet::active_isa_id(), OutlierWeights::dequantized_int8));
        check_close(paper(x), reference_llm(x, w, 6.0f, true, false));
        check_close(bnb(x), reference_llm(x, w, 6.0f, true, true));
      }
}

TEST_CASE("llm_int8: LLMInt8Linear equals matmul_llm_int8 within the documented difference", "[llm_int8]") {
  const MatrixXf w = normal(256, 96, 91);
  const LLMInt8Linear bnb(w), paper(w, 6.0f, options_for(octet::active_isa_id(), OutlierWeights::float32));

  SECTION("no outliers: both options are bit-identical to matmul_vectorwise") {
    const MatrixXf x = normal(33, 256, 92);
    REQUIRE(octet::outlier_columns(x).empty());
    const MatrixXf vw = octet::matmul_vectorwise(x, w);
    CHECK(bit_identical(bnb(x), vw));
    CHECK(bit_identical(paper(x), vw));
    CHECK(bit_identical(octet::matmul_llm_int8(x, w), vw));
  }
  SECTION("outliers whose W rows never hold a column maximum: the float32 option is bit-identical") {
    MatrixXf x = normal(33, 256, 93);
    x.col(10) *= 30.0f;
    x.col(200) *= 40.0f;
    MatrixXf w_small = w;
    w_small.row(10) *= 0.01f;
    w_small.row(200) *= 0.01f;  // then W's column scales over all rows equal those over the non-outlier rows
    const LLMInt8Linear layer(w_small, 6.0f, options_for(octet::active_isa_id(), OutlierWeights::float32));
    CHECK(bit_identical(layer(x), octet::matmul_llm_int8(x, w_small)));
  }
  SECTION("general outliers: both are as close to the exact product, and to each other") {
    MatrixXf x = normal(33, 256, 94);
    x.col(17) *= 50.0f;
    MatrixXf w_big = w;
    w_big.row(17) *= 4.0f;  // W's outlier row sets the column scales of the prepared weights
    const LLMInt8Linear layer_paper(w_big, 6.0f, options_for(octet::active_isa_id(), OutlierWeights::float32));
    const LLMInt8Linear layer_bnb(w_big);
    const MatrixXd truth = exact(x, w_big);
    const MatrixXf llm = octet::matmul_llm_int8(x, w_big);
    const double e_llm = relative_error(llm, truth), e_paper = relative_error(layer_paper(x), truth);
    const double e_bnb = relative_error(layer_bnb(x), truth);
    INFO("relative error: matmul_llm_int8 " << e_llm << ", LLMInt8Linear float32 " << e_paper << ", dequantized "
                                            << e_bnb);
    // Scaling W over all rows coarsens its codes where the outlier row holds the maximum: at most the ratio of
    // the scales (here about 4x) in the int8 part, and the dequantized outlier weights add one int8 rounding.
    CHECK(e_paper <= 6.0 * e_llm);
    CHECK(e_bnb <= 8.0 * e_llm);
    CHECK(e_bnb < 0.02);
    CHECK(relative_error(layer_paper(x), llm.cast<double>()) < 0.02);
  }
}

TEST_CASE("llm_int8: every ISA path gives bit-identical results", "[llm_int8]") {
  const std::vector<octet::Isa> isas = octet::supported_isas();
  REQUIRE(isas.front() == octet::Isa::scalar);
  std::uint32_t seed = 1000;
  for (Index m : {1, 5, 13, 64, 200})
    for (Index k : {1, 7, 257, 1031})
      for (Index n : {1, 15, 130}) {
        MatrixXf x = normal(m, k, seed++, 1.2f), w = normal(k, n, seed++);
        if (k > 3) x.col(2) *= 20.0f;
        Eigen::VectorXf bias = normal(n, 1, seed++);
        INFO("m=" << m << " k=" << k << " n=" << n);
        for (OutlierWeights ow : {OutlierWeights::dequantized_int8, OutlierWeights::float32}) {
          LLMInt8Options base = options_for(octet::Isa::scalar, ow);
          base.bias = bias;
          const MatrixXf expect = LLMInt8Linear(w, 6.0f, base)(x);
          const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x_rm = x;
          for (octet::Isa isa : isas) {
            INFO("isa " << octet::isa_name(isa));
            LLMInt8Options o = options_for(isa, ow);
            o.bias = bias;
            const LLMInt8Linear layer(w, 6.0f, o);
            CHECK(layer.isa() == isa);
            CHECK(bit_identical(layer(x), expect));
            CHECK(bit_identical(layer(x_rm), expect));  // the row-major quantization path
          }
        }
        if (m * k * n < 2000000) check_close(octet::matmul_llm_int8(x, w), reference_llm(x, w, 6.0f));
      }
}

TEST_CASE("llm_int8: thread counts 1 and 2 give identical results", "[llm_int8]") {
  MatrixXf x = normal(300, 700, 1101), w = normal(700, 333, 1102);
  x.col(5) *= 25.0f;
  const LLMInt8Linear layer(w);
  const auto qa = octet::quantize<octet::ZeroPoint, octet::PerRow>(x);
  const auto qb = octet::quantize<octet::AbsMax, octet::PerColumn>(w);
  MatrixXf a1, b1, c1, d1, a2, b2, c2, d2;
  {
    octet_test::ThreadScope scope(1);
    a1 = layer(x);
    b1 = octet::matmul_llm_int8(x, w);
    c1 = octet::matmul_vectorwise(x, w);
    d1 = octet::matmul(qa, qb);
  }
  {
    octet_test::ThreadScope scope(2);
    a2 = layer(x);
    b2 = octet::matmul_llm_int8(x, w);
    c2 = octet::matmul_vectorwise(x, w);
    d2 = octet::matmul(qa, qb);
  }
  CHECK(bit_identical(a1, a2));
  CHECK(bit_identical(b1, b2));
  CHECK(bit_identical(c1, c2));
  CHECK(bit_identical(d1, d2));
}

TEST_CASE("llm_int8: Eigen expressions as inputs give the plain results", "[llm_int8]") {
  MatrixXf big = normal(50, 90, 1401, 2.0f);
  big.col(20) *= 10.0f;
  const MatrixXf w = normal(60, 40, 1402);
  const MatrixXf x = big.block(5, 10, 30, 60);
  const MatrixXf expect_llm = octet::matmul_llm_int8(x, w);
  const LLMInt8Linear layer(w);
  const MatrixXf expect_layer = layer(x);

  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x_rm = x;
  const Eigen::MatrixXd x_d = x.cast<double>();
  const MatrixXf xt = x.transpose();
  MatrixXf wide(30, 120);
  for (Index j = 0; j < 60; ++j) wide.col(2 * j) = x.col(j);
  Eigen::Map<const MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> x_strided(
      wide.data(), 30, 60, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(60, 1));

  CHECK(bit_identical(octet::matmul_llm_int8(big.block(5, 10, 30, 60), w), expect_llm));
  CHECK(bit_identical(octet::matmul_llm_int8(x_rm, w), expect_llm));
  CHECK(bit_identical(octet::matmul_llm_int8(x_d, w), expect_llm));
  CHECK(bit_identical(octet::matmul_llm_int8(xt.transpose(), w), expect_llm));
  CHECK(bit_identical(octet::matmul_llm_int8(x_strided, w), expect_llm));
  CHECK(bit_identical(octet::matmul_llm_int8(x * 1.0f, w), expect_llm));
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w_rm = w;
  CHECK(bit_identical(octet::matmul_llm_int8(x, w_rm), expect_llm));
  CHECK(bit_identical(octet::matmul_llm_int8(x, w.cast<double>()), expect_llm));
  CHECK(bit_identical(layer(big.block(5, 10, 30, 60)), expect_layer));
  CHECK(bit_identical(layer(x_rm), expect_layer));
  CHECK(bit_identical(layer(x_strided), expect_layer));
  CHECK(bit_identical(layer(x_d), expect_layer));
  CHECK(bit_identical(LLMInt8Linear(w_rm)(x), expect_layer));
  // one row (a token): its own outlier columns, whatever the storage
  const Eigen::RowVectorXf row = x.row(4);
  const MatrixXf one_row = x.row(4);
  const MatrixXf expect_row = layer(one_row);
  CHECK(bit_identical(layer(row), expect_row));
  CHECK(bit_identical(layer(x.row(4)), expect_row));
  CHECK(bit_identical(layer(x_rm.row(4)), expect_row));
  CHECK(bit_identical(layer(big.block(9, 10, 1, 60)), expect_row));
}

TEST_CASE("llm_int8: bias is added to every row", "[llm_int8]") {
  MatrixXf x = normal(17, 80, 1501);
  x.col(3) *= 20.0f;
  const MatrixXf w = normal(80, 24, 1502);
  LLMInt8Options o;
  o.bias = normal(24, 1, 1503);
  const MatrixXf plain = LLMInt8Linear(w)(x);
  const MatrixXf biased = LLMInt8Linear(w, 6.0f, o)(x);
  const MatrixXf expect = plain.rowwise() + o.bias.transpose();
  CHECK(bit_identical(biased, expect));
  CHECK(LLMInt8Linear(w, 6.0f, o).bias().size() == 24);
}

TEST_CASE("llm_int8: memory of a prepared layer", "[llm_int8]") {
  const Index k = 1024, n = 768;
  const MatrixXf w = normal(k, n, 1601);
  for (octet::Isa isa : octet::supported_isas()) {
    const LLMInt8Linear layer(w, 6.0f, options_for(isa));
    const double per_weight = double(layer.bytes()) / double(k * n);
    INFO("isa " << octet::isa_name(isa) << ": " << per_weight << " bytes per weight");
    const double packed_elem = double(layer.packed_weights().bytes()) / double(k * n);
    CHECK(per_weight <= 1.1 * std::ceil(packed_elem - 0.05));  // 1 byte per weight (2 on an int16 layout)
    if (packed_elem < 1.5) CHECK(per_weight <= 1.1);
    const LLMInt8Linear paper(w, 6.0f, options_for(isa, OutlierWeights::float32));
    CHECK(double(paper.bytes()) == Catch::Approx(double(layer.bytes()) + 4.0 * double(k * n)));
  }
}

TEST_CASE("llm_int8: bad input gets a clear error", "[llm_int8]") {
  const MatrixXf x = normal(3, 4, 1701), w = normal(5, 2, 1702);
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  SECTION("shape mismatch names both shapes") {
    CHECK_THROWS_AS(octet::matmul_llm_int8(x, w), std::invalid_argument);
    CHECK_THROWS_AS(octet::matmul_vectorwise(x, w), std::invalid_argument);
    const std::string what = message([&] { octet::matmul_llm_int8(x, w); });
    CHECK(what.find("(3 x 4)") != std::string::npos);
    CHECK(what.find("(5 x 2)") != std::string::npos);
    const LLMInt8Linear layer(w);
    CHECK_THROWS_AS(layer(x), std::invalid_argument);
    const std::string what2 = message([&] { layer(x); });
    CHECK(what2.find("(3 x 4)") != std::string::npos);
    CHECK(what2.find("(5 x 2)") != std::string::npos);
    const auto qa = octet::quantize<octet::AbsMax, octet::PerRow>(x);
    const auto qb = octet::quantize<octet::MinMax, octet::PerColumn>(w);
    CHECK_THROWS_AS(octet::matmul(qa, qb), std::invalid_argument);
  }
  SECTION("NaN or Inf in X or W") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    MatrixXf xs = normal(6, 5, 1703), ws = normal(5, 4, 1704);
    const LLMInt8Linear layer(ws);
    for (float bad : {nan, inf, -inf}) {
      MatrixXf xb = xs, wb = ws;
      xb(4, 2) = bad;
      wb(1, 3) = bad;
      CHECK_THROWS_AS(octet::matmul_llm_int8(xb, ws), std::domain_error);
      CHECK_THROWS_AS(octet::matmul_vectorwise(xb, ws), std::domain_error);
      CHECK_THROWS_AS(octet::matmul_llm_int8(xs, wb), std::domain_error);
      CHECK_THROWS_AS(octet::matmul_vectorwise(xs, wb), std::domain_error);
      CHECK_THROWS_AS(layer(xb), std::domain_error);
      CHECK_THROWS_AS(LLMInt8Linear(wb), std::domain_error);
      CHECK_THROWS_AS(octet::outlier_columns(xb), std::domain_error);
      const std::string what = message([&] { layer(xb); });
      CHECK(what.find("row 4, column 2") != std::string::npos);
      const std::string what_w = message([&] { octet::matmul_llm_int8(xs, wb); });
      CHECK(what_w.find("row 1, column 3") != std::string::npos);
      CHECK(what_w.find("W") != std::string::npos);
    }
    // a large, SIMD-scanned X with one NaN deep inside
    MatrixXf big = normal(64, 512, 1705);
    big(63, 300) = nan;
    CHECK_THROWS_AS(LLMInt8Linear(normal(512, 8, 1706))(big), std::domain_error);
    CHECK_THROWS_AS(octet::matmul_llm_int8(x, normal(4, 2, 1707), std::numeric_limits<float>::quiet_NaN()),
                    std::invalid_argument);
  }
  SECTION("empty batch, zero depth, too deep") {
    const LLMInt8Linear layer(w);
    const MatrixXf y = layer(MatrixXf(0, 5));
    CHECK(y.rows() == 0);
    CHECK(y.cols() == 2);
    CHECK(octet::matmul_llm_int8(MatrixXf(0, 5), w).cols() == 2);
    CHECK(octet::matmul_vectorwise(MatrixXf(0, 5), w).rows() == 0);
    const MatrixXf z = octet::matmul_llm_int8(MatrixXf(3, 0), MatrixXf(0, 4));
    CHECK(z.rows() == 3);
    CHECK(z.cols() == 4);
    CHECK(z.isZero(0));
    CHECK(LLMInt8Linear(MatrixXf(0, 4))(MatrixXf(2, 0)).isZero(0));
    const MatrixXf deep_x = MatrixXf::Zero(1, 131072), deep_w = MatrixXf::Zero(131072, 1);
    CHECK_THROWS_AS(octet::matmul_vectorwise(deep_x, deep_w), std::overflow_error);
    CHECK_THROWS_AS(LLMInt8Linear(deep_w), std::overflow_error);
  }
  SECTION("bad options") {
    LLMInt8Options o;
    o.bias = Eigen::VectorXf::Zero(3);
    CHECK_THROWS_AS(LLMInt8Linear(w, 6.0f, o), std::invalid_argument);
    CHECK_THROWS_AS(LLMInt8Linear(w, std::numeric_limits<float>::quiet_NaN()), std::invalid_argument);
  }
}

// -------------------------------------------------------------------------------------------------------------
// matmul(qa, qb): the integer-domain product, every scheme combination
// -------------------------------------------------------------------------------------------------------------

namespace {

template <class SA, class GA, class SB, class GB>
void check_quantized_product(const MatrixXf& x, const MatrixXf& w) {
  const auto qa = octet::quantize<SA, GA>(x);
  const auto qb = octet::quantize<SB, GB>(w);
  const MatrixXd da = qa.dequantize().template cast<double>(), db = qb.dequantize().template cast<double>();
  const MatrixXd expect = da * db;
  // Each dequantized value is float(q * step) + offset, rounded twice: the tolerance scales with
  // |q * step| + |offset| (not |x̂|, which can cancel to 0 while its rounding error does not).
  MatrixXd ma(x.rows(), x.cols()), mb(w.rows(), w.cols());
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < x.rows(); ++i) {
      const Index g = qa.group(i, j);
      ma(i, j) = std::abs(double(qa.codes(i, j)) * qa.step(g)) + std::abs(double(qa.offset(g)));
    }
  for (Index j = 0; j < w.cols(); ++j)
    for (Index i = 0; i < w.rows(); ++i) {
      const Index g = qb.group(i, j);
      mb(i, j) = std::abs(double(qb.codes(i, j)) * qb.step(g)) + std::abs(double(qb.offset(g)));
    }
  const MatrixXd magnitude = ma * mb;
  const MatrixXf got = octet::matmul(qa, qb);
  REQUIRE(got.rows() == expect.rows());
  REQUIRE(got.cols() == expect.cols());
  double worst = 0.0;
  for (Index j = 0; j < got.cols(); ++j)
    for (Index i = 0; i < got.rows(); ++i)
      worst = std::max(worst, std::abs(double(got(i, j)) - expect(i, j)) / (2e-6 * magnitude(i, j) + 1e-30));
  INFO(SA::name << " x " << SB::name << ", A per " << (std::is_same<GA, octet::PerRow>::value ? "row" : "tensor")
                << ", B per " << (std::is_same<GB, octet::PerColumn>::value ? "column" : "tensor"));
  CHECK(worst <= 1.0);
}

template <class SA, class SB>
void check_granularities(const MatrixXf& x, const MatrixXf& w) {
  check_quantized_product<SA, octet::PerTensor, SB, octet::PerTensor>(x, w);
  check_quantized_product<SA, octet::PerTensor, SB, octet::PerColumn>(x, w);
  check_quantized_product<SA, octet::PerRow, SB, octet::PerTensor>(x, w);
  check_quantized_product<SA, octet::PerRow, SB, octet::PerColumn>(x, w);
}

template <class SA>
void check_schemes_b(const MatrixXf& x, const MatrixXf& w) {
  check_granularities<SA, octet::AbsMax>(x, w);
  check_granularities<SA, octet::ZeroPoint>(x, w);
  check_granularities<SA, octet::MidRange>(x, w);
  check_granularities<SA, octet::MinMax>(x, w);
}

void check_all_schemes(const MatrixXf& x, const MatrixXf& w) {
  check_schemes_b<octet::AbsMax>(x, w);
  check_schemes_b<octet::ZeroPoint>(x, w);
  check_schemes_b<octet::MidRange>(x, w);
  check_schemes_b<octet::MinMax>(x, w);
}

}  // namespace

TEST_CASE("llm_int8: matmul(qa, qb) equals dequantize-then-multiply for every scheme and granularity", "[llm_int8]") {
  SECTION("asymmetric activations (post-ReLU) and normal weights") {
    const MatrixXf x = normal(23, 77, 1801).cwiseMax(0.0f), w = normal(77, 19, 1802, 0.3f, 0.1f);
    check_all_schemes(x, w);
  }
  SECTION("shapes across the GEMM blocks, with constant and zero rows") {
    MatrixXf x = normal(70, 300, 1803, 2.0f, 1.0f), w = normal(300, 130, 1804);
    x.row(5).setConstant(0.75f);
    x.row(9).setZero();
    w.col(3).setZero();
    check_all_schemes(x, w);
  }
  SECTION("data far from zero (large offsets)") {
    const MatrixXf x = normal(9, 40, 1805, 0.5f, 100.0f), w = normal(40, 11, 1806, 0.5f, -50.0f);
    check_all_schemes(x, w);
  }
  SECTION("one row, one column") {
    check_all_schemes(normal(1, 33, 1807), normal(33, 1, 1808));
  }
}

TEST_CASE("llm_int8: matmul(qa, qb) on every ISA path and for empty operands", "[llm_int8]") {
  const MatrixXf x = normal(13, 70, 1901), w = normal(70, 50, 1902);
  const auto qa = octet::quantize<octet::MinMax, octet::PerRow>(x);
  const auto qb = octet::quantize<octet::ZeroPoint, octet::PerColumn>(w);
  // matmul(qa, qb) uses the active path; OCTET_ISA (see the dispatch tests) caps it. Symmetric codes make the
  // product exact in the integer domain: compare with the int8 GEMM of every path.
  const auto sa = octet::quantize<octet::AbsMax, octet::PerRow>(x);
  const auto sb = octet::quantize<octet::AbsMax, octet::PerColumn>(w);
  const MatrixXf y = octet::matmul(sa, sb);
  for (octet::Isa isa : octet::supported_isas()) {
    const octet::MatrixXi32 c = octet::gemm_i8(sa.codes, octet::PackedB(sb.codes, isa));
    for (Index j = 0; j < y.cols(); ++j)
      for (Index i = 0; i < y.rows(); ++i) {
        const double e = double(sa.step(i)) * double(sb.step(j)) * c(i, j);
        CHECK(std::abs(y(i, j) - e) <= 1e-6 * std::abs(e) + 1e-12);
      }
  }
  check_quantized_product<octet::MinMax, octet::PerRow, octet::ZeroPoint, octet::PerColumn>(x, w);
  const auto ea = octet::quantize<octet::MinMax, octet::PerRow>(MatrixXf(0, 70));
  CHECK(octet::matmul(ea, qb).rows() == 0);
  const auto za = octet::quantize<octet::ZeroPoint, octet::PerTensor>(MatrixXf(4, 0));
  const auto zb = octet::quantize<octet::MidRange, octet::PerColumn>(MatrixXf(0, 3));
  const MatrixXf z = octet::matmul(za, zb);
  CHECK(z.rows() == 4);
  CHECK(z.cols() == 3);
  CHECK(z.isZero(0));
}
