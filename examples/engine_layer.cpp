// octet in an inference engine: a linear layer built from weights as an engine holds them, activations in
// bf16, results written into the engine's own buffers, the layer saved and loaded.
//
// Engines (and PyTorch, Hugging Face, bitsandbytes) keep a linear layer's weight as a row-major buffer of
// out_features x in_features floats and activations as [tokens x features], row-major.
// LLMInt8Linear::from_torch takes W in that layout: an Eigen::Map of the buffer, read in place (no copy).
#include <octet/octet.hpp>

#include <cstdio>
#include <random>
#include <sstream>
#include <vector>

int main() {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index in = 512, out = 256, tokens = 16;

  // The engine's weight buffer: out x in, row-major (as nn.Linear.weight).
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> weight(static_cast<std::size_t>(out * in));
  for (float& v : weight) v = normal(gen);
  const Eigen::Map<const RowMajor> w(weight.data(), out, in);

  // Build the layer from the [out x in] buffer as it is (from_torch packs W's transpose, read in place).
  const octet::LLMInt8Linear layer = octet::LLMInt8Linear::from_torch(w);

  // Activations in bf16, [tokens x features] row-major, with one outlier feature.
  Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x(tokens, in);
  std::normal_distribution<float> act(0.0f, 1.0f);
  for (Eigen::Index i = 0; i < tokens; ++i)
    for (Eigen::Index j = 0; j < in; ++j) x(i, j) = Eigen::bfloat16(j == 42 ? 30.0f * act(gen) : act(gen));

  // The result goes into the engine's own bf16 buffer: no allocation, no transposed copy.
  std::vector<Eigen::bfloat16> y_buffer(static_cast<std::size_t>(tokens * out));
  Eigen::Map<Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> y(y_buffer.data(), tokens, out);
  octet::LLMInt8Stats stats;
  layer.forward(x, y, &stats);

  // Compare with the float product X W^T.
  const Eigen::MatrixXf exact = x.cast<float>() * w.transpose();
  const double rel = (y.cast<float>() - exact).norm() / exact.norm();
  std::printf("layer: %ld -> %ld, %zu bytes (%.2f per weight), path %s\n", long(in), long(out), layer.bytes(),
              double(layer.bytes()) / double(in * out), octet::isa_name(layer.isa()));
  std::printf("outlier features computed in float: %zu (feature %ld)\n", stats.outlier_columns.size(),
              stats.outlier_columns.empty() ? -1L : long(stats.outlier_columns[0]));
  std::printf("relative error of the bf16 result against float X W^T: %.2e\n", rel);

  // Save and load (the file does not depend on the CPU: load packs for the machine that reads it).
  std::stringstream file;
  layer.save(file);
  const octet::LLMInt8Linear loaded = octet::LLMInt8Linear::load(file);
  Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> y2;
  loaded.forward(x, y2);
  std::printf("saved %zu bytes; the loaded layer gives %s results\n", file.str().size(),
              y2 == y ? "bit-identical" : "DIFFERENT");
  return y2 == y ? 0 : 1;
}
