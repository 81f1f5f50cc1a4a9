// A program built against octet::compiled (OCTET_COMPILED_LIB: the headers declare the heavy bodies, the
// library holds them): forward on every activation and result type and every path this CPU runs, gemm_i8 and
// matmul_llm_int8 give the results of the scalar reference and of the scalar path, bit for bit.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <octet/octet.hpp>
#include <octet/kernels/reference.hpp>

#ifndef OCTET_COMPILED_LIB
#  error "this test is built against octet::compiled"
#endif

namespace {

int failures = 0;

void check(bool ok, const char* what, octet::Isa isa) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s on %s\n", what, octet::isa_name(isa));
    ++failures;
  }
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

}  // namespace

int main() {
  using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(70, 33);
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(9, 70);
  x(2, 11) = 25.0f;  // one outlier column
  octet::LLMInt8Options scalar_options;
  scalar_options.isa = octet::Isa::scalar;
  const octet::LLMInt8Linear scalar_layer(w, 6.0f, scalar_options);
  const Eigen::MatrixXf expected = scalar_layer(x);
  const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic> xb = x.cast<Eigen::bfloat16>();
  const Eigen::MatrixXf expected_b = scalar_layer(xb.cast<float>());

  const octet::MatrixXi8 a = (Eigen::MatrixXf::Random(13, 50) * 127.0f).cast<std::int8_t>();
  const octet::MatrixXi8 b = (Eigen::MatrixXf::Random(50, 21) * 127.0f).cast<std::int8_t>();
  octet::MatrixXi32 c_ref(13, 21);
  octet::reference::gemm_i8(13, 21, 50, a.data(), 1, 13, b.data(), 1, 50, c_ref.data(), 1, 13);

  for (octet::Isa isa : octet::supported_isas()) {
    octet::LLMInt8Options o;
    o.isa = isa;
    const octet::LLMInt8Linear layer(w, 6.0f, o);
    check(same_bits(layer(x), expected), "float forward", isa);
    RowMajorXf y(9, 33);
    layer.forward(x, y);
    check(same_bits(y, expected), "float forward into row-major", isa);
    check(same_bits(layer(xb), expected_b), "bf16 forward", isa);
    Eigen::Matrix<Eigen::half, Eigen::Dynamic, Eigen::Dynamic> yh;
    layer.forward(xb, yh);
    check(same_bits(yh, expected_b.cast<Eigen::half>()), "bf16 in, half out", isa);
    const octet::LLMInt8Linear copy = octet::LLMInt8Linear::from_quantized(layer.weight_codes(), layer.weight_step(), 6.0f, o);
    check(same_bits(copy(x), expected), "from_quantized", isa);
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w_torch = w.transpose();  // [out x in]
    check(same_bits(octet::LLMInt8Linear::from_torch(w_torch, 6.0f, o)(x), expected), "from_torch", isa);
    const octet::MatrixXi8 cb = layer.weight_codes().transpose();
    const Eigen::VectorXf scb = w_torch.cwiseAbs().rowwise().maxCoeff();
    check(same_bits(octet::LLMInt8Linear::from_bitsandbytes(cb, scb, 6.0f, o)(x), expected), "from_bitsandbytes", isa);
    check(octet::gemm_i8(a, octet::PackedB(b, isa)) == c_ref, "gemm_i8", isa);
  }
  check(same_bits(octet::matmul_llm_int8(x, w), octet::matmul_llm_int8(Eigen::MatrixXf(x), Eigen::MatrixXf(w))),
        "matmul_llm_int8", octet::active_isa_id());
  check(octet::outlier_columns(x) == std::vector<Eigen::Index>{11}, "outlier_columns", octet::active_isa_id());
  if (failures == 0) std::printf("octet::compiled: every check passed on %d paths\n", int(octet::supported_isas().size()));
  return failures == 0 ? 0 : 1;
}
