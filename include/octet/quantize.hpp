#pragma once
// octet/quantize.hpp -- the quantizer policies.
//
// What is quantization here?
//
// A float matrix x is replaced by a matrix of 8-bit codes q and, for each *group* of values that share
// one set of parameters, a float `step` and a float `offset`, so that every value is approximately
//
//     x_hat = q * step + offset        (exactly this: one float32 multiplication, then one float32 addition)
//
// Four schemes choose the codes (s, z, c, step are per group; round = round half to even, in float32):
//
//   AbsMax     int8  [-127, 127]  s = 127 / max|x|
//                                 q = round(s*x)                                 x_hat = q / s
//   ZeroPoint  int8  [-128, 127]  s = 255 / (max - min) (a zero range counts as 1), z = round(-s*min) - 128
//                                 q = clip(round(s*x + z))                       x_hat = (q - z) / s
//   MidRange   int8  [-128, 127]  c = (min + max) / 2, step = (max - min) / 255
//                                 q = clip(round((x - c) / step))                x_hat = q*step + c
//   MinMax     uint8 [0, 255]     step = (max - min) / 255
//                                 q = clip(round((x - min) / step))              x_hat = q*step + min
//
// AbsMax is symmetric: 0 is always exact, but half of the codes are wasted on data of one sign (post-ReLU
// activations). ZeroPoint and MinMax spend all 256 codes on [min, max]. MidRange (LMDeploy's "symmetric" int8
// KV cache) centres the codes on the mid-range, which puts min and max exactly on rounding ties (-127.5 and
// +127.5): they come back off by step/2. In the affine form, AbsMax has step = max|x| / 127 and offset 0;
// ZeroPoint step = range / 255, offset = -z*step (and keeps z); MidRange offset = c; MinMax offset = min.
//
// A granularity says which values share a group: PerTensor (one group), PerRow (one per row: the vector-wise
// choice for activations X), PerColumn (one per column: the vector-wise choice for weights W), PerRowBlock<G>
// (each row cut into blocks of G columns) and PerColumnBlock<G> (each column cut into blocks of G rows): the
// block-wise choices for X and W, with blocks along k. All five are one grid of tiles (detail::tiled_groups).
//
// Every scheme is a small traits struct (core/schemes.hpp: code type, code range, `make_params`, `quantize_one`), so
// `Quantized<Scheme, Granularity>` and the integer-domain matmul are written once for all of them.
// docs/quantization.md states the guarantees, the edge cases and the error semantics in full.

#include <Eigen/Core>

#include "core/eigen_views.hpp"
#include "core/schemes.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace octet {

// ---------------------------------------------------------------------------------------------------------
// Granularities: the groups of a rows x cols matrix form a grid of tiles, each tile_rows x tile_cols elements
// (0: the whole extent). Element (i, j) belongs to tile (i / tile_rows, j / tile_cols); step and offset hold one
// entry per tile, in a param_rows x param_cols grid (a vector for the granularities with one index), and
// group(i, j, rows, cols) is the column-major index of (i, j)'s tile in that grid.
// ---------------------------------------------------------------------------------------------------------

namespace detail {

/// The grid of groups common to every granularity. A partial last tile is a group of its own; an extent of 0
/// has no tiles along it, except that a whole-extent dimension (tile size 0) always has exactly one.
template <Eigen::Index TileRows, Eigen::Index TileCols, class Params>
struct tiled_groups {
  static_assert(TileRows >= 0 && TileCols >= 0, "octet: tile sizes are positive, or 0 for the whole extent");
  using params_type = Params;  ///< the type of step and offset: Eigen::VectorXf or Eigen::MatrixXf

  /// Tiles of size t along an extent n: ceil(n / t) (without overflow), or 1 for t = 0.
  static constexpr Eigen::Index tiles(Eigen::Index n, Eigen::Index t) noexcept {
    return t == 0 ? 1 : (n == 0 ? 0 : (n - 1) / t + 1);
  }
  /// The shape of the grid of groups (of step and offset): param_rows x param_cols.
  static constexpr Eigen::Index param_rows(Eigen::Index rows, Eigen::Index) noexcept { return tiles(rows, TileRows); }
  static constexpr Eigen::Index param_cols(Eigen::Index, Eigen::Index cols) noexcept { return tiles(cols, TileCols); }
  /// Number of groups: the size of step and offset.
  static constexpr Eigen::Index groups(Eigen::Index rows, Eigen::Index cols) noexcept {
    return param_rows(rows, cols) * param_cols(rows, cols);
  }
  /// The group of element (i, j) of a rows x cols matrix: the column-major index of its tile in the grid.
  static constexpr Eigen::Index group(Eigen::Index i, Eigen::Index j, Eigen::Index rows,
                                      Eigen::Index cols) noexcept {
    Eigen::Index r = 0, c = 0;
    if constexpr (TileRows != 0) r = i / TileRows;
    if constexpr (TileCols != 0) c = j / TileCols;
    return r + param_rows(rows, cols) * c;
  }
};

}  // namespace detail

/// One group for the whole matrix.
struct PerTensor : detail::tiled_groups<0, 0, Eigen::VectorXf> {
  using tiled_groups::group;
  static Eigen::Index group(Eigen::Index, Eigen::Index) noexcept { return 0; }
};

/// One group per row (vector-wise quantization of the left operand X of X*W).
struct PerRow : detail::tiled_groups<1, 0, Eigen::VectorXf> {
  using tiled_groups::group;
  static Eigen::Index group(Eigen::Index i, Eigen::Index) noexcept { return i; }
};

/// One group per column (vector-wise quantization of the right operand W of X*W).
struct PerColumn : detail::tiled_groups<0, 1, Eigen::VectorXf> {
  using tiled_groups::group;
  static Eigen::Index group(Eigen::Index, Eigen::Index j) noexcept { return j; }
};

/// Each row split into blocks of G consecutive columns (block-wise quantization of X along k): step and offset
/// are rows x ceil(cols / G) matrices; element (i, j) belongs to block (i, j / G). A last partial block (cols not
/// a multiple of G) is a group of its own.
template <Eigen::Index G>
struct PerRowBlock : detail::tiled_groups<1, G, Eigen::MatrixXf> {
  static_assert(G >= 1, "octet::PerRowBlock<G>: the block size G must be at least 1");
  static constexpr Eigen::Index block_size = G;
};

/// Each column split into blocks of G consecutive rows (block-wise quantization of W along k): step and offset
/// are ceil(rows / G) x cols matrices; element (i, j) belongs to block (i / G, j). A last partial block (rows not
/// a multiple of G) is a group of its own.
template <Eigen::Index G>
struct PerColumnBlock : detail::tiled_groups<G, 1, Eigen::MatrixXf> {
  static_assert(G >= 1, "octet::PerColumnBlock<G>: the block size G must be at least 1");
  static constexpr Eigen::Index block_size = G;
};

namespace detail {

/// Members a scheme adds to Quantized beyond codes/step/offset (ZeroPoint: its integer zero points), in the
/// granularity's params_type (the type of step and offset).
template <class Scheme, class Params>
struct scheme_members {};

template <class Params>
struct scheme_members<ZeroPoint, Params> {
  /// z of each group: an integer (stored as float, exactly the z used by the codes). It is in [-128, 127]
  /// when the group's range contains 0; for data far from 0 it can exceed the int32 range.
  Params zero_point;
};

/// Sets a vector of step/offset parameters to n = rows * cols zeros, or a matrix to rows x cols zeros.
inline void zero_params(Eigen::VectorXf& v, Eigen::Index rows, Eigen::Index cols) { v.setZero(rows * cols); }
inline void zero_params(Eigen::MatrixXf& m, Eigen::Index rows, Eigen::Index cols) { m.setZero(rows, cols); }

/// Fills the members of scheme_members<Scheme> in quantize().
template <class Scheme>
struct extra_members {
  template <class Q>
  static void resize(Q&, Eigen::Index, Eigen::Index) {}
  template <class Q>
  static void set(Q&, Eigen::Index, const typename Scheme::params&) {}
};

template <>
struct extra_members<ZeroPoint> {
  template <class Q>
  static void resize(Q& q, Eigen::Index rows, Eigen::Index cols) { zero_params(q.zero_point, rows, cols); }
  template <class Q>
  static void set(Q& q, Eigen::Index g, const ZeroPoint::params& p) { q.zero_point(g) = p.zero_point; }
};

[[noreturn]] inline void throw_non_finite(float v, Eigen::Index i, Eigen::Index j) {
  const char* text = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  throw std::domain_error(std::string("octet::quantize: non-finite value ") + text + " at (row " +
                          std::to_string(i) + ", column " + std::to_string(j) + ")");
}

}  // namespace detail

/// A quantized matrix: codes plus one (step, offset) pair per group, with x_hat(i, j) = codes(i, j) * step(g)
/// + offset(g) for g = group(i, j). step and offset have Granularity::groups(rows, cols) entries, even for an
/// empty matrix: a vector of 1, rows or cols entries for PerTensor, PerRow, PerColumn; a rows x blocks matrix
/// for PerRowBlock, a blocks x cols matrix for PerColumnBlock (g is then a column-major linear index, and
/// step(i, b) / step(b, j) names a block directly). A group with no elements has step 0 and offset 0.
template <class Scheme, class Granularity = PerTensor>
struct Quantized : detail::scheme_members<Scheme, typename Granularity::params_type> {
  using scheme_type = Scheme;
  using granularity_type = Granularity;
  using code_type = typename Scheme::code_type;  ///< std::int8_t, or std::uint8_t for MinMax
  using codes_type = Eigen::Matrix<code_type, Eigen::Dynamic, Eigen::Dynamic>;
  using params_type = typename Granularity::params_type;  ///< Eigen::VectorXf, or Eigen::MatrixXf for blocks

  codes_type codes;    ///< the codes, same shape as the input, column-major
  params_type step;    ///< per group: the value of one code step
  params_type offset;  ///< per group: the value of code 0

  Eigen::Index rows() const noexcept { return codes.rows(); }
  Eigen::Index cols() const noexcept { return codes.cols(); }
  /// Number of groups: the size of step and offset.
  Eigen::Index groups() const noexcept { return Granularity::groups(codes.rows(), codes.cols()); }
  /// The group that element (i, j) belongs to: a (linear, column-major) index into step and offset.
  Eigen::Index group(Eigen::Index i, Eigen::Index j) const noexcept {
    return Granularity::group(i, j, codes.rows(), codes.cols());
  }

  /// x_hat = codes * step + offset, element by element, in float32 (one multiplication, then one addition).
  Eigen::MatrixXf dequantize() const {
    Eigen::MatrixXf out(codes.rows(), codes.cols());
    for (Eigen::Index j = 0; j < codes.cols(); ++j)
      for (Eigen::Index i = 0; i < codes.rows(); ++i) {
        const Eigen::Index g = group(i, j);
        out(i, j) = detail::affine(static_cast<float>(codes(i, j)), step(g), offset(g));
      }
    return out;
  }
};

/// Quantizes x (any Eigen matrix or expression of a real scalar type; the values are converted to float32
/// first) with Scheme, one parameter set per Granularity group. Throws std::domain_error naming the first
/// non-finite value (in column-major order) and its position, or a finite value beyond float's range ("out of
/// float range"); the input is never modified.
template <class Scheme, class Granularity = PerTensor, class Derived>
Quantized<Scheme, Granularity> quantize(const Eigen::MatrixBase<Derived>& x) {
  static_assert(!Eigen::NumTraits<typename Derived::Scalar>::IsComplex, "octet::quantize: real values only");
  using Index = Eigen::Index;
  const Eigen::MatrixXf xf = x.template cast<float>();
  if constexpr (detail::wider_than_float<typename Derived::Scalar>())
    detail::check_float_range(x, xf, "octet::quantize", "x");  // a finite double beyond float's range
  const Index rows = xf.rows(), cols = xf.cols();

  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i)
      if (!std::isfinite(xf(i, j))) detail::throw_non_finite(xf(i, j), i, j);

  const Index n = Granularity::groups(rows, cols);
  const auto group = [rows, cols](Index i, Index j) {
    return static_cast<std::size_t>(Granularity::group(i, j, rows, cols));
  };
  std::vector<float> lo(static_cast<std::size_t>(n), std::numeric_limits<float>::infinity());
  std::vector<float> hi(static_cast<std::size_t>(n), -std::numeric_limits<float>::infinity());
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) {
      const std::size_t g = group(i, j);
      lo[g] = std::min(lo[g], xf(i, j));
      hi[g] = std::max(hi[g], xf(i, j));
    }

  Quantized<Scheme, Granularity> out;
  const Index param_rows = Granularity::param_rows(rows, cols), param_cols = Granularity::param_cols(rows, cols);
  detail::zero_params(out.step, param_rows, param_cols);
  detail::zero_params(out.offset, param_rows, param_cols);
  detail::extra_members<Scheme>::resize(out, param_rows, param_cols);
  std::vector<typename Scheme::params> params(static_cast<std::size_t>(n));
  for (Index g = 0; g < n; ++g) {
    const auto k = static_cast<std::size_t>(g);
    if (lo[k] > hi[k]) continue;  // empty group: default parameters, step 0 and offset 0
    params[k] = Scheme::make_params(lo[k], hi[k]);
    out.step(g) = params[k].step;
    out.offset(g) = params[k].offset;
    detail::extra_members<Scheme>::set(out, g, params[k]);
  }

  out.codes.resize(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i)
      out.codes(i, j) = Scheme::quantize_one(params[group(i, j)], xf(i, j));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Error analysis
// ---------------------------------------------------------------------------------------------------------

/// How far approx is from reference, computed in double.
struct ErrorStats {
  double mean_abs;  ///< mean of |reference - approx| (0 for empty matrices)
  double max_abs;   ///< largest |reference - approx| (0 for empty matrices)
  double sqnr_db;   ///< 10 log10(sum reference^2 / sum (reference - approx)^2); +inf when the error is 0
};

/// Compares two matrices of the same shape (any real scalar types). Throws std::invalid_argument naming both
/// shapes when they differ. A zero reference with a non-zero error gives an SQNR of -inf; non-finite inputs
/// give non-finite figures.
template <class DA, class DB>
ErrorStats error_stats(const Eigen::MatrixBase<DA>& reference, const Eigen::MatrixBase<DB>& approx) {
  if (reference.rows() != approx.rows() || reference.cols() != approx.cols())
    throw std::invalid_argument("octet::error_stats: shape mismatch: reference is " +
                                std::to_string(reference.rows()) + "x" + std::to_string(reference.cols()) +
                                ", approx is " + std::to_string(approx.rows()) + "x" +
                                std::to_string(approx.cols()));
  const Eigen::MatrixXd r = reference.template cast<double>();
  const Eigen::MatrixXd a = approx.template cast<double>();
  double sum_abs = 0.0, max_abs = 0.0, signal = 0.0, noise = 0.0;
  for (Eigen::Index j = 0; j < r.cols(); ++j)
    for (Eigen::Index i = 0; i < r.rows(); ++i) {
      const double d = r(i, j) - a(i, j);
      const double ad = std::abs(d);
      sum_abs += ad;
      if (!(ad <= max_abs)) max_abs = ad;  // also lets a NaN through
      signal += r(i, j) * r(i, j);
      noise += d * d;
    }
  ErrorStats s;
  s.mean_abs = r.size() == 0 ? 0.0 : sum_abs / static_cast<double>(r.size());
  s.max_abs = max_abs;
  s.sqnr_db = noise == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
  return s;
}

}  // namespace octet
