// The compile-time probe (tests/compile_time/CMakeLists.txt): what an engine's source file does with octet —
// build a layer, run forward on row-major float and bf16 activations into preallocated buffers, one int8 GEMM —
// and, with OCTET_PROBE_EIGEN_ONLY, the same work with Eigen alone. Its CPU time to compile is what is measured.
#include <cstdint>
#include <cstdio>

#include <Eigen/Core>
#ifndef OCTET_PROBE_EIGEN_ONLY
#  include <octet/octet.hpp>
#endif

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXbf = Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixXi8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>;
using MatrixXi32 = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>;

int main() {
  const Eigen::Index m = 4, k = 64, n = 32;
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(k, n);
  const RowMatrixXf x = RowMatrixXf::Random(m, k);
  const RowMatrixXbf xb = x.cast<Eigen::bfloat16>();
  RowMatrixXf y(m, n);
  RowMatrixXbf yb(m, n);
  const MatrixXi8 a = MatrixXi8::Constant(m, k, 3), b = MatrixXi8::Constant(k, n, -2);
#ifndef OCTET_PROBE_EIGEN_ONLY
  const octet::LLMInt8Linear layer(w);
  layer.forward(x, y);
  layer.forward(xb, yb);
  const MatrixXi32 c = octet::gemm_i8(a, b);
#else
  y.noalias() = x * w;
  yb = (xb.cast<float>() * w).cast<Eigen::bfloat16>();
  const MatrixXi32 c = a.cast<std::int32_t>() * b.cast<std::int32_t>();
#endif
  std::printf("%g %g %d\n", double(y.sum()), double(yb.cast<float>().sum()), int(c.sum()));
  return 0;
}
