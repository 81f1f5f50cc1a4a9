// Weights as PyTorch, Hugging Face and bitsandbytes keep them ([out x in]): from_torch and from_bitsandbytes
// give, bit for bit, what the [in x out] constructor and from_quantized give on the same weights, on every path,
// square and non-square, from column-major and row-major storage and from expressions; shape errors that look like
// a transposed W say so.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include <octet/octet.hpp>

#include "catch.hpp"

namespace {

using Eigen::MatrixXf;
using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorXi8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Activations with one outlier feature (column 5: values of 20-26 in every third row).
MatrixXf activations(Eigen::Index m, Eigen::Index k, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  MatrixXf x(m, k);
  for (Eigen::Index j = 0; j < k; ++j)
    for (Eigen::Index i = 0; i < m; ++i) x(i, j) = dist(gen);
  for (Eigen::Index i = 0; i < m; i += 3) x(i, 5) = 20.0f + float(i % 7);
  return x;
}

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const auto u = a(i, j), v = b(i, j);
      if (std::memcmp(&u, &v, sizeof u) != 0) return false;
    }
  return true;
}

octet::LLMInt8Options on(octet::Isa isa, Eigen::Index block = 0) {
  octet::LLMInt8Options o;
  o.isa = isa;
  o.block_size = block;
  return o;
}

/// Same codes, steps and results on x.
void check_same_layer(const octet::LLMInt8Linear& a, const octet::LLMInt8Linear& b, const MatrixXf& x) {
  CHECK(a.in_features() == b.in_features());
  CHECK(a.out_features() == b.out_features());
  CHECK(a.weight_codes() == b.weight_codes());
  CHECK(same_bits(a.weight_step(), b.weight_step()));
  CHECK(same_bits(a(x), b(x)));
}

// [out x in] shapes: square (every q/k/v/o projection) and both non-square orientations.
const Eigen::Index shapes[][2] = {{40, 40}, {21, 70}, {70, 21}};

}  // namespace

TEST_CASE("torch layout: from_torch equals the constructor on W's transpose, from any storage", "[torch]") {
  for (const auto& s : shapes) {
    const Eigen::Index out = s[0], in = s[1];
    INFO("W is [" << out << " x " << in << "]");
    const MatrixXf w = MatrixXf::Random(out, in);  // as torch.nn.Linear.weight: [out x in]
    const RowMajorXf w_row = w;                     // a C-order buffer, as a state dict's tensor
    const std::vector<float> buffer(w_row.data(), w_row.data() + w_row.size());
    const Eigen::Map<const RowMajorXf> w_map(buffer.data(), out, in);
    const Eigen::MatrixXd w_double = w.cast<double>();
    const MatrixXf x = activations(13, in, 3);
    for (octet::Isa isa : octet::supported_isas()) {
      for (Eigen::Index block : {Eigen::Index(0), Eigen::Index(32)}) {
        INFO("isa " << octet::isa_name(isa) << ", block " << block);
        const octet::LLMInt8Linear ref(MatrixXf(w.transpose()), 6.0f, on(isa, block));  // [in x out], own storage
        check_same_layer(octet::LLMInt8Linear::from_torch(w, 6.0f, on(isa, block)), ref, x);
        check_same_layer(octet::LLMInt8Linear::from_torch(w_row, 6.0f, on(isa, block)), ref, x);
        check_same_layer(octet::LLMInt8Linear::from_torch(w_map, 6.0f, on(isa, block)), ref, x);
        // Expressions: a product with 1 (evaluated into the packer's copy), a block, a double matrix.
        check_same_layer(octet::LLMInt8Linear::from_torch(w * 1.0f, 6.0f, on(isa, block)), ref, x);
        MatrixXf padded = MatrixXf::Zero(out + 3, in + 2);
        padded.block(1, 2, out, in) = w;
        check_same_layer(octet::LLMInt8Linear::from_torch(padded.block(1, 2, out, in), 6.0f, on(isa, block)), ref, x);
        check_same_layer(octet::LLMInt8Linear::from_torch(w_double, 6.0f, on(isa, block)), ref, x);
      }
    }
    // The bias and the threshold go through unchanged.
    octet::LLMInt8Options with_bias;
    with_bias.bias = Eigen::VectorXf::LinSpaced(out, -1.0f, 1.0f);
    const octet::LLMInt8Linear ref(MatrixXf(w.transpose()), 4.0f, with_bias);
    const octet::LLMInt8Linear torch = octet::LLMInt8Linear::from_torch(w_map, 4.0f, with_bias);
    CHECK(torch.threshold() == 4.0f);
    CHECK(same_bits(torch.bias(), ref.bias()));
    check_same_layer(torch, ref, x);
  }
}

TEST_CASE("torch layout: from_torch computes x W^T for square and non-square [out x in] weights", "[torch]") {
  for (const auto& s : shapes) {
    const Eigen::Index out = s[0], in = s[1];
    INFO("W is [" << out << " x " << in << "]");
    const RowMajorXf w = RowMajorXf::Random(out, in);
    const MatrixXf x = MatrixXf::Random(9, in);  // no outliers: the error is int8's alone
    const MatrixXf exact = x * w.transpose();
    const MatrixXf y = octet::LLMInt8Linear::from_torch(w)(x);
    const float rel = (y - exact).norm() / exact.norm();
    INFO("relative error " << rel);
    CHECK(rel < 0.02f);  // vector-wise int8 on uniform data: about 0.5%
  }
}

TEST_CASE("torch layout: from_bitsandbytes takes CB and SCB as the state dict holds them", "[torch]") {
  for (const auto& s : shapes) {
    const Eigen::Index out = s[0], in = s[1];
    INFO("W is [" << out << " x " << in << "]");
    const MatrixXf w = MatrixXf::Random(out, in);
    const MatrixXf x = activations(11, in, 7);
    for (octet::Isa isa : octet::supported_isas()) {
      INFO("isa " << octet::isa_name(isa));
      const octet::LLMInt8Linear ref = octet::LLMInt8Linear::from_torch(w, 6.0f, on(isa));
      // bitsandbytes' int8_vectorwise_quant of W: CB [out x in] int8, SCB [out] the row absmax.
      const RowMajorXi8 cb = ref.weight_codes().transpose();
      const Eigen::VectorXf scb = w.cwiseAbs().rowwise().maxCoeff();
      REQUIRE(same_bits(Eigen::VectorXf(scb / 127.0f), ref.weight_step()));  // the step is SCB / 127
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb, scb, 6.0f, on(isa)), ref, x);
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb, scb, 6.0f, on(isa)),
                       octet::LLMInt8Linear::from_quantized(cb.transpose(), scb / 127.0f, 6.0f, on(isa)), x);
      // SCB as a row vector, a 1 x out and an out x 1 matrix, a double vector; CB column-major and as a Map.
      const Eigen::RowVectorXf scb_row = scb.transpose();
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb, scb_row, 6.0f, on(isa)), ref, x);
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb, MatrixXf(scb_row), 6.0f, on(isa)), ref, x);
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb, MatrixXf(scb), 6.0f, on(isa)), ref, x);
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb, scb.cast<double>(), 6.0f, on(isa)), ref, x);
      const octet::MatrixXi8 cb_col = cb;
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb_col, scb, 6.0f, on(isa)), ref, x);
      const Eigen::Map<const RowMajorXi8> cb_map(cb.data(), out, in);
      check_same_layer(octet::LLMInt8Linear::from_bitsandbytes(cb_map, scb, 6.0f, on(isa)), ref, x);
    }
  }
}

TEST_CASE("torch layout: SCB is an absmax, not a step (no result 127x too large)", "[torch]") {
  for (const auto& s : shapes) {
    const Eigen::Index out = s[0], in = s[1];
    INFO("W is [" << out << " x " << in << "]");
    const MatrixXf w = MatrixXf::Random(out, in);
    const MatrixXf x = MatrixXf::Random(6, in);
    const octet::LLMInt8Linear ref = octet::LLMInt8Linear::from_torch(w);
    const octet::MatrixXi8 cb = ref.weight_codes().transpose();
    const Eigen::VectorXf scb = w.cwiseAbs().rowwise().maxCoeff();
    const MatrixXf exact = x * w.transpose();
    const MatrixXf y = octet::LLMInt8Linear::from_bitsandbytes(cb, scb)(x);
    const float rel = (y - exact).norm() / exact.norm();
    INFO("relative error " << rel);
    CHECK(rel < 0.02f);
    // SCB passed where from_quantized wants steps is the trap from_bitsandbytes removes: 127x the result.
    const MatrixXf trap = octet::LLMInt8Linear::from_quantized(cb.transpose(), scb)(x);
    CHECK((trap - 127.0f * y).norm() <= 1e-4f * trap.norm());
  }
}

TEST_CASE("torch layout: errors name the layout when W or CB looks transposed", "[torch]") {
  const MatrixXf w = MatrixXf::Random(21, 70);  // [out x in]
  const MatrixXf x = MatrixXf::Random(4, 70);
  // [out x in] weights given to the [in x out] constructor: X (m x in) does not fit.
  const octet::LLMInt8Linear wrong(w);
  CHECK_THROWS_WITH(wrong(x), Catch::Contains("shape mismatch, X is (4 x 70) and W is (21 x 70)") &&
                                  Catch::Contains("W looks transposed: for [out x in] weights use from_torch"));
  // [in x out] weights given to from_torch.
  const octet::LLMInt8Linear wrong_torch = octet::LLMInt8Linear::from_torch(MatrixXf(w.transpose()));
  CHECK_THROWS_WITH(wrong_torch(x), Catch::Contains("W looks transposed: from_torch takes W as [out x in]"));
  // [out x in] weights and a bias of out entries given to the constructor.
  octet::LLMInt8Options bias_in;
  bias_in.bias = Eigen::VectorXf::Zero(21);
  CHECK_THROWS_WITH(octet::LLMInt8Linear(w, 6.0f, bias_in), Catch::Contains("W looks transposed"));
  // An X of the wrong width that does not look like a transposed W: no hint.
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_torch(w)(MatrixXf::Random(4, 33)),
                    !Catch::Contains("transposed") && Catch::Contains("X is (4 x 33)"));
  // The plain product functions take W as [in x out].
  CHECK_THROWS_WITH(octet::matmul_llm_int8(x, w), Catch::Contains("W looks transposed"));

  const octet::LLMInt8Linear ref = octet::LLMInt8Linear::from_torch(w);
  const octet::MatrixXi8 cb = ref.weight_codes().transpose();  // [out x in]
  const Eigen::VectorXf scb = w.cwiseAbs().rowwise().maxCoeff();
  // CB transposed ([in x out]) with its SCB.
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_bitsandbytes(octet::MatrixXi8(cb.transpose()), scb),
                    Catch::Contains("CB looks transposed"));
  // CB ([out x in]) given to from_quantized, which takes [in x out] codes.
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_quantized(cb, scb / 127.0f),
                    Catch::Contains("the codes look transposed: for [out x in] codes (bitsandbytes' CB) use from_bitsandbytes"));
  // SCB neither a vector nor of out entries; a negative or NaN absmax; block-wise or float32 options.
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_bitsandbytes(cb, MatrixXf::Ones(3, 7)), std::invalid_argument);
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_bitsandbytes(cb, Eigen::VectorXf::Ones(20)), std::invalid_argument);
  Eigen::VectorXf bad = scb;
  bad(4) = -1.0f;
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_bitsandbytes(cb, bad), Catch::Contains("SCB entry 4 is -1"));
  bad(4) = std::nanf("");
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_bitsandbytes(cb, bad), std::domain_error);
  octet::LLMInt8Options blocks;
  blocks.block_size = 64;
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_bitsandbytes(cb, scb, 6.0f, blocks),
                    Catch::Contains("block_size is 64") && Catch::Contains("vector-wise"));
  octet::LLMInt8Options f32;
  f32.outlier_weights = octet::OutlierWeights::float32;
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_bitsandbytes(cb, scb, 6.0f, f32),
                    Catch::Contains("from_bitsandbytes: OutlierWeights::float32"));
  // A non-finite W in from_torch is named in its transpose.
  MatrixXf w_inf = w;
  w_inf(2, 9) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(octet::LLMInt8Linear::from_torch(w_inf), Catch::Contains("(row 9, column 2) of W^T"));
}
