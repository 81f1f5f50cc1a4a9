// octet — the Eigen boundary: an Eigen expression becomes a view (core/views.hpp) once, here.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "checks.hpp"
#include "views.hpp"

namespace octet {
namespace detail {

/// The view of an Eigen expression with direct access (a matrix, a block, a Map, a transpose of one of them).
/// A dimension of size 1 gets stride 0, so that an arbitrary unused stride is never multiplied.
template <class Derived>
auto view_of(const Eigen::DenseBase<Derived>& x) {
  static_assert((Derived::Flags & Eigen::DirectAccessBit) != 0, "octet: view_of needs direct access");
  using T = std::remove_const_t<typename Derived::Scalar>;
  const Derived& d = x.derived();
  const Index inner = d.innerStride(), outer = d.outerStride();
  const bool row_major = Derived::IsRowMajor;
  ConstView<T> v{d.data(), d.rows(), d.cols(), row_major ? outer : inner, row_major ? inner : outer};
  if (v.rows <= 1) v.rs = 0;
  if (v.cols <= 1) v.cs = 0;
  return v;
}

/// The writable view of a plain matrix, block or Map.
template <class Derived>
auto mut_view_of(Eigen::DenseBase<Derived>& x) {
  static_assert((Derived::Flags & Eigen::DirectAccessBit) != 0 && (Derived::Flags & Eigen::LvalueBit) != 0,
                "octet: the destination must be writable with direct access");
  using T = typename Derived::Scalar;
  Derived& d = x.derived();
  const Index inner = d.innerStride(), outer = d.outerStride();
  const bool row_major = Derived::IsRowMajor;
  return MutView<T>{d.data(), d.rows(), d.cols(), row_major ? outer : inner, row_major ? inner : outer};
}

/// Makes an output parameter rows x cols, checked before it is touched: a resizable matrix whose compile-time
/// shape allows rows x cols is resized; anything else (a vector of the other orientation, a fixed-size matrix, a
/// Map, a block) must have that shape already. Otherwise std::invalid_argument "who: the destination is (r x c),
/// the result is (r x c)", and the destination keeps its size and contents.
template <class Derived>
void fit_destination(Derived& y, Index rows, Index cols, const char* who) {
  if constexpr (std::is_base_of<Eigen::PlainObjectBase<Derived>, Derived>::value) {
    constexpr Index R = Derived::RowsAtCompileTime, C = Derived::ColsAtCompileTime;
    constexpr Index MR = Derived::MaxRowsAtCompileTime, MC = Derived::MaxColsAtCompileTime;
    const bool fits = (R == Eigen::Dynamic || R == rows) && (C == Eigen::Dynamic || C == cols) &&
                      (MR == Eigen::Dynamic || rows <= MR) && (MC == Eigen::Dynamic || cols <= MC);
    if (fits) {
      if (y.rows() != rows || y.cols() != cols) y.resize(rows, cols);
      return;
    }
  }
  if (y.rows() != rows || y.cols() != cols)
    throw std::invalid_argument(std::string(who) + ": the destination is " + shape(y.rows(), y.cols()) +
                                ", the result is " + shape(rows, cols));
}

/// The bytes [first, last) that a strided matrix occupies (empty: first == last).
struct ByteRange {
  std::uintptr_t first = 0, last = 0;
  bool overlaps(const ByteRange& o) const { return first < last && o.first < o.last && first < o.last && o.first < last; }
};
template <class T>
ByteRange byte_range(const T* data, Index rows, Index cols, Index rs, Index cs) {
  if (rows <= 0 || cols <= 0 || data == nullptr) return {};
  const auto first = reinterpret_cast<std::uintptr_t>(data);
  const auto span = static_cast<std::uintptr_t>(((rows - 1) * rs + (cols - 1) * cs + 1) * Index(sizeof(T)));
  return {first, first + span};
}
template <class T>
ByteRange byte_range(const ConstView<T>& v) {
  return byte_range(v.data, v.rows, v.cols, v.rs, v.cs);
}
/// The memory a destination holds now (before any resize).
template <class Derived>
ByteRange byte_range_of(const Eigen::DenseBase<Derived>& y) {
  const Derived& d = y.derived();
  const Index inner = d.innerStride(), outer = d.outerStride();
  const bool row_major = Derived::IsRowMajor;
  return byte_range(d.data(), d.rows(), d.cols(), row_major ? outer : inner, row_major ? inner : outer);
}

/// Throws std::invalid_argument when the destination y shares memory with the input x (a view of what the
/// caller passed: a copy, made for a strided or converted input, never does): the result would overwrite, or a
/// resize free, what is still to be read.
template <class T, class Derived>
void check_no_alias(const ConstView<T>& x, const Eigen::DenseBase<Derived>& y, const char* who, const char* name) {
  if (byte_range(x).overlaps(byte_range_of(y)))
    throw std::invalid_argument(std::string(who) + ": the destination shares memory with " + name +
                                " (write the result into another matrix)");
}

/// Calls f(Int8View) on any int8 Eigen expression: in place when it has direct access, else on a copy (the
/// only case in which octet copies an operand the caller passed).
template <class Derived, class F>
decltype(auto) with_int8_view(const Eigen::MatrixBase<Derived>& x, F&& f) {
  static_assert(std::is_same<typename Derived::Scalar, std::int8_t>::value,
                "octet: the int8 GEMM takes matrices of std::int8_t (quantize float data first)");
  if constexpr ((Derived::Flags & Eigen::DirectAccessBit) != 0) {
    return f(view_of(x));
  } else {
    const typename Derived::PlainObject copy = x;
    return f(view_of(copy));
  }
}

/// Whether a scalar type holds finite values beyond float's range (double, long double).
template <class S>
constexpr bool wider_than_float() {
  return std::is_floating_point<S>::value && sizeof(S) > sizeof(float);
}

/// Throws std::domain_error when a finite value of x became infinite in its float copy: "who: value 1e+39 at
/// (row i, column j) of name is out of float range".
template <class Derived>
void check_float_range(const Eigen::MatrixBase<Derived>& x, const Eigen::MatrixXf& copy, const char* who,
                       const char* name) {
  for (Index j = 0; j < copy.cols(); ++j)
    for (Index i = 0; i < copy.rows(); ++i)
      if (!std::isfinite(copy(i, j))) {
        const auto v = x.derived().coeff(i, j);
        if (std::isfinite(v))
          throw std::domain_error(std::string(who) + ": value " + number_text(static_cast<double>(v)) + " at (row " +
                                  std::to_string(i) + ", column " + std::to_string(j) + ") of " + name +
                                  " is out of float range");
      }
}

/// Calls f(FloatView) on any real Eigen expression: in place for float data with a unit stride in one
/// direction, else on a float copy (a finite value beyond float's range is std::domain_error, naming who and the
/// operand's name).
template <class Derived, class F>
decltype(auto) with_float_view(const Eigen::MatrixBase<Derived>& x, const char* who, const char* name, F&& f) {
  using S = typename Derived::Scalar;
  static_assert(!Eigen::NumTraits<S>::IsComplex, "octet: real matrices only");
  if constexpr (std::is_same<S, float>::value && (Derived::Flags & Eigen::DirectAccessBit) != 0) {
    const FloatView v = view_of(x);
    if (v.rows_contiguous() || v.cols_contiguous()) return f(v);
    const Eigen::MatrixXf copy = x;
    return f(view_of(copy));
  } else {
    const Eigen::MatrixXf copy = x.template cast<float>();
    if constexpr (wider_than_float<S>()) check_float_range(x, copy, who, name);
    return f(view_of(copy));
  }
}

/// The 16-bit float types octet reads and writes without a float copy: Eigen::bfloat16 and Eigen::half.
template <class S>
struct is_float16 : std::false_type {};
template <>
struct is_float16<Eigen::bfloat16> : std::true_type {};
template <>
struct is_float16<Eigen::half> : std::true_type {};

/// Calls f(ConstView<T>) on activations: T is float, or bfloat16 / half read in place (converted inside the
/// passes); a strided or other-typed expression is copied first (to float; 16-bit types keep their type).
template <class Derived, class F>
decltype(auto) with_activation_view(const Eigen::MatrixBase<Derived>& x, const char* who, const char* name, F&& f) {
  using S = typename Derived::Scalar;
  if constexpr (is_float16<S>::value) {
    if constexpr ((Derived::Flags & Eigen::DirectAccessBit) != 0) {
      const auto v = view_of(x);
      if (v.rows_contiguous() || v.cols_contiguous()) return f(v);
    }
    const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> copy = x;
    return f(view_of(copy));
  } else {
    return with_float_view(x, who, name, std::forward<F>(f));
  }
}

}  // namespace detail
}  // namespace octet
