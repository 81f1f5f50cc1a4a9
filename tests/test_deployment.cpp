// What an inference engine needs: results written into its own buffers (either storage order, maps, blocks),
// bf16 / fp16 activations read in place, layers built from codes quantized elsewhere (bitsandbytes' CB / SCB),
// and bitsandbytes' rules for outliers — each on every path this machine has.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <stdexcept>
#include <vector>

#include <octet/octet.hpp>

#include "catch.hpp"

namespace {

using Eigen::MatrixXf;
using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Activations with a few outlier features (columns 3 and 17 hold values of 20-40).
MatrixXf activations(Eigen::Index m, Eigen::Index k, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  MatrixXf x(m, k);
  for (Eigen::Index j = 0; j < k; ++j)
    for (Eigen::Index i = 0; i < m; ++i) x(i, j) = n(gen);
  for (Eigen::Index i = 0; i < m; i += 3) {
    if (k > 3) x(i, 3) = 20.0f + float(i % 7);
    if (k > 17) x(i, 17) = -40.0f;
  }
  return x;
}

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const auto x = a(i, j);
      const auto y = b(i, j);
      if (std::memcmp(&x, &y, sizeof x) != 0) return false;
    }
  return true;
}

octet::LLMInt8Options on(octet::Isa isa, octet::Semantics s = octet::Semantics::paper) {
  octet::LLMInt8Options o;
  o.isa = isa;
  o.semantics = s;
  return o;
}

}  // namespace

TEST_CASE("deployment: forward writes into row-major, column-major, Map and block destinations", "[deployment]") {
  const MatrixXf w = MatrixXf::Random(70, 45), x = activations(29, 70, 1);
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    const octet::LLMInt8Linear layer(w, 6.0f, on(isa));
    const MatrixXf y = layer(x);
    RowMajorXf rm;
    layer.forward(x, rm);
    CHECK(same_bits(rm, y));
    MatrixXf cm(3, 3);  // resized
    layer.forward(x, cm);
    CHECK(same_bits(cm, y));
    std::vector<float> buffer(29 * 45 + 5, -1.0f);
    layer.forward(x, Eigen::Map<RowMajorXf>(buffer.data() + 5, 29, 45));
    CHECK(same_bits(Eigen::Map<RowMajorXf>(buffer.data() + 5, 29, 45), y));
    CHECK(buffer[4] == -1.0f);
    MatrixXf big = MatrixXf::Constant(40, 60, 7.0f);
    layer.forward(x, big.block(4, 9, 29, 45));  // a temporary block, as Eigen's output parameters allow
    CHECK(same_bits(big.block(4, 9, 29, 45), y));
    CHECK(big(3, 9) == 7.0f);
    CHECK(big(4, 8) == 7.0f);
    CHECK(big(33, 54) == 7.0f);
    RowMajorXf big_rm = RowMajorXf::Constant(31, 50, 7.0f);
    layer.forward(x, big_rm.block(1, 2, 29, 45));
    CHECK(same_bits(big_rm.block(1, 2, 29, 45), y));
    CHECK_THROWS_AS(layer.forward(x, big.block(0, 0, 28, 45)), std::invalid_argument);
    octet::LLMInt8Stats stats;
    MatrixXf with_stats;
    layer.forward(x, with_stats, &stats);
    CHECK(same_bits(with_stats, y));
    CHECK(stats.outlier_columns == std::vector<Eigen::Index>{3, 17});
  }
}

TEST_CASE("deployment: bf16 and fp16 activations in and out equal the float path", "[deployment]") {
  const MatrixXf w = MatrixXf::Random(96, 40);
  const MatrixXf xf = activations(21, 96, 2);
  const Eigen::Matrix<Eigen::bfloat16, -1, -1> xb = xf.cast<Eigen::bfloat16>();
  const Eigen::Matrix<Eigen::half, -1, -1, Eigen::RowMajor> xh = xf.cast<Eigen::half>();
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    const octet::LLMInt8Linear layer(w, 6.0f, on(isa));
    const MatrixXf yb_ref = layer(xb.cast<float>()), yh_ref = layer(xh.cast<float>());
    CHECK(same_bits(layer(xb), yb_ref));                 // column-major bf16 in
    CHECK(same_bits(layer(xh), yh_ref));                 // row-major half in
    CHECK(same_bits(layer(xb.block(0, 0, 21, 96)), yb_ref));
    Eigen::Matrix<Eigen::bfloat16, -1, -1> yb;
    layer.forward(xb, yb);
    CHECK(same_bits(yb, yb_ref.cast<Eigen::bfloat16>()));  // the float result rounded to nearest even
    Eigen::Matrix<Eigen::half, -1, -1, Eigen::RowMajor> yh;
    layer.forward(xh, yh);
    CHECK(same_bits(yh, yh_ref.cast<Eigen::half>()));
    Eigen::Matrix<Eigen::bfloat16, -1, -1, Eigen::RowMajor> yb_from_f;
    layer.forward(xf, yb_from_f);
    CHECK(same_bits(yb_from_f, layer(xf).cast<Eigen::bfloat16>()));
  }
}

TEST_CASE("deployment: from_quantized round trips bit for bit, bitsandbytes' CB and SCB included", "[deployment]") {
  const MatrixXf w = MatrixXf::Random(64, 33), x = activations(9, 64, 3);
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    const octet::LLMInt8Linear layer(w, 6.0f, on(isa));
    const octet::MatrixXi8 codes = layer.weight_codes();
    CHECK(codes == octet::quantize<octet::AbsMax, octet::PerColumn>(w).codes);  // read back out of the packing
    const auto again = octet::LLMInt8Linear::from_quantized(codes, layer.weight_step(), 6.0f, on(isa));
    CHECK(same_bits(again(x), layer(x)));
    // bitsandbytes stores CB as (out x in) int8 and SCB as the absmax of each output row.
    const Eigen::Matrix<std::int8_t, -1, -1, Eigen::RowMajor> cb = codes.transpose();
    const Eigen::VectorXf scb = layer.weight_step() * 127.0f;
    const auto from_bnb = octet::LLMInt8Linear::from_quantized(cb.transpose(), scb / 127.0f, 6.0f, on(isa));
    CHECK(from_bnb.weight_codes() == codes);
    CHECK((from_bnb(x) - layer(x)).cwiseAbs().maxCoeff() <= 1e-4f * layer(x).cwiseAbs().maxCoeff());
  }
  const octet::MatrixXi8 codes = octet::MatrixXi8::Ones(8, 4);
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_quantized(codes, Eigen::VectorXf::Ones(3)), std::invalid_argument);
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_quantized(codes, -Eigen::VectorXf::Ones(4)), std::domain_error);
  Eigen::VectorXf nan_steps = Eigen::VectorXf::Ones(4);
  nan_steps(1) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_quantized(codes, nan_steps), std::domain_error);
  octet::LLMInt8Options f32;
  f32.outlier_weights = octet::OutlierWeights::float32;
  CHECK_THROWS_AS(octet::LLMInt8Linear::from_quantized(codes, Eigen::VectorXf::Ones(4), 6.0f, f32),
                  std::invalid_argument);
}

TEST_CASE("deployment: bitsandbytes semantics on hand-made cases", "[deployment]") {
  const MatrixXf w = MatrixXf::Identity(4, 4);  // W's codes: 127 on the diagonal, step 1/127
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    const octet::LLMInt8Linear paper(w, 6.0f, on(isa)), bnb(w, 6.0f, on(isa, octet::Semantics::bitsandbytes));
    octet::LLMInt8Stats sp, sb;
    // |x| == threshold: an outlier for bitsandbytes (>=), not for the paper (>).
    MatrixXf at(2, 4);
    at << 1, 2, 6, 1,  //
        0.5f, 1, -1, 2;
    paper(at, &sp);
    bnb(at, &sb);
    CHECK(sp.outlier_columns.empty());
    CHECK(sb.outlier_columns == std::vector<Eigen::Index>{2});
    // A row whose scale comes from a sub-threshold value in an outlier column: column 0 is an outlier (10 in
    // row 0); row 1's 5 there still sets row 1's scale under bitsandbytes (codes 25, 13, 6 for 1, 0.5, 0.25),
    // while the paper scales row 1 over columns 1-3 only (codes 127, 64, 32).
    MatrixXf x(2, 4);
    x << 10, 1, 1, 1,  //
        5, 1, 0.5f, 0.25f;
    const MatrixXf yp = paper(x, &sp), yb = bnb(x, &sb);
    CHECK(sp.outlier_columns == std::vector<Eigen::Index>{0});
    CHECK(sb.outlier_columns == std::vector<Eigen::Index>{0});
    CHECK(yp(1, 1) == Approx(1.0f).epsilon(1e-6));
    CHECK(yb(1, 1) == Approx(25.0f * 5.0f / 127.0f).epsilon(1e-6));
    CHECK(yb(1, 2) == Approx(13.0f * 5.0f / 127.0f).epsilon(1e-6));
    CHECK(yb(1, 3) == Approx(6.0f * 5.0f / 127.0f).epsilon(1e-6));
    CHECK(yb(1, 0) == Approx(5.0f).epsilon(1e-6));  // the outlier column in float
    // Threshold 0: bitsandbytes turns the decomposition off (pure vector-wise); the paper sends every column
    // holding a non-zero value to float.
    const octet::LLMInt8Linear bnb0(w, 0.0f, on(isa, octet::Semantics::bitsandbytes));
    const octet::LLMInt8Linear vectorwise(w, std::numeric_limits<float>::infinity(), on(isa));
    const octet::LLMInt8Linear paper0(w, 0.0f, on(isa));
    CHECK(same_bits(bnb0(x, &sb), vectorwise(x)));
    CHECK(sb.outlier_columns.empty());
    paper0(x, &sp);
    CHECK(sp.outlier_columns.size() == 4);
  }
  CHECK_THROWS_AS(octet::LLMInt8Linear(w, -1.0f), std::invalid_argument);
  CHECK_THROWS_AS(octet::matmul_llm_int8(w, w, -0.5f), std::invalid_argument);
}

namespace {

std::string saved(const octet::LLMInt8Linear& layer) {
  std::stringstream s;
  layer.save(s);
  return s.str();
}

std::string load_error(const std::string& bytes) {
  std::stringstream s(bytes);
  try {
    octet::LLMInt8Linear::load(s);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("deployment: save -> load -> forward is bit-identical, on every path and across paths", "[deployment]") {
  const MatrixXf w = MatrixXf::Random(50, 23), x = activations(7, 50, 4);
  const auto isas = octet::supported_isas();
  for (octet::Isa saved_on : isas)
    for (octet::OutlierWeights ow : {octet::OutlierWeights::dequantized_int8, octet::OutlierWeights::float32})
      for (octet::Semantics sem : {octet::Semantics::paper, octet::Semantics::bitsandbytes}) {
        octet::LLMInt8Options o = on(saved_on, sem);
        o.outlier_weights = ow;
        o.bias = Eigen::VectorXf::LinSpaced(23, -1.0f, 1.0f);
        const octet::LLMInt8Linear layer(w, 5.0f, o);
        const std::string bytes = saved(layer);
        for (octet::Isa load_on : isas) {
          INFO("saved on " << octet::isa_name(saved_on) << ", loaded on " << octet::isa_name(load_on));
          std::stringstream in(bytes);
          const octet::LLMInt8Linear back = octet::LLMInt8Linear::load(in, load_on);
          CHECK(back.isa() == load_on);
          CHECK(back.threshold() == 5.0f);
          CHECK(back.outlier_weights() == ow);
          CHECK(back.semantics() == sem);
          CHECK(back.bias() == layer.bias());
          CHECK(same_bits(back(x), layer(x)));
        }
      }
}

TEST_CASE("deployment: one stream holds several layers, one after the other", "[deployment]") {
  const octet::LLMInt8Linear a(MatrixXf::Random(12, 5)), b(MatrixXf::Random(7, 9), 3.0f);
  std::stringstream s;
  a.save(s);
  b.save(s);
  const octet::LLMInt8Linear a2 = octet::LLMInt8Linear::load(s), b2 = octet::LLMInt8Linear::load(s);
  const MatrixXf xa = MatrixXf::Random(3, 12), xb = MatrixXf::Random(3, 7);
  CHECK(same_bits(a2(xa), a(xa)));
  CHECK(same_bits(b2(xb), b(xb)));
  CHECK(b2.threshold() == 3.0f);
}

TEST_CASE("deployment: a bad layer file is a std::runtime_error that says what is wrong", "[deployment]") {
  const octet::LLMInt8Linear layer(MatrixXf::Random(12, 5));
  const std::string good = saved(layer);
  REQUIRE(load_error(good) == "no error");
  CHECK(load_error("") .find("not an octet layer file") != std::string::npos);
  CHECK(load_error("GGUF....................") .find("not an octet layer file") != std::string::npos);
  std::string v = good;
  v[8] = 9;
  CHECK(load_error(v).find("unsupported version 9") != std::string::npos);
  CHECK(load_error(good.substr(0, 30)).find("truncated at byte 30") != std::string::npos);
  std::string bigger = good;
  bigger[16] = 13;  // k = 13: the shape fields no longer match the size
  CHECK(load_error(bigger).find("need") != std::string::npos);
  std::string huge = good;
  huge[23] = 0x7f;  // k = 2^62 and more: out of range, nothing allocated
  CHECK(load_error(huge).find("out of range") != std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  CHECK(load_error(flipped).find("checksum mismatch") != std::string::npos);
  CHECK(load_error(good + "x") == "no error");  // load reads one layer; what follows is the caller's
  std::string deep = good;
  deep[16] = 0, deep[17] = 0, deep[18] = 2;  // k = 131072, one past the int32 limit: rejected from the header
  CHECK(load_error(deep).find("deeper than exact int32 accumulation allows") != std::string::npos);
  CHECK_THROWS_AS(octet::LLMInt8Linear::load(std::string("/nonexistent/dir/layer.octet")), std::runtime_error);
}
