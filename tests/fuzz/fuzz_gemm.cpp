// libFuzzer target: the int8 GEMM on every kernel path, against the scalar reference (int64 accumulation).
//
// The input chooses the shape (up to a few hundred per dimension, m*n*k bounded so one run stays fast), the
// memory layout of A and of B (column- or row-major, maps with outer or inner strides, blocks, transposes,
// vectors, expressions without direct access), how the values are drawn (full range, mostly -128 and 127, or
// small) and the values themselves. Every path of octet::supported_isas() (PackedB(b, isa)) and the one-call
// gemm_i8(a, b) must give exactly the reference, with 1 and with 2 threads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <octet/kernels/reference.hpp>
#include <octet/octet.hpp>

#include "fuzz_input.hpp"

namespace {

using Eigen::Index;
using octet::MatrixXi32;
using octet::MatrixXi8;
using RowMajorI8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int kLayouts = 10;
const char* const kLayoutNames[kLayouts] = {"column-major",       "row-major",          "Map+OuterStride",
                                            "row-major Map+OuterStride", ".block()", ".transpose()",
                                            "Map+Stride(inner 2)", "reverse (no direct access)",
                                            "vector type",        "Map+Stride(row-major, inner 3)"};

/// Calls f with an Eigen expression whose value is `m` (rows x cols), stored as `layout` says. Padding and
/// unused elements hold `junk`, so a kernel reading outside the view gives a wrong answer.
template <class F>
void with_layout(int layout, const MatrixXi8& m, std::int8_t junk, F&& f) {
  const Index rows = m.rows(), cols = m.cols();
  switch (layout) {
    case 0: f(m); return;
    case 1: {
      const RowMajorI8 r = m;
      f(r);
      return;
    }
    case 2: {  // column-major, leading dimension rows + 3
      const Index ld = rows + 3;
      std::vector<std::int8_t> s(static_cast<std::size_t>(ld * std::max<Index>(cols, 1)), junk);
      Eigen::Map<MatrixXi8, 0, Eigen::OuterStride<>>(s.data(), rows, cols, Eigen::OuterStride<>(ld)) = m;
      f(Eigen::Map<const MatrixXi8, 0, Eigen::OuterStride<>>(s.data(), rows, cols, Eigen::OuterStride<>(ld)));
      return;
    }
    case 3: {  // row-major, leading dimension cols + 5
      const Index ld = cols + 5;
      std::vector<std::int8_t> s(static_cast<std::size_t>(ld * std::max<Index>(rows, 1)), junk);
      Eigen::Map<RowMajorI8, 0, Eigen::OuterStride<>>(s.data(), rows, cols, Eigen::OuterStride<>(ld)) = m;
      f(Eigen::Map<const RowMajorI8, 0, Eigen::OuterStride<>>(s.data(), rows, cols, Eigen::OuterStride<>(ld)));
      return;
    }
    case 4: {  // a block inside a larger matrix
      MatrixXi8 big = MatrixXi8::Constant(rows + 3, cols + 2, junk);
      big.block(2, 1, rows, cols) = m;
      const MatrixXi8& cbig = big;
      f(cbig.block(2, 1, rows, cols));
      return;
    }
    case 5: {
      const MatrixXi8 t = m.transpose();
      f(t.transpose());
      return;
    }
    case 6: {  // column-major with inner stride 2: no unit stride at all
      const Index inner = 2, outer = 2 * rows + 1;
      std::vector<std::int8_t> s(static_cast<std::size_t>(outer * std::max<Index>(cols, 1) + 2), junk);
      using S = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
      Eigen::Map<MatrixXi8, 0, S>(s.data(), rows, cols, S(outer, inner)) = m;
      f(Eigen::Map<const MatrixXi8, 0, S>(s.data(), rows, cols, S(outer, inner)));
      return;
    }
    case 7: {
      const MatrixXi8 r = m.reverse();
      f(r.reverse());
      return;
    }
    case 8:  // a vector type where the shape allows one
      if (rows == 1) {
        const Eigen::Matrix<std::int8_t, 1, Eigen::Dynamic> v = m;
        f(v);
      } else if (cols == 1) {
        const Eigen::Matrix<std::int8_t, Eigen::Dynamic, 1> v = m;
        f(v);
      } else {
        f(m.transpose().transpose());
      }
      return;
    default: {  // row-major with inner stride 3
      const Index inner = 3, outer = 3 * cols + 2;
      std::vector<std::int8_t> s(static_cast<std::size_t>(outer * std::max<Index>(rows, 1) + 3), junk);
      using S = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
      Eigen::Map<RowMajorI8, 0, S>(s.data(), rows, cols, S(outer, inner)) = m;
      f(Eigen::Map<const RowMajorI8, 0, S>(s.data(), rows, cols, S(outer, inner)));
      return;
    }
  }
}

/// A dimension: usually small, sometimes up to `big`.
int dimension(octet_fuzz::Input& in, int big) {
  const int kind = in.byte() % 8;
  if (kind < 4) return in.below(17);        // 0..16: kernel edges, tails, empties
  if (kind < 7) return in.below(80);        // a few register blocks
  return in.below(big + 1);                 // cache-block edges
}

std::int8_t value(int mode, std::uint8_t b) {
  switch (mode) {
    case 0: return static_cast<std::int8_t>(b);                                   // full range
    case 1: return b < 100 ? std::int8_t(-128) : b < 200 ? std::int8_t(127) : static_cast<std::int8_t>(b);
    case 2: return (b & 1) ? std::int8_t(-128) : std::int8_t(127);                 // worst case only
    default: return static_cast<std::int8_t>(int(b % 7) - 3);                      // small
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  octet_fuzz::Input in(data, size);
  Index m = dimension(in, 300), n = dimension(in, 300), k = dimension(in, 1100);
  while (m * n * k > (Index(1) << 21)) {  // bound the work of one run (the reference is a triple loop)
    Index& d = (m >= n && m >= k) ? m : (n >= k ? n : k);
    d /= 2;
  }
  const int layout_a = in.below(kLayouts), layout_b = in.below(kLayouts);
  const int mode_a = in.below(4), mode_b = in.below(4);
  const std::int8_t junk = static_cast<std::int8_t>(in.byte());
  in.start_bulk();

  MatrixXi8 a(m, k), b(k, n);
  std::size_t next = 0;
  for (Index j = 0; j < k; ++j)
    for (Index i = 0; i < m; ++i) a(i, j) = value(mode_a, in.bulk(next++));
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < k; ++i) b(i, j) = value(mode_b, in.bulk(next++));

  MatrixXi32 expect(m, n);
  octet::reference::gemm_i8(m, n, k, a.data(), 1, m, b.data(), 1, k, expect.data(), 1, m);

  auto check = [&](const MatrixXi32& c, const char* what, int isa, int threads) {
    OCTET_FUZZ_CHECK(c.rows() == m && c.cols() == n, "%s: result is %ld x %ld, expected %ld x %ld", what,
                     long(c.rows()), long(c.cols()), long(m), long(n));
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < m; ++i)
        OCTET_FUZZ_CHECK(c(i, j) == expect(i, j),
                         "%s: C(%ld, %ld) = %d, reference %d; m %ld n %ld k %ld, A %s (values %d), B %s "
                         "(values %d), isa %d, threads %d",
                         what, long(i), long(j), c(i, j), expect(i, j), long(m), long(n), long(k),
                         kLayoutNames[layout_a], mode_a, kLayoutNames[layout_b], mode_b, isa, threads);
  };

  with_layout(layout_a, a, junk, [&](const auto& a_view) {
    octet::set_num_threads(1 + int(m % 2));
    check(octet::gemm_i8(a_view, b), "gemm_i8(a, b)", -1, 1 + int(m % 2));
    with_layout(layout_b, b, junk, [&](const auto& b_view) {
      for (octet::Isa isa : octet::supported_isas()) {
        const octet::PackedB pb(b_view, isa);
        OCTET_FUZZ_CHECK(pb.rows() == k && pb.cols() == n && pb.isa() == isa, "PackedB reports %ld x %ld",
                         long(pb.rows()), long(pb.cols()));
        for (int threads : {1, 2}) {
          octet::set_num_threads(threads);
          check(octet::gemm_i8(a_view, pb), "gemm_i8(a, PackedB(b, isa))", static_cast<int>(isa), threads);
        }
      }
    });
  });
  octet::set_num_threads(0);
  return 0;
}
