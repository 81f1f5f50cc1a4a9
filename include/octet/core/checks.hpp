// octet — argument checks and the error messages they throw, each written once.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "views.hpp"

namespace octet {
namespace detail {

inline std::string shape(Index r, Index c) { return "(" + std::to_string(r) + " x " + std::to_string(c) + ")"; }

/// Throws std::invalid_argument "who: shape mismatch, A is (r x c) and B is (r x c)" unless a_cols == b_rows.
/// When B looks transposed (a_cols == b_cols), `transposed_hint` (if any) is appended: "...; <hint>".
inline void check_inner(const char* who, const char* a, Index a_rows, Index a_cols, const char* b, Index b_rows,
                        Index b_cols, const char* transposed_hint = nullptr) {
  if (a_cols != b_rows)
    throw std::invalid_argument(std::string(who) + ": shape mismatch, " + a + " is " + shape(a_rows, a_cols) + " and " +
                                b + " is " + shape(b_rows, b_cols) +
                                (transposed_hint && a_cols == b_cols ? std::string("; ") + transposed_hint : std::string()));
}

/// A value as text with 9 significant digits ("1e+39").
inline std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// The largest depth for which an int32 sum of int8 products cannot overflow: k * 128 * 128 <= 2^31 - 1.
constexpr Index max_depth = std::numeric_limits<std::int32_t>::max() / (128 * 128);

inline void check_depth(Index k, const char* who) {
  if (k > max_depth)
    throw std::overflow_error(std::string(who) + ": depth k = " + std::to_string(k) +
                              " could overflow int32 accumulation (k * 128 * 128 > 2^31 - 1; at most " +
                              std::to_string(max_depth) + ")");
}

inline void check_threshold(float threshold, const char* who) {
  if (std::isnan(threshold)) throw std::invalid_argument(std::string(who) + ": the threshold is NaN");
  if (threshold < 0.0f)
    throw std::invalid_argument(std::string(who) + ": the threshold is negative (" + std::to_string(threshold) +
                                "); 0 sends every non-zero column to float (bitsandbytes semantics: turns outliers off)");
}

/// "nan", "inf" or "-inf".
inline const char* float_name(float x) { return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf"; }

/// Throws std::domain_error naming the first non-finite value of v (column by column) and its position.
template <class T>
[[noreturn]] void throw_non_finite(const ConstView<T>& v, const char* who, const char* name) {
  for (Index j = 0; j < v.cols; ++j)
    for (Index i = 0; i < v.rows; ++i) {
      const float x = static_cast<float>(v(i, j));
      if (!std::isfinite(x))
        throw std::domain_error(std::string(who) + ": non-finite value " + float_name(x) +
                                " at (row " + std::to_string(i) + ", column " + std::to_string(j) + ") of " + name);
    }
  throw std::domain_error(std::string(who) + ": non-finite value in " + name);  // not reached
}

}  // namespace detail
}  // namespace octet
