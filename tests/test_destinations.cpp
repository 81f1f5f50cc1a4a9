// Destinations are checked before they are touched: a wrongly shaped or non-resizable destination throws
// std::invalid_argument and keeps its size and contents; a destination that shares memory with the input is an
// error, never a read of what was overwritten.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "catch.hpp"

#include <octet/octet.hpp>

#include "helpers.hpp"

namespace {

using Eigen::MatrixXf;
using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

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

/// Calls f(), which must throw std::invalid_argument, and checks that `dst` kept its shape and every byte.
template <class D, class F>
void throws_untouched(const D& dst, F&& f) {
  const Eigen::Index rows = dst.rows(), cols = dst.cols();
  const Eigen::Matrix<typename D::Scalar, Eigen::Dynamic, Eigen::Dynamic> before = dst;
  CHECK_THROWS_AS(f(), std::invalid_argument);
  CHECK(dst.rows() == rows);
  CHECK(dst.cols() == cols);
  CHECK(same_bits(dst, before));
}

}  // namespace

TEST_CASE("destinations: a wrongly shaped forward destination throws and keeps its size and contents", "[destinations]") {
  const MatrixXf w = MatrixXf::Random(24, 7);
  const octet::LLMInt8Linear layer(w);
  const MatrixXf x1 = MatrixXf::Random(1, 24), x3 = MatrixXf::Random(3, 24);
  Eigen::VectorXf v = Eigen::VectorXf::LinSpaced(5, 1.0f, 5.0f);  // n x 1 can never hold a 1 x n result
  throws_untouched(v, [&] { layer.forward(x1, v); });
  Eigen::VectorXf v7 = Eigen::VectorXf::LinSpaced(7, 1.0f, 7.0f);
  throws_untouched(v7, [&] { layer.forward(x1, v7); });
  Eigen::RowVectorXf r = Eigen::RowVectorXf::LinSpaced(7, 1.0f, 7.0f);  // 1 x n cannot hold 3 x n
  throws_untouched(r, [&] { layer.forward(x3, r); });
  Eigen::Matrix<float, 2, 7> fixed = Eigen::Matrix<float, 2, 7>::Constant(3.0f);
  throws_untouched(fixed, [&] { layer.forward(x3, fixed); });
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, 0, 2, 8> bounded = Eigen::MatrixXf::Constant(2, 7, 4.0f);
  throws_untouched(bounded, [&] { layer.forward(x3, bounded); });
  std::vector<float> buffer(40, 9.0f);
  Eigen::Map<RowMajorXf> map(buffer.data(), 3, 6);
  throws_untouched(map, [&] { layer.forward(x3, map); });
  CHECK(buffer[39] == 9.0f);
  MatrixXf big = MatrixXf::Constant(5, 9, 2.0f);
  throws_untouched(big, [&] { layer.forward(x3, big.block(0, 0, 3, 6)); });
  Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, 1> vb = Eigen::VectorXf::Constant(7, 1.5f).cast<Eigen::bfloat16>();
  throws_untouched(vb, [&] { layer.forward(x1, vb); });

  // Shapes that fit are written: a resizable row vector for a 1 x n result, a column vector for an m x 1 result.
  Eigen::RowVectorXf row;
  layer.forward(x1, row);
  CHECK(same_bits(row, layer(x1)));
  const octet::LLMInt8Linear column(MatrixXf::Random(24, 1));
  Eigen::VectorXf col = Eigen::VectorXf::Constant(2, 0.0f);
  column.forward(x3, col);
  CHECK(same_bits(col, column(x3)));
  Eigen::Matrix<float, 3, 7> exact;
  layer.forward(x3, exact);
  CHECK(same_bits(exact, layer(x3)));
}

TEST_CASE("destinations: forward into its own X is an error, with X untouched, for any n", "[destinations]") {
  for (const Eigen::Index n : {Eigen::Index(8), Eigen::Index(24), Eigen::Index(40)}) {  // n < k, n == k, n > k
    INFO("n " << n);
    const octet::LLMInt8Linear layer(MatrixXf::Random(24, n));
    MatrixXf x = MatrixXf::Random(3, 24);
    x(1, 5) = 20.0f;  // an outlier column: the outlier product reads X again
    throws_untouched(x, [&] { layer.forward(x, x); });
    RowMajorXf xr = x;
    throws_untouched(xr, [&] { layer.forward(xr, xr); });
    // A block of the same matrix that overlaps X (by 4 columns), and a Map over X's memory.
    MatrixXf big = MatrixXf::Random(3, 24 + n - 4);
    big(2, 3) = -30.0f;
    throws_untouched(big, [&] { layer.forward(big.leftCols(24), big.rightCols(n)); });
    throws_untouched(x, [&] { layer.forward(x, Eigen::Map<MatrixXf>(x.data() + 1, 1, std::min<Eigen::Index>(n, 24))); });
    // Disjoint parts of one matrix are fine.
    MatrixXf both = MatrixXf::Random(3, 24 + n);
    both(0, 7) = 11.0f;
    const MatrixXf expected = layer(both.leftCols(24));
    layer.forward(both.leftCols(24), both.rightCols(n));
    CHECK(same_bits(both.rightCols(n), expected));
  }
}

TEST_CASE("destinations: an X that is copied first may be overwritten by its own result", "[destinations]") {
  const octet::LLMInt8Linear layer(MatrixXf::Random(12, 20));
  MatrixXf storage = MatrixXf::Random(6, 24);
  storage(2, 6) = 15.0f;
  // Every second row and column: neither stride is 1, so forward reads a float copy of X.
  const Eigen::Map<const MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> strided(
      storage.data(), 3, 12, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(12, 2));
  const MatrixXf expected = layer(MatrixXf(strided));
  layer.forward(strided, storage);  // storage is resized to 3 x 20 after the copy is made
  CHECK(same_bits(storage, expected));
  // A converted X (double) is a copy too.
  Eigen::MatrixXd xd = Eigen::MatrixXd::Random(2, 12);
  const MatrixXf expected_d = layer(xd.cast<float>());
  MatrixXf y;
  layer.forward(xd, y);
  CHECK(same_bits(y, expected_d));
}

TEST_CASE("destinations: gemm_i8 checks its destination and rejects one that shares memory with A", "[destinations]") {
  const octet::MatrixXi8 a = octet_test::random_i8(4, 16, 1), b = octet_test::random_i8(16, 6, 2);
  const octet::PackedB pb(b);
  Eigen::VectorXi v = Eigen::VectorXi::LinSpaced(6, 1, 6);
  const octet::MatrixXi8 a1 = a.topRows(1);
  throws_untouched(v, [&] { octet::gemm_i8(a1, pb, v); });
  Eigen::Matrix<std::int32_t, 4, 5> fixed = Eigen::Matrix<std::int32_t, 4, 5>::Constant(7);
  throws_untouched(fixed, [&] { octet::gemm_i8(a, pb, fixed); });
  octet::MatrixXi32 big = octet::MatrixXi32::Constant(6, 8, -3);
  throws_untouched(big, [&] { octet::gemm_i8(a, pb, big.block(1, 1, 4, 5)); });
  // A as int8 bytes inside C's own buffer: an error before C is resized or written.
  octet::MatrixXi32 c = octet::MatrixXi32::Constant(2, 16, 0x01020304);
  const Eigen::Map<const octet::MatrixXi8> inside(reinterpret_cast<const std::int8_t*>(c.data()), 4, 16);
  throws_untouched(c, [&] { octet::gemm_i8(inside, pb, c); });
  octet::MatrixXi32 c4(4, 6);
  const Eigen::Map<const octet::MatrixXi8> inside4(reinterpret_cast<const std::int8_t*>(c4.data()), 4, 16);
  c4.setConstant(0x05060708);
  throws_untouched(c4, [&] { octet::gemm_i8(inside4, pb, c4); });
  // The right shape, disjoint: written, and equal to the reference.
  Eigen::Matrix<std::int32_t, 4, 6, Eigen::RowMajor> out;
  octet::gemm_i8(a, pb, out);
  CHECK(out == octet_test::reference_product(a, b));
}
