// octet — the int8 GEMM: C(int32) = A(int8, m x k) * B(int8, k x n), exact for every int8 input.
//
//   auto c = octet::gemm_i8(a, b);            // one-off product (B is packed inside the call)
//   octet::PackedB pb(b);                     // weights: pack once...
//   auto c1 = octet::gemm_i8(a1, pb);         // ...multiply many activations against them
//
// The kernel family is chosen at run time (octet::active_isa()); OCTET_ISA caps it. Threads: all cores by
// default, octet::set_num_threads(n) or OMP_NUM_THREADS to change; results are identical for any count.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <Eigen/Core>

#include "core/dispatch.hpp"
#include "core/driver.hpp"
#include "core/isa.hpp"
#include "core/threads.hpp"
#include "kernels/reference.hpp"

namespace octet {

/// The result type of gemm_i8: a column-major int32 matrix.
using MatrixXi32 = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>;
/// A column-major int8 matrix.
using MatrixXi8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>;

namespace detail {

inline std::string shape(Index r, Index c) { return "(" + std::to_string(r) + " x " + std::to_string(c) + ")"; }

/// The largest depth for which an int32 sum of int8 products cannot overflow: k * 128 * 128 <= 2^31 - 1.
constexpr Index max_depth = std::numeric_limits<std::int32_t>::max() / (128 * 128);

inline void check_depth(Index k, const char* who) {
  if (k > max_depth)
    throw std::overflow_error(std::string(who) + ": depth k = " + std::to_string(k) +
                              " could overflow int32 accumulation (k * 128 * 128 > 2^31 - 1; at most " +
                              std::to_string(max_depth) + ")");
}

/// A strided view of int8 data: element (i, j) at data[i*rs + j*cs].
struct Int8View {
  const std::int8_t* data;
  Index rows, cols, rs, cs;
};

/// Calls f(Int8View) on any int8 Eigen expression: directly when it has direct access, else on a copy.
template <class Derived, class F>
decltype(auto) with_int8_view(const Eigen::MatrixBase<Derived>& x, F&& f) {
  static_assert(std::is_same<typename Derived::Scalar, std::int8_t>::value,
                "octet: the int8 GEMM takes matrices of std::int8_t (quantize float data first)");
  using Plain = typename Derived::PlainObject;
  if constexpr ((Derived::Flags & Eigen::DirectAccessBit) != 0) {
    const Derived& d = x.derived();
    const Index inner = d.innerStride(), outer = d.outerStride();
    const bool row_major = Derived::IsRowMajor;
    Int8View v{d.data(), d.rows(), d.cols(), row_major ? outer : inner, row_major ? inner : outer};
    if (d.rows() == 1) v.rs = 0;  // a vector's unused stride may be arbitrary
    if (d.cols() == 1) v.cs = 0;
    return f(v);
  } else {
    const Plain copy = x;
    Int8View v{copy.data(), copy.rows(), copy.cols(), Plain::IsRowMajor ? copy.outerStride() : 1,
               Plain::IsRowMajor ? 1 : copy.outerStride()};
    return f(v);
  }
}

}  // namespace detail

/// B (k x n, int8) packed once for the int8 GEMM: for weights that multiply many activations.
/// The layout belongs to one kernel family (by default the active one); memory is about k x n bytes
/// (k x n x 2 for the AVX2 path, whose kernel reads int16), plus 4 bytes per column.
class PackedB {
 public:
  PackedB() = default;

  /// Packs `b` for kernel family `isa` (default: octet::active_isa_id()). Throws std::invalid_argument if
  /// this machine cannot run `isa`, std::overflow_error if k is too deep for exact int32 accumulation.
  template <class Derived>
  explicit PackedB(const Eigen::MatrixBase<Derived>& b, Isa isa = active_isa_id()) {
    detail::check_depth(b.rows(), "octet::PackedB");
    detail::with_int8_view(b, [&](const detail::Int8View& v) {
      detail::with_kernel(isa, [&](auto kernel) {
        using K = decltype(kernel);
        detail::pack_b<K>(v.data, v.rs, v.cs, v.rows, v.cols, data_);
        data_.isa = isa;
      });
    });
  }

  Eigen::Index rows() const { return data_.k; }  ///< k
  Eigen::Index cols() const { return data_.n; }  ///< n
  Isa isa() const { return data_.isa; }          ///< the kernel family this layout is for
  /// Bytes held (packed data plus per-column corrections).
  std::size_t bytes() const { return data_.data.size() + data_.correction.size() * sizeof(std::int32_t); }

  const detail::PackedBData& data() const { return data_; }  ///< the packed representation (for octet's own use)

 private:
  detail::PackedBData data_;
};

namespace detail {

/// Runs A * packed B through the driver, handing finished int32 tiles to `epilogue` (see gemm_driver).
template <class DA, class Epilogue>
void gemm_i8_tiles(const Eigen::MatrixBase<DA>& a, const PackedB& b, Epilogue&& epilogue, const char* who) {
  if (a.cols() != b.rows())
    throw std::invalid_argument(std::string(who) + ": shape mismatch, A is " + shape(a.rows(), a.cols()) +
                                " and B is " + shape(b.rows(), b.cols()));
  with_int8_view(a, [&](const Int8View& v) {
    with_kernel(b.isa(), [&](auto kernel) {
      using K = decltype(kernel);
      gemm_driver<K>(v.rows, v.data, v.rs, v.cs, b.data(), epilogue, num_threads());
    });
  });
}

}  // namespace detail

/// C = A * B for a B packed once. Shape mismatch: std::invalid_argument naming both shapes.
template <class DA>
MatrixXi32 gemm_i8(const Eigen::MatrixBase<DA>& a, const PackedB& b) {
  MatrixXi32 c(a.rows(), b.cols());
  std::int32_t* out = c.data();
  const Eigen::Index ldc = c.rows();
  detail::gemm_i8_tiles(
      a, b,
      [out, ldc](detail::Index i0, detail::Index j0, detail::Index rows, detail::Index cols, const std::int32_t* tile,
                 detail::Index ldt) {
        detail::store_transposed(tile, ldt, rows, cols, out + j0 * ldc + i0, ldc);
      },
      "octet::gemm_i8");
  return c;
}

/// C = A * B (int8 x int8 -> exact int32) for any Eigen expressions. Shape mismatch: std::invalid_argument
/// naming both shapes; k > 131071 (where int32 could overflow): std::overflow_error.
template <class DA, class DB>
MatrixXi32 gemm_i8(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b) {
  if (a.cols() != b.rows())
    throw std::invalid_argument("octet::gemm_i8: shape mismatch, A is " + detail::shape(a.rows(), a.cols()) +
                                " and B is " + detail::shape(b.rows(), b.cols()));
  detail::check_depth(b.rows(), "octet::gemm_i8");
  return gemm_i8(a, PackedB(b));
}

}  // namespace octet
