// A consumer compiled through a plain -I (not a system include) with -Wall -Wextra -Wpedantic -Wshadow
// -Wconversion -Wsign-conversion -Werror: octet's headers must not make a strict project's build fail. It uses
// the public API broadly, so that the templates behind it are instantiated, and checks a few results.
#include <cstdint>
#include <cstdio>
#include <sstream>

#include <octet/octet.hpp>

int main() {
  using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajorXf w = RowMajorXf::Random(24, 70);  // [out x in], as torch.nn.Linear.weight
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(5, 70);
  x(1, 3) = 30.0f;
  int failures = 0;

  octet::LLMInt8Options options;
  options.bias = Eigen::VectorXf::Constant(24, 0.5f);
  const octet::LLMInt8Linear layer = octet::LLMInt8Linear::from_torch(w, 6.0f, options);
  octet::LLMInt8Stats stats;
  const Eigen::MatrixXf y = layer(x, &stats);
  RowMajorXf y_row(5, 24);
  layer.forward(x, y_row);
  Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> y_bf16(5, 24);
  layer.forward(x.cast<Eigen::bfloat16>(), y_bf16);
  Eigen::Matrix<Eigen::half, Eigen::Dynamic, Eigen::Dynamic> y_half;
  layer.forward(x.cast<Eigen::half>(), y_half);
  failures += (y_row - y).cwiseAbs().maxCoeff() == 0.0f ? 0 : 1;
  failures += stats.outlier_columns.size() == 1 ? 0 : 1;

  octet::LLMInt8Options blocks;
  blocks.block_size = 32;
  blocks.semantics = octet::Semantics::bitsandbytes;
  const octet::LLMInt8Linear block_layer = octet::LLMInt8Linear::from_torch(w, 6.0f, blocks);
  const octet::LLMInt8Linear again = octet::LLMInt8Linear::from_quantized(
      block_layer.weight_codes(), block_layer.weight_step(), block_layer.threshold(), blocks);
  failures += (again(x) - block_layer(x)).cwiseAbs().maxCoeff() == 0.0f ? 0 : 1;

  const octet::MatrixXi8 cb = layer.weight_codes().transpose();
  const Eigen::VectorXf scb = w.cwiseAbs().rowwise().maxCoeff();
  const octet::LLMInt8Linear bnb = octet::LLMInt8Linear::from_bitsandbytes(cb, scb);
  std::stringstream file;
  bnb.save(file);
  const octet::LLMInt8Linear loaded = octet::LLMInt8Linear::load(file);
  failures += (loaded(x) - bnb(x)).cwiseAbs().maxCoeff() == 0.0f ? 0 : 1;

  octet::LLMInt8Options f32;
  f32.outlier_weights = octet::OutlierWeights::float32;
  const octet::LLMInt8Linear exact_outliers(w.transpose(), 6.0f, f32);
  failures += exact_outliers(x).allFinite() ? 0 : 1;
  failures += octet::matmul_llm_int8(x, w.transpose()).allFinite() ? 0 : 1;
  failures += octet::matmul_vectorwise(x, w.transpose()).allFinite() ? 0 : 1;
  failures += octet::outlier_columns(x).size() == 1 ? 0 : 1;

  const auto qa = octet::quantize<octet::ZeroPoint, octet::PerRow>(x);
  const auto qb = octet::quantize<octet::AbsMax, octet::PerColumn>(Eigen::MatrixXf(w.transpose()));
  const auto qm = octet::quantize<octet::MinMax, octet::PerTensor>(x);
  const auto qr = octet::quantize<octet::MidRange, octet::PerRowBlock<32>>(x);
  const auto qc = octet::quantize<octet::AbsMax, octet::PerColumnBlock<32>>(x);
  failures += octet::matmul(qa, qb).allFinite() ? 0 : 1;
  failures += octet::error_stats(x, qm.dequantize()).max_abs >= 0.0 ? 0 : 1;
  failures += qr.dequantize().allFinite() && qc.dequantize().allFinite() ? 0 : 1;

  const octet::MatrixXi8 a = octet::MatrixXi8::Constant(3, 70, -128), b = octet::MatrixXi8::Constant(70, 4, 127);
  const octet::PackedB pb(b);
  octet::MatrixXi32 c = octet::gemm_i8(a, pb);
  octet::gemm_i8(a, pb, c);
  failures += c(0, 0) == 70 * -128 * 127 ? 0 : 1;
  for (octet::Isa isa : octet::supported_isas()) std::printf("%s ", octet::isa_name(isa));
  std::printf("(active: %s), %d threads: %s\n", octet::active_isa(), octet::num_threads(), failures ? "FAILED" : "ok");
  octet::release_scratch();
  return failures == 0 ? 0 : 1;
}
