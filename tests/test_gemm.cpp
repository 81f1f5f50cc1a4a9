// The int8 GEMM on every path this machine supports, against the scalar reference.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "catch.hpp"
#include "helpers.hpp"

using octet::MatrixXi32;
using octet::MatrixXi8;
using octet_test::random_i8;
using octet_test::reference_product;

namespace {

// Multiplies on one explicit path (B packed for it) and compares with the reference.
void check_path(octet::Isa isa, const MatrixXi8& a, const MatrixXi8& b) {
  INFO("isa " << octet::isa_name(isa) << ", m=" << a.rows() << " k=" << a.cols() << " n=" << b.cols());
  const octet::PackedB pb(b, isa);
  const MatrixXi32 c = octet::gemm_i8(a, pb);
  const MatrixXi32 expect = reference_product(a, b);
  REQUIRE(c.rows() == expect.rows());
  REQUIRE(c.cols() == expect.cols());
  CHECK(c == expect);
}

}  // namespace

TEST_CASE("gemm: random full-range matrices on every path", "[gemm]") {
  for (octet::Isa isa : octet::supported_isas())
    for (int threads : {1, 2}) {
      octet_test::ThreadScope scope(threads);
      check_path(isa, random_i8(37, 301, 1), random_i8(301, 83, 2));
      check_path(isa, random_i8(130, 517, 3), random_i8(517, 300, 4));
    }
}

TEST_CASE("gemm: worst-case values -128 and 127, alternating signs", "[gemm]") {
  const Eigen::Index m = 19, k = 1031, n = 45;
  const MatrixXi8 all_min = MatrixXi8::Constant(m, k, -128);
  const MatrixXi8 all_min_b = MatrixXi8::Constant(k, n, -128);
  const MatrixXi8 all_max_b = MatrixXi8::Constant(k, n, 127);
  MatrixXi8 alt_a(m, k), alt_b(k, n);
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index p = 0; p < k; ++p) alt_a(i, p) = ((i + p) % 2) ? -128 : 127;
  for (Eigen::Index p = 0; p < k; ++p)
    for (Eigen::Index j = 0; j < n; ++j) alt_b(p, j) = ((p + j) % 2) ? 127 : -128;
  for (octet::Isa isa : octet::supported_isas()) {
    check_path(isa, all_min, all_min_b);  // 1031 * 16384 per entry
    check_path(isa, all_min, all_max_b);
    check_path(isa, alt_a, alt_b);
    check_path(isa, alt_a, all_min_b);
  }
}

TEST_CASE("gemm: deep k = 8192 with extreme values", "[gemm]") {
  const MatrixXi8 a = random_i8(9, 8192, 5, -128, -100);
  const MatrixXi8 b = random_i8(8192, 40, 6, -128, -120);
  for (octet::Isa isa : octet::supported_isas()) check_path(isa, a, b);
}

TEST_CASE("gemm: the deepest k allowed, 131071, with worst-case values", "[gemm]") {
  // k * 128 * 128 is just below 2^31; the +128 shift of the VNNI paths makes intermediate sums pass 2^31.
  const Eigen::Index k = octet::detail::max_depth;
  MatrixXi8 a(3, k), b(k, 5);
  a.row(0).setConstant(-128);
  a.row(1).setConstant(127);
  for (Eigen::Index p = 0; p < k; ++p) a(2, p) = (p % 2) ? 127 : -128;
  b.col(0).setConstant(-128);
  b.col(1).setConstant(127);
  b.col(2).setConstant(-128);
  for (Eigen::Index p = 0; p < k; ++p) b(p, 3) = (p % 2) ? -128 : 127;
  for (Eigen::Index p = 0; p < k; ++p) b(p, 4) = (p % 2) ? 127 : -128;
  for (octet::Isa isa : octet::supported_isas()) check_path(isa, a, b);
}

TEST_CASE("gemm: every shape around the block edges", "[gemm]") {
  // Small sizes and sizes on both sides of multiples of 2, 4, 8, 16, 32, 64 (register and k blocks).
  const std::vector<Eigen::Index> ms = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17, 31, 33, 65};
  const std::vector<Eigen::Index> ns = {0, 1, 3, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 97, 129};
  const std::vector<Eigen::Index> ks = {0, 1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65};
  std::uint32_t seed = 100;
  for (octet::Isa isa : octet::supported_isas())
    for (Eigen::Index k : ks)
      for (std::size_t t = 0; t < ms.size(); ++t) {
        const Eigen::Index m = ms[t], n = ns[(t * 7 + static_cast<std::size_t>(k)) % ns.size()];
        check_path(isa, random_i8(m, k, seed), random_i8(k, n, seed + 1));
        check_path(isa, random_i8(n % 20, k, seed + 2), random_i8(k, ms[(t * 5) % ms.size()] * 3, seed + 3));
        seed += 4;
      }
}

TEST_CASE("gemm: cache-block edges in k and n", "[gemm]") {
  // Depths around 256/512/1024/2048 and widths around 256/512 cross the driver's KC/NC blocks.
  for (octet::Isa isa : octet::supported_isas())
    for (Eigen::Index k : {255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2049})
      for (Eigen::Index n : {255, 257, 513}) {
        const Eigen::Index m = (k % 3 == 0) ? 1 : 7;
        check_path(isa, random_i8(m, k, static_cast<std::uint32_t>(k + n)), random_i8(k, n, static_cast<std::uint32_t>(k * n)));
      }
}

TEST_CASE("gemm: large m crosses the row blocks, results identical for 1 and 2 threads", "[gemm]") {
  const MatrixXi8 a = random_i8(389, 300, 7), b = random_i8(300, 271, 8);
  const MatrixXi32 expect = reference_product(a, b);
  for (octet::Isa isa : octet::supported_isas()) {
    const octet::PackedB pb(b, isa);
    MatrixXi32 one, two;
    {
      octet_test::ThreadScope scope(1);
      one = octet::gemm_i8(a, pb);
    }
    {
      octet_test::ThreadScope scope(2);
      two = octet::gemm_i8(a, pb);
    }
    INFO("isa " << octet::isa_name(isa));
    CHECK(one == expect);
    CHECK(two == one);
  }
}

TEST_CASE("gemm: Eigen expressions as inputs", "[gemm]") {
  const MatrixXi8 big_a = random_i8(40, 70, 9), big_b = random_i8(90, 50, 10);
  const MatrixXi8 a = big_a.block(3, 5, 21, 60);
  const MatrixXi8 b = big_b.block(7, 2, 60, 33);
  const MatrixXi32 expect = reference_product(a, b);

  // blocks
  CHECK(octet::gemm_i8(big_a.block(3, 5, 21, 60), big_b.block(7, 2, 60, 33)) == expect);
  // row-major storage
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a_rm = a, b_rm = b;
  CHECK(octet::gemm_i8(a_rm, b_rm) == expect);
  // strided maps (every other column of a wider buffer)
  MatrixXi8 wide(21, 120);
  for (Eigen::Index j = 0; j < 60; ++j) wide.col(2 * j) = a.col(j);
  Eigen::Map<const MatrixXi8, 0, Eigen::OuterStride<>> a_strided(wide.data(), 21, 60, Eigen::OuterStride<>(42));
  CHECK(octet::gemm_i8(a_strided, b) == expect);
  Eigen::Map<const MatrixXi8, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> a_inner(
      wide.data(), 21, 60, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(42, 1));
  CHECK(octet::gemm_i8(a_inner, b) == expect);
  // transposes and a non-direct-access expression
  const MatrixXi8 at = a.transpose();
  CHECK(octet::gemm_i8(at.transpose(), b) == expect);
  CHECK(octet::gemm_i8(a.array().matrix(), (b.array() + std::int8_t(0)).matrix()) == expect);
  // a row vector times a matrix, and a matrix times a column vector
  const Eigen::Matrix<std::int8_t, 1, Eigen::Dynamic> row = a.row(4);
  CHECK(octet::gemm_i8(row, b) == expect.row(4));
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> col = b.col(3);
  CHECK(octet::gemm_i8(a, col) == expect.col(3));
}

TEST_CASE("gemm: bad shapes and depths are clear errors", "[gemm]") {
  const MatrixXi8 a = random_i8(3, 4, 11), b = random_i8(5, 2, 12);
  CHECK_THROWS_AS(octet::gemm_i8(a, b), std::invalid_argument);
  try {
    octet::gemm_i8(a, b);
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("(3 x 4)") != std::string::npos);
    CHECK(what.find("(5 x 2)") != std::string::npos);
  }
  const octet::PackedB pb(b);
  CHECK_THROWS_AS(octet::gemm_i8(a, pb), std::invalid_argument);

  // k = 131072: 131072 * 128 * 128 = 2^31 does not fit an int32 (only the shape is inspected).
  const MatrixXi8 deep_a(1, 131072), deep_b(131072, 1);
  CHECK_THROWS_AS(octet::gemm_i8(deep_a, deep_b), std::overflow_error);
  CHECK(octet::detail::max_depth == 131071);
}

TEST_CASE("gemm: empty operands give empty or zero results", "[gemm]") {
  for (octet::Isa isa : octet::supported_isas()) {
    check_path(isa, MatrixXi8(0, 5), random_i8(5, 7, 13));
    check_path(isa, random_i8(4, 5, 14), MatrixXi8(5, 0));
    const MatrixXi32 c = octet::gemm_i8(MatrixXi8(3, 0), octet::PackedB(MatrixXi8(0, 6), isa));
    CHECK(c.rows() == 3);
    CHECK(c.cols() == 6);
    CHECK(c.isZero());
  }
}

TEST_CASE("gemm: shapes around the x86 kernels' blocks (MR 6, NR 16/64, MC 192, KC 512/1024, few-row path)", "[gemm]") {
  // m: around MR = 6, the whole-depth path for tiles of at most 6 panels (36 rows) and MC = 192.
  // k: around KC (512 and 1024 values, i.e. 128/256 groups of 4 and 256/512 groups of 2).
  // n: around NR = 16 and 64 and NC = 256 (which shrinks to keep two threads busy).
  std::uint32_t seed = 500;
  for (octet::Isa isa : octet::supported_isas()) {
    if (isa == octet::Isa::scalar) continue;
    for (int threads : {1, 2}) {
      octet_test::ThreadScope scope(threads);
      for (Eigen::Index m : {1, 2, 5, 6, 7, 11, 12, 35, 36, 37, 191, 192, 193})
        for (Eigen::Index k : {511, 512, 1025, 2052}) {
          const Eigen::Index n = (m * 7 + k) % 3 == 0 ? 320 : (m % 2 ? 63 : 257);
          check_path(isa, random_i8(m, k, seed), random_i8(k, n, seed + 1));
          seed += 2;
        }
    }
  }
}

TEST_CASE("gemm: a row-major A and a custom epilogue with store_transposed", "[gemm]") {
  const MatrixXi8 a = random_i8(45, 300, 21), b = random_i8(300, 77, 22);
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a_rm = a;
  const MatrixXi32 expect = reference_product(a, b);
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    const octet::PackedB pb(b, isa);
    MatrixXi32 c = MatrixXi32::Constant(45, 77, -1);
    octet::detail::gemm_i8_tiles(
        a_rm, pb,
        [&c](octet::detail::Index i0, octet::detail::Index j0, octet::detail::Index rows, octet::detail::Index cols,
             const std::int32_t* tile, octet::detail::Index ldt) {
          octet::detail::store_transposed(tile, ldt, rows, cols, c.data() + j0 * c.rows() + i0, c.rows());
        },
        "test");
    CHECK(c == expect);
  }
}

TEST_CASE("gemm: store_transposed on every size up to 20 x 20", "[gemm]") {
  for (octet::detail::Index rows = 0; rows <= 20; ++rows)
    for (octet::detail::Index cols = 0; cols <= 20; ++cols) {
      const octet::detail::Index ldt = cols + 3, ldo = rows + 2;
      std::vector<std::int32_t> tile(static_cast<std::size_t>(rows * ldt + 1)), out(static_cast<std::size_t>(cols * ldo + 1), -7);
      for (std::size_t e = 0; e < tile.size(); ++e) tile[e] = static_cast<std::int32_t>(e * 2654435761u);
      octet::detail::store_transposed(tile.data(), ldt, rows, cols, out.data(), ldo);
      bool ok = true;
      for (octet::detail::Index j = 0; j < cols; ++j)
        for (octet::detail::Index i = 0; i < ldo; ++i) {
          const std::int32_t want = i < rows ? tile[static_cast<std::size_t>(i * ldt + j)] : -7;
          ok = ok && out[static_cast<std::size_t>(j * ldo + i)] == want;
        }
      INFO("rows " << rows << " cols " << cols);
      CHECK(ok);
    }
}

TEST_CASE("gemm: into the caller's int32 matrix of any layout, bit for bit the returning gemm_i8", "[gemm]") {
  using RowMajorXi32 = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  std::uint32_t seed = 700;
  for (octet::Isa isa : octet::supported_isas())
    for (int threads : {1, 2})
      for (const auto& [m, k, n] : {std::array<Eigen::Index, 3>{1, 64, 17}, {7, 300, 77}, {45, 129, 100},
                                    {200, 65, 33}, {3, 1, 1}, {0, 5, 9}, {6, 0, 10}}) {
        octet_test::ThreadScope scope(threads);
        INFO("isa " << octet::isa_name(isa) << ", threads " << threads << ", m=" << m << " k=" << k << " n=" << n);
        const MatrixXi8 a = random_i8(m, k, seed), b = random_i8(k, n, seed + 1);
        seed += 2;
        const octet::PackedB pb(b, isa);
        const MatrixXi32 expect = octet::gemm_i8(a, pb);
        CHECK(expect == reference_product(a, b));

        MatrixXi32 col(2, 3);  // resized
        octet::gemm_i8(a, pb, col);
        CHECK(col == expect);
        RowMajorXi32 row;
        octet::gemm_i8(a, pb, row);
        CHECK(row == expect);
        const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a_rm = a;
        octet::gemm_i8(a_rm, pb, row);
        CHECK(row == expect);

        // Maps with an outer stride (either order) and an inner stride: the gaps stay untouched.
        std::vector<std::int32_t> buf(static_cast<std::size_t>((m + 5) * (n + 5) + 1), -7);
        Eigen::Map<MatrixXi32, 0, Eigen::OuterStride<>> map_c(buf.data(), m, n, Eigen::OuterStride<>(m + 5));
        octet::gemm_i8(a, pb, map_c);
        CHECK(map_c == expect);
        const auto untouched = [&](Eigen::Index used) { return std::count(buf.begin(), buf.end(), -7) >= static_cast<long>(buf.size()) - used; };
        CHECK(untouched(m * n));
        std::fill(buf.begin(), buf.end(), -7);
        Eigen::Map<RowMajorXi32, 0, Eigen::OuterStride<>> map_r(buf.data(), m, n, Eigen::OuterStride<>(n + 3));
        octet::gemm_i8(a, pb, map_r);
        CHECK(map_r == expect);
        CHECK(untouched(m * n));
        std::vector<std::int32_t> wide(static_cast<std::size_t>((2 * m + 1) * n + 1), -7);
        Eigen::Map<MatrixXi32, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> map_s(
            wide.data(), m, n, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(2 * m + 1, 2));
        octet::gemm_i8(a, pb, map_s);
        CHECK(map_s == expect);
        CHECK(std::count(wide.begin(), wide.end(), -7) >= static_cast<long>(wide.size()) - m * n);

        MatrixXi32 big = MatrixXi32::Constant(m + 4, n + 6, -7);
        octet::gemm_i8(a, pb, big.block(2, 3, m, n));  // a temporary block
        CHECK(big.block(2, 3, m, n) == expect);
        MatrixXi32 margin = big;
        margin.block(2, 3, m, n).setConstant(-7);
        CHECK((margin.array() == -7).all());
        RowMajorXi32 big_r = RowMajorXi32::Constant(m + 4, n + 6, -7);
        octet::gemm_i8(a, pb, big_r.middleCols(1, n).bottomRows(m));
        CHECK(big_r.middleCols(1, n).bottomRows(m) == expect);
        CHECK((big_r.col(0).array() == -7).all());
      }
}

TEST_CASE("gemm: a destination of the wrong shape is a clear error", "[gemm]") {
  const MatrixXi8 a = random_i8(5, 8, 31), b = random_i8(8, 6, 32);
  const octet::PackedB pb(b);
  MatrixXi32 big = MatrixXi32::Zero(10, 10);
  CHECK_THROWS_AS(octet::gemm_i8(a, pb, big.block(0, 0, 5, 5)), std::invalid_argument);
  CHECK_THROWS_AS(octet::gemm_i8(a, pb, big.block(0, 0, 6, 6)), std::invalid_argument);
  Eigen::Map<MatrixXi32> map(big.data(), 6, 5);
  try {
    octet::gemm_i8(a, pb, map);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("(6 x 5)") != std::string::npos);
    CHECK(what.find("(5 x 6)") != std::string::npos);
  }
  CHECK((big.array() == 0).all());  // nothing written
  const MatrixXi8 wrong_k = random_i8(5, 7, 33);
  MatrixXi32 c;
  CHECK_THROWS_AS(octet::gemm_i8(wrong_k, pb, c), std::invalid_argument);
  Eigen::Matrix<std::int32_t, 5, 6> fixed;  // a fixed-size matrix of the right shape is fine
  octet::gemm_i8(a, pb, fixed);
  CHECK(fixed == reference_product(a, b));
}
