// libFuzzer target: every quantizer (AbsMax, ZeroPoint, MidRange, MinMax x PerTensor, PerRow, PerColumn) on
// float matrices made from the input's bytes (raw bit patterns, so NaN, Inf, subnormals and huge values occur,
// plus a table of edge values and repeats that make constant groups).
//
// Each result must be either the documented std::domain_error (a NaN or Inf anywhere, named with its position;
// ZeroPoint on a constant group whose zero point round(-255 * value) - 128 overflows float32), or exactly -- bit
// for bit -- what the scalar reference below computes: codes, step, offset, zero_point and dequantize().
//
// The reference is written from docs/quantization.md: per group, the formulas of the scheme table, the
// power-of-two rescaling of groups whose max|x| is below 2^-60 or above 2^60 (so that max|x| lands in [1, 2)),
// the affine parameters (step, offset) and the contract x_hat = q * step + offset (a float32 product, then a
// float32 sum). It repeats the float32 operations in the order quantize.hpp performs them (the only way to be
// bit-exact: in exact arithmetic the formulas tie at MidRange's extremes); this file is compiled with
// -ffp-contract=off, so none of them is fused into an FMA. It shares no code with the library.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <octet/octet.hpp>

#include "fuzz_input.hpp"

namespace {

using Eigen::Index;
using Eigen::MatrixXf;

// ------------------------------------------------------------------------------------------------------------
// The reference
// ------------------------------------------------------------------------------------------------------------

/// The exponent e of the exact rescaling by 2^e: 0 for ordinary groups, else the one that brings max|x| into
/// [1, 2) (docs/quantization.md, edge cases: "tiny or huge groups").
int rescale(float absmax) {
  if (absmax == 0.0f || (absmax >= 0x1p-60f && absmax <= 0x1p60f)) return 0;
  return -std::ilogb(absmax);
}
float times_pow2(float x, int e) { return e == 0 ? x : std::ldexp(x, e); }
float clip_round(float v, float lo, float hi) { return std::fmin(std::fmax(std::nearbyint(v), lo), hi); }

enum class Scheme { AbsMax, ZeroPoint, MidRange, MinMax };
enum class Gran { PerTensor, PerRow, PerColumn };

/// One group's parameters and its code function.
struct Group {
  Scheme scheme;
  float step = 0, offset = 0, zero_point = 0;
  float s = 0, c = 0, lo = 0, st = 0;  // scheme-specific: scale, mid-range, minimum, rescaled step
  int e = 0;
  bool overflow = false;  // ZeroPoint: the zero point of a constant group is not finite

  Group(Scheme sc, float min, float max) : scheme(sc) {
    const float amax = std::fmax(std::fabs(min), std::fabs(max));
    switch (scheme) {
      case Scheme::AbsMax:  // s = 127 / max|x|, step = max|x| / 127
        if (amax == 0.0f) return;
        e = rescale(amax);
        s = 127.0f / times_pow2(amax, e);
        step = times_pow2(times_pow2(amax, e) / 127.0f, -e);
        return;
      case Scheme::ZeroPoint:  // s = 255 / (max - min), a zero range counting as 1; z = round(-s min) - 128
        if (min == max) {
          s = 255.0f;
          zero_point = std::nearbyint(-s * min) - 128.0f;
          overflow = !std::isfinite(zero_point);
          step = 1.0f / 255.0f;
        } else {
          e = rescale(amax);
          const float range = times_pow2(max, e) - times_pow2(min, e);
          s = 255.0f / range;
          zero_point = std::nearbyint(-s * times_pow2(min, e)) - 128.0f;
          step = times_pow2(range / 255.0f, -e);
        }
        offset = -(zero_point * step);
        return;
      case Scheme::MidRange:  // c = (min + max) / 2, step = (max - min) / 255; a constant group: step 0, offset c
        if (min == max) {
          offset = min;
          return;
        }
        e = rescale(amax);
        c = (times_pow2(min, e) + times_pow2(max, e)) / 2.0f;
        st = (times_pow2(max, e) - times_pow2(min, e)) / 255.0f;
        step = times_pow2(st, -e);
        offset = times_pow2(c, -e);
        return;
      case Scheme::MinMax:  // step = (max - min) / 255, offset = min
        offset = min;
        if (min == max) return;
        e = rescale(amax);
        lo = times_pow2(min, e);
        st = (times_pow2(max, e) - lo) / 255.0f;
        step = times_pow2(st, -e);
        return;
    }
  }

  int code(float x) const {
    const float xs = times_pow2(x, e);
    switch (scheme) {
      case Scheme::AbsMax: return static_cast<int>(clip_round(s * xs, -127.0f, 127.0f));
      case Scheme::ZeroPoint: {
        const float product = s * xs;  // rounded on its own (no FMA: -ffp-contract=off)
        return static_cast<int>(clip_round(product + zero_point, -128.0f, 127.0f));
      }
      case Scheme::MidRange: return st == 0.0f ? 0 : static_cast<int>(clip_round((xs - c) / st, -128.0f, 127.0f));
      case Scheme::MinMax: return st == 0.0f ? 0 : static_cast<int>(clip_round((xs - lo) / st, 0.0f, 255.0f));
    }
    return 0;
  }

  float dequantize(int q) const {
    const float product = static_cast<float>(q) * step;
    return product + offset;
  }
};

Index groups(Gran g, Index rows, Index cols) { return g == Gran::PerTensor ? 1 : g == Gran::PerRow ? rows : cols; }
Index group_of(Gran g, Index i, Index j) { return g == Gran::PerTensor ? 0 : g == Gran::PerRow ? i : j; }

// ------------------------------------------------------------------------------------------------------------
// Checking octet against it
// ------------------------------------------------------------------------------------------------------------

template <class S> constexpr Scheme scheme_of();
template <> constexpr Scheme scheme_of<octet::AbsMax>() { return Scheme::AbsMax; }
template <> constexpr Scheme scheme_of<octet::ZeroPoint>() { return Scheme::ZeroPoint; }
template <> constexpr Scheme scheme_of<octet::MidRange>() { return Scheme::MidRange; }
template <> constexpr Scheme scheme_of<octet::MinMax>() { return Scheme::MinMax; }
template <class G> constexpr Gran gran_of();
template <> constexpr Gran gran_of<octet::PerTensor>() { return Gran::PerTensor; }
template <> constexpr Gran gran_of<octet::PerRow>() { return Gran::PerRow; }
template <> constexpr Gran gran_of<octet::PerColumn>() { return Gran::PerColumn; }

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

template <class S, class G, class D>
void check(const MatrixXf& x, const Eigen::MatrixBase<D>& view, const char* view_name) {
  constexpr Scheme scheme = scheme_of<S>();
  constexpr Gran gran = gran_of<G>();
  const Index rows = x.rows(), cols = x.cols();
  const char* name = S::name;
  const int gi = static_cast<int>(gran);

  // Expected: the first non-finite value in column-major order, else per-group parameters.
  Index bad_i = -1, bad_j = -1;
  for (Index j = 0; j < cols && bad_i < 0; ++j)
    for (Index i = 0; i < rows; ++i)
      if (!std::isfinite(x(i, j))) {
        bad_i = i;
        bad_j = j;
        break;
      }
  const Index n = groups(gran, rows, cols);
  std::vector<float> min(static_cast<std::size_t>(n), std::numeric_limits<float>::infinity());
  std::vector<float> max(static_cast<std::size_t>(n), -std::numeric_limits<float>::infinity());
  std::vector<Group> params;
  bool overflow = false;
  if (bad_i < 0) {
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < rows; ++i) {
        const auto g = static_cast<std::size_t>(group_of(gran, i, j));
        // The first of equal values wins (std::min/std::max semantics): it decides the sign of a zero minimum,
        // which MinMax and MidRange keep as their offset.
        if (x(i, j) < min[g]) min[g] = x(i, j);
        if (max[g] < x(i, j)) max[g] = x(i, j);
      }
    for (Index g = 0; g < n; ++g) {
      const auto u = static_cast<std::size_t>(g);
      params.push_back(min[u] <= max[u] ? Group(scheme, min[u], max[u]) : Group(scheme, 0.0f, 0.0f));
      if (min[u] <= max[u]) overflow |= params.back().overflow;
    }
  }

  try {
    const auto q = octet::quantize<S, G>(view);
    OCTET_FUZZ_CHECK(bad_i < 0, "%s/%d (%s): no exception for the non-finite value at (%ld, %ld)", name, gi, view_name,
                     long(bad_i), long(bad_j));
    OCTET_FUZZ_CHECK(!overflow, "%s/%d (%s): no exception for a constant group whose zero point overflows", name, gi,
                     view_name);
    OCTET_FUZZ_CHECK(q.codes.rows() == rows && q.codes.cols() == cols && q.step.size() == n && q.offset.size() == n,
                     "%s/%d (%s): shapes", name, gi, view_name);
    for (Index g = 0; g < n; ++g) {
      const Group& p = params[static_cast<std::size_t>(g)];
      const bool empty = !(min[static_cast<std::size_t>(g)] <= max[static_cast<std::size_t>(g)]);
      const float step = empty ? 0.0f : p.step, offset = empty ? 0.0f : p.offset;
      OCTET_FUZZ_CHECK(same_bits(q.step(g), step) && same_bits(q.offset(g), offset),
                       "%s/%d (%s): group %ld of [%a, %a]: step %a offset %a, reference step %a offset %a", name, gi,
                       view_name, long(g), double(min[static_cast<std::size_t>(g)]),
                       double(max[static_cast<std::size_t>(g)]), double(q.step(g)), double(q.offset(g)),
                       double(step), double(offset));
      if constexpr (scheme == Scheme::ZeroPoint) {
        const float z = empty ? 0.0f : p.zero_point;
        OCTET_FUZZ_CHECK(same_bits(q.zero_point(g), z), "%s/%d (%s): group %ld: zero point %a, reference %a", name,
                         gi, view_name, long(g), double(q.zero_point(g)), double(z));
      }
    }
    const MatrixXf xhat = q.dequantize();
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < rows; ++i) {
        const Group& p = params[static_cast<std::size_t>(group_of(gran, i, j))];
        const int got = static_cast<int>(q.codes(i, j)), want = p.code(x(i, j));
        OCTET_FUZZ_CHECK(got == want, "%s/%d (%s): code(%ld, %ld) of x = %a is %d, reference %d", name, gi, view_name,
                         long(i), long(j), double(x(i, j)), got, want);
        OCTET_FUZZ_CHECK(scheme != Scheme::AbsMax || got != -128, "AbsMax gave -128");
        OCTET_FUZZ_CHECK(same_bits(xhat(i, j), p.dequantize(got)) && !std::isnan(xhat(i, j)),
                         "%s/%d (%s): dequantize()(%ld, %ld) = %a, reference %a", name, gi, view_name, long(i),
                         long(j), double(xhat(i, j)), double(p.dequantize(got)));
      }
  } catch (const std::domain_error& e) {
    const std::string what = e.what();
    if (bad_i >= 0) {
      const std::string where = "(row " + std::to_string(bad_i) + ", column " + std::to_string(bad_j) + ")";
      const float v = x(bad_i, bad_j);
      const char* text = std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
      OCTET_FUZZ_CHECK(what.find(where) != std::string::npos &&
                           what.find(std::string("non-finite value ") + text + " at") != std::string::npos,
                       "%s/%d (%s): the message does not name %s at %s: %s", name, gi, view_name, text, where.c_str(),
                       what.c_str());
    } else {
      OCTET_FUZZ_CHECK(overflow, "%s/%d (%s): unexpected std::domain_error: %s", name, gi, view_name, what.c_str());
    }
  }
}

template <class S, class G>
void check_views(const MatrixXf& x, int view) {
  check<S, G>(x, x, "MatrixXf");
  switch (view) {  // the same values through another Eigen expression: the same result
    case 0: {
      const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = x;
      check<S, G>(x, r, "row-major");
      break;
    }
    case 1: {
      MatrixXf big = MatrixXf::Constant(x.rows() + 2, x.cols() + 1, 7.0f);
      big.block(1, 1, x.rows(), x.cols()) = x;
      const MatrixXf& cbig = big;
      check<S, G>(x, cbig.block(1, 1, x.rows(), x.cols()), ".block()");
      break;
    }
    case 2: {
      const Eigen::MatrixXd d = x.cast<double>();  // float -> double -> float is exact
      check<S, G>(x, d, "MatrixXd");
      break;
    }
    default: break;
  }
}

template <class S>
void check_scheme(const MatrixXf& x, int view) {
  check_views<S, octet::PerTensor>(x, view);
  check_views<S, octet::PerRow>(x, view);
  check_views<S, octet::PerColumn>(x, view);
}

/// Values that sit on the edges the docs describe: zeros, the rescaling bounds 2^-60 and 2^60, subnormals,
/// FLT_MAX, ZeroPoint's overflow bound (about 1.3e36), ties, and non-finite values.
float special(int i) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  static const float table[] = {0.0f,         -0.0f,       1.0f,          -1.0f,        0.5f,
                                127.5f,       0x1p-60f,    0x1.fffffep-61f, 0x1p60f,    0x1.000002p60f,
                                1e-45f,       -1e-45f,     1.17549435e-38f, 1e-40f,     3.4028235e38f,
                                -3.4028235e38f, 1.3e36f,   1.34e36f,      -1.34e36f,    6.0f,
                                std::numeric_limits<float>::quiet_NaN(), inf, -inf, 2.5f};
  return table[i % static_cast<int>(sizeof table / sizeof table[0])];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  octet_fuzz::Input in(data, size);
  const Index rows = in.below(13), cols = in.below(13);
  const int mode = in.below(4);           // how values are drawn
  const bool finite_only = in.byte() < 160;  // most inputs reach the code formulas
  const float scale = std::ldexp(1.0f, in.below(256) - 128);  // a common magnitude (mode 3)
  const int view = in.below(4);
  in.start_bulk();

  MatrixXf x(rows, cols);
  std::size_t next = 0;
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) {
      const std::uint8_t kind = in.bulk(next++);
      float v;
      if (mode == 0 || kind < 64) {
        v = in.bulk_float(next);  // any bit pattern
        next += 4;
      } else if (kind < 128) {
        v = special(in.bulk(next++));
      } else if (kind < 160 && (i > 0 || j > 0)) {
        v = i > 0 ? x(i - 1, j) : x(i, j - 1);  // repeats: constant rows and columns
      } else {
        v = static_cast<float>(static_cast<std::int8_t>(in.bulk(next++))) * (mode == 3 ? scale : 0.25f);
      }
      if (finite_only && !std::isfinite(v)) v = 1.5f;
      x(i, j) = v;
    }

  check_scheme<octet::AbsMax>(x, view);
  check_scheme<octet::ZeroPoint>(x, view);
  check_scheme<octet::MidRange>(x, view);
  check_scheme<octet::MinMax>(x, view);
  return 0;
}
