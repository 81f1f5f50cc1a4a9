// octet — the integer-domain product of two Quantized matrices: matmul(qa, qb).
//
// Any schemes; A per tensor or per row, B per tensor or per column (those scales factor out of the sum over
// k; the block granularities do not, and are a compile-time error). The zero-point corrections (row sums of A's codes, column sums of B's) are applied around an exact int8
// GEMM of the codes, in double; the result equals qa.dequantize() * qb.dequantize() up to float rounding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "core/checks.hpp"
#include "gemm.hpp"
#include "quantize.hpp"

namespace octet {

namespace detail {
namespace qmm {

template <class G> struct factorable_a : std::false_type {};
template <> struct factorable_a<PerTensor> : std::true_type {};
template <> struct factorable_a<PerRow> : std::true_type {};
template <class G> struct factorable_b : std::false_type {};
template <> struct factorable_b<PerTensor> : std::true_type {};
template <> struct factorable_b<PerColumn> : std::true_type {};
/// PerRowBlock / PerColumnBlock: scales that change every G steps along k. They are rejected with a message of
/// their own (a block-wise product needs one int8 GEMM per block, scaled inside the k loop: not done here).
template <class G> struct is_block : std::false_type {};
template <Eigen::Index G> struct is_block<PerRowBlock<G>> : std::true_type {};
template <Eigen::Index G> struct is_block<PerColumnBlock<G>> : std::true_type {};

/// The codes as int8 (uint8 codes minus 128) and the shift that was subtracted.
template <class Code>
MatrixXi8 signed_codes(const Eigen::Matrix<Code, Eigen::Dynamic, Eigen::Dynamic>& codes, int& shift) {
  if constexpr (std::is_same<Code, std::int8_t>::value) {
    shift = 0;
    return codes;
  } else {
    static_assert(std::is_same<Code, std::uint8_t>::value, "octet::matmul: codes are int8 or uint8");
    shift = 128;
    return (codes.template cast<int>().array() - 128).template cast<std::int8_t>().matrix();
  }
}

}  // namespace qmm
}  // namespace detail

/// The product of two quantized matrices, computed in the integer domain: with x̂_a = q_a * step_a + offset_a
/// and x̂_b likewise, sum_p x̂_a(i,p) x̂_b(p,j) =
///     step_a(i) [step_b(j) C(i,j) + offset_b(j) R_a(i)] + offset_a(i) [step_b(j) R_b(j) + k offset_b(j)],
/// where C is the int8 GEMM of the codes (exact int32) and R_a, R_b are the row sums of A's codes and the column
/// sums of B's codes (uint8 MinMax codes enter the GEMM as q - 128, the 128 folded into the offset). The
/// corrections are computed in double; the result equals qa.dequantize() * qb.dequantize() up to float
/// rounding. Any schemes; A PerTensor or PerRow, B PerTensor or PerColumn (others, PerRowBlock and PerColumnBlock
/// included, do not factor out of the sum over k: a compile-time error). Throws std::invalid_argument on a shape mismatch (naming both shapes),
/// std::overflow_error when k > 131071.
template <class SA, class GA, class SB, class GB>
Eigen::MatrixXf matmul(const Quantized<SA, GA>& a, const Quantized<SB, GB>& b) {
  static_assert(!detail::qmm::is_block<GA>::value && !detail::qmm::is_block<GB>::value,
                "octet::matmul(qa, qb): block granularities (PerRowBlock<G>, PerColumnBlock<G>) are not supported: "
                "their steps change along k, the summed dimension, so they cannot be factored out of one int8 GEMM. "
                "Use PerRow for A and PerColumn for B, or multiply qa.dequantize() * qb.dequantize().");
  static_assert(detail::qmm::is_block<GA>::value || detail::qmm::factorable_a<GA>::value,
                "octet::matmul(qa, qb): A must be quantized PerTensor or PerRow. A per-column scale of A varies "
                "along k, the summed dimension, so it cannot be factored out of the int8 GEMM.");
  static_assert(detail::qmm::is_block<GB>::value || detail::qmm::factorable_b<GB>::value,
                "octet::matmul(qa, qb): B must be quantized PerTensor or PerColumn. A per-row scale of B varies "
                "along k, the summed dimension, so it cannot be factored out of the int8 GEMM.");
  using detail::Index;
  const char* who = "octet::matmul";
  detail::check_inner(who, "A", a.rows(), a.cols(), "B", b.rows(), b.cols());
  detail::check_depth(a.cols(), who);
  const Index m = a.rows(), k = a.cols(), n = b.cols();
  Eigen::MatrixXf y(m, n);
  if (m == 0 || n == 0) return y;
  int shift_a = 0, shift_b = 0;
  const MatrixXi8 ca = detail::qmm::signed_codes(a.codes, shift_a);
  const MatrixXi8 cb = detail::qmm::signed_codes(b.codes, shift_b);
  std::vector<double> sa(static_cast<std::size_t>(m)), oa(sa.size()), ra(sa.size());
  std::vector<double> sb(static_cast<std::size_t>(n)), colterm(sb.size()), ob(sb.size());
  for (Index i = 0; i < m; ++i) {
    const Index g = a.group(i, 0);
    const double st = a.step(g), off = double(a.offset(g)) + shift_a * st;
    std::int64_t s = 0;
    for (Index p = 0; p < k; ++p) s += ca(i, p);
    sa[static_cast<std::size_t>(i)] = st;
    oa[static_cast<std::size_t>(i)] = off;
    ra[static_cast<std::size_t>(i)] = static_cast<double>(s);
  }
  for (Index j = 0; j < n; ++j) {
    const Index g = b.group(0, j);
    const double st = b.step(g), off = double(b.offset(g)) + shift_b * st;
    std::int64_t s = 0;
    for (Index p = 0; p < k; ++p) s += cb(p, j);
    sb[static_cast<std::size_t>(j)] = st;
    ob[static_cast<std::size_t>(j)] = off;
    colterm[static_cast<std::size_t>(j)] = st * static_cast<double>(s) + static_cast<double>(k) * off;
  }
  float* out = y.data();
  detail::gemm_i8_tiles(
      ca, PackedB(cb),
      [&](Index i0, Index j0, Index rows, Index cols, const std::int32_t* tile, Index ldt) {
        for (Index j = j0; j < j0 + cols; ++j) {
          const auto uj = static_cast<std::size_t>(j);
          for (Index i = i0; i < i0 + rows; ++i) {
            const auto ui = static_cast<std::size_t>(i);
            const double c = tile[(i - i0) * ldt + (j - j0)];
            out[j * m + i] =
                static_cast<float>(sa[ui] * (sb[uj] * c + ob[uj] * ra[ui]) + oa[ui] * colterm[uj]);
          }
        }
      },
      who);
  return y;
}

}  // namespace octet
