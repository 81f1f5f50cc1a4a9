// octet — views: a pointer and two strides, the only form in which matrices travel below the public headers.
//
// The public functions (gemm.hpp, llm_int8.hpp, quantized_matmul.hpp) turn an Eigen expression into a view
// once, at the boundary (core/eigen_views.hpp); the driver, the passes and the kernels take views and never
// see Eigen. Element (i, j) of a view is data[i*rs + j*cs].
#pragma once

#include <cstddef>
#include <cstdint>

namespace octet {
namespace detail {

using Index = std::ptrdiff_t;

inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }
inline Index round_up(Index a, Index b) { return ceil_div(a, b) * b; }

/// A read-only strided matrix of T.
template <class T>
struct ConstView {
  using value_type = T;
  const T* data = nullptr;
  Index rows = 0, cols = 0, rs = 0, cs = 0;
  const T& operator()(Index i, Index j) const { return data[i * rs + j * cs]; }
  ConstView transposed() const { return {data, cols, rows, cs, rs}; }
  /// Rows are contiguous (row-major access), or columns are (column-major access).
  bool rows_contiguous() const { return cs == 1 || cols <= 1; }
  bool cols_contiguous() const { return rs == 1 || rows <= 1; }
};

/// A writable strided matrix of T.
template <class T>
struct MutView {
  T* data = nullptr;
  Index rows = 0, cols = 0, rs = 0, cs = 0;
  T& operator()(Index i, Index j) const { return data[i * rs + j * cs]; }
};

using Int8View = ConstView<std::int8_t>;
using FloatView = ConstView<float>;

}  // namespace detail
}  // namespace octet
