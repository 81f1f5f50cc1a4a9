// octet — the int8 GEMM: C(int32) = A(int8, m x k) * B(int8, k x n), exact for every int8 input.
//
//   auto c = octet::gemm_i8(a, b);            // one-off product (B is packed inside the call)
//   octet::PackedB pb(b);                     // weights: pack once...
//   auto c1 = octet::gemm_i8(a1, pb);         // ...multiply many activations against them
//   octet::gemm_i8(a2, pb, c2);               // ...into your own int32 matrix (any layout, a Map, a block)
//
// The kernel family is chosen at run time (octet::active_isa()); OCTET_ISA caps it. Threads: by default one per
// CPU the process may use (affinity mask, cgroup CPU quota), octet::set_num_threads(n) or OMP_NUM_THREADS to
// change; results are identical for any count.
//
// This file is the thin Eigen face: it turns the operands into views once and hands them to the generic
// driver (gemm/driver.hpp) through the one dispatch (gemm/dispatch.hpp).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "core/checks.hpp"
#include "core/config.hpp"
#include "core/isa.hpp"
#include "core/threads.hpp"
#include "core/eigen_views.hpp"
#include "gemm/dispatch.hpp"
#include "gemm/driver.hpp"
#include "gemm/pack.hpp"
#include "kernels/reference.hpp"

namespace octet {

/// The result type of gemm_i8: a column-major int32 matrix.
using MatrixXi32 = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>;
/// A column-major int8 matrix.
using MatrixXi8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>;

/// B (k x n, int8) packed once for the int8 GEMM: for weights that multiply many activations.
/// The layout belongs to one kernel family (by default the active one); memory is about k x n bytes
/// (k x n x 2 for the AVX2 path, whose kernel reads int16), plus 4 bytes per column. Copies are deep, as
/// Eigen's matrices'; a moved-from PackedB is empty (0 x 0), as a default-constructed one.
class PackedB {
 public:
  PackedB() = default;
  PackedB(const PackedB&) = default;
  PackedB& operator=(const PackedB&) = default;
  PackedB(PackedB&& o) noexcept : data_(std::exchange(o.data_, detail::PackedBData{})) {}
  PackedB& operator=(PackedB&& o) noexcept {
    data_ = std::exchange(o.data_, detail::PackedBData{});
    return *this;
  }

  /// Packs `b` for kernel family `isa` (default: octet::active_isa_id()). Throws std::invalid_argument if
  /// this machine cannot run `isa`, std::overflow_error if k is too deep for exact int32 accumulation.
  template <class Derived>
  explicit PackedB(const Eigen::MatrixBase<Derived>& b, Isa isa = active_isa_id()) {
    detail::check_depth(b.rows(), "octet::PackedB");
    detail::with_int8_view(b, [&](const detail::Int8View& v) { *this = PackedB(v, isa); });
  }

  /// Takes over packed data (octet's own use).
  explicit PackedB(detail::PackedBData&& d) : data_(std::move(d)) {}

  /// Packs a view (octet's own use: the Eigen boundary is above).
  template <class T>
  PackedB(const detail::ConstView<T>& b, Isa isa);

  Eigen::Index rows() const { return data_.k; }  ///< k
  Eigen::Index cols() const { return data_.n; }  ///< n
  Isa isa() const { return data_.isa; }          ///< the kernel family this layout is for
  /// Bytes held (packed data plus per-column corrections).
  std::size_t bytes() const {
    return data_.data.size() + (data_.correction.size() + data_.block_correction.size()) * sizeof(std::int32_t);
  }

  const detail::PackedBData& data() const { return data_; }  ///< the packed representation (for octet's own use)

 private:
  detail::PackedBData data_;
};

namespace detail {

/// Runs A * packed B through the driver on the path B was packed for, handing each finished int32 tile to
/// epilogue(path, i0, j0, rows, cols, tile, ldt) (see gemm_driver).
template <class Epilogue>
void gemm_view(const Int8View& a, const PackedBData& b, Epilogue&& epilogue) {
  with_path(b.isa, [&](auto path) {
    using P = decltype(path);
    gemm_driver<typename P::Kernel>(
        a, b, [&](Index i0, Index j0, Index rows, Index cols, const std::int32_t* tile, Index ldt) {
          epilogue(path, i0, j0, rows, cols, tile, ldt);
        },
        num_threads(), nullptr, FoldBlock<typename P::Float>{});
  });
}

/// A * packed B for an Eigen A, with a path-independent epilogue(i0, j0, rows, cols, tile, ldt).
template <class DA, class Epilogue>
void gemm_i8_tiles(const Eigen::MatrixBase<DA>& a, const PackedB& b, Epilogue&& epilogue, const char* who) {
  check_inner(who, "A", a.rows(), a.cols(), "B", b.rows(), b.cols());
  with_int8_view(a, [&](const Int8View& v) {
    gemm_view(v, b.data(), [&](auto, Index i0, Index j0, Index rows, Index cols, const std::int32_t* tile, Index ldt) {
      epilogue(i0, j0, rows, cols, tile, ldt);
    });
  });
}

/// C = A * packed B into `out` (m x n, any strides), each finished tile stored straight into it: the body of
/// gemm_i8 for every expression type (compiled once in octet::compiled).
template <class T>
void gemm_i8_into(const ConstView<T>& a, const PackedBData& b, const MutView<std::int32_t>& out);

/// out[j*ldo + i] = tile[i*ldt + j] for i < rows, j < cols (the active path's tile store).
inline void store_transposed(const std::int32_t* tile, Index ldt, Index rows, Index cols, std::int32_t* out, Index ldo) {
  with_path(active_isa_id(), [&](auto path) {
    decltype(path)::Float::store_tile(tile, ldt, rows, cols, MutView<std::int32_t>{out, rows, cols, 1, ldo});
  });
}

}  // namespace detail

/// C = A * B for a B packed once, written into the caller's int32 matrix `c`: either storage order, a Map (any
/// strides), a block (temporaries such as m.block(...) too: Eigen's const-reference output parameter). A
/// resizable matrix is resized to m x n; anything else must be m x n (else std::invalid_argument). Each finished
/// tile is stored straight into c (column-major destinations transposed in registers); with a destination of
/// the right size, steady-state calls allocate nothing. Results are bit-identical to gemm_i8(a, b).
template <class DA, class DC>
void gemm_i8(const Eigen::MatrixBase<DA>& a, const PackedB& b, const Eigen::MatrixBase<DC>& c_out) {
  static_assert(std::is_same<typename DC::Scalar, std::int32_t>::value, "octet::gemm_i8: c holds std::int32_t");
  const char* who = "octet::gemm_i8";
  detail::check_inner(who, "A", a.rows(), a.cols(), "B", b.rows(), b.cols());
  DC& c = const_cast<DC&>(c_out.derived());  // Eigen's pattern for output parameters
  detail::with_int8_view(a, [&](const detail::Int8View& v) {
    detail::check_no_alias(v, c, who, "A");
    detail::fit_destination(c, a.rows(), b.cols(), who);
    detail::gemm_i8_into(v, b.data(), detail::mut_view_of(c));
  });
}

/// C = A * B for a B packed once. Shape mismatch: std::invalid_argument naming both shapes.
template <class DA>
MatrixXi32 gemm_i8(const Eigen::MatrixBase<DA>& a, const PackedB& b) {
  detail::check_inner("octet::gemm_i8", "A", a.rows(), a.cols(), "B", b.rows(), b.cols());
  MatrixXi32 c(a.rows(), b.cols());
  gemm_i8(a, b, c);
  return c;
}

/// C = A * B (int8 x int8 -> exact int32) for any Eigen expressions. Shape mismatch: std::invalid_argument
/// naming both shapes; k > 131071 (where int32 could overflow): std::overflow_error.
template <class DA, class DB>
MatrixXi32 gemm_i8(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b) {
  detail::check_inner("octet::gemm_i8", "A", a.rows(), a.cols(), "B", b.rows(), b.cols());
  return gemm_i8(a, PackedB(b));
}

#if OCTET_DEFINE_BODIES
template <class T>
PackedB::PackedB(const detail::ConstView<T>& b, Isa isa) {
  static_assert(std::is_same<T, std::int8_t>::value, "octet::PackedB packs int8 codes");
  detail::with_path(isa, [&](auto path) { detail::pack_b<typename decltype(path)::Kernel>(b, data_); });
  data_.isa = isa;
}

template <class T>
void detail::gemm_i8_into(const ConstView<T>& a, const PackedBData& b, const MutView<std::int32_t>& out) {
  static_assert(std::is_same<T, std::int8_t>::value, "octet::gemm_i8 multiplies int8 codes");
  gemm_view(a, b, [&](auto path, Index i0, Index j0, Index rows, Index cols, const std::int32_t* tile, Index ldt) {
    decltype(path)::Float::store_tile(tile, ldt, rows, cols, {&out(i0, j0), rows, cols, out.rs, out.cs});
  });
}
#endif

}  // namespace octet
