// octet — the four quantization schemes as scalar arithmetic: the definition of every code octet produces.
//
// Each scheme is a small traits struct: code type and range, `make_params(min, max)` for a group, and
// `quantize_one(params, x)`. quantize.hpp applies them to Eigen matrices per granularity; the LLM.int8()
// passes (kernels/float_*.hpp) use AbsMax's; the scalar helpers below (no_fma, round_even, the power-of-two
// rescaling) are what makes every path round exactly alike. docs/quantization.md states the guarantees.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace octet {

namespace detail {

/// Returns v unchanged, but opaque to the optimiser: a product passed through it cannot be fused with a
/// following addition into one FMA (GCC contracts across statements under -ffp-contract=fast, its default
/// in GNU mode). This keeps the codes and dequantized values bit-identical with and without -mfma.
inline float no_fma(float v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE_MATH__)))
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile float opaque = v;
  v = opaque;
#endif
  return v;
}

/// Round half to even, as SIMD conversions (cvtps2dq, fcvtns), NumPy and PyTorch do. Assumes the default
/// floating-point rounding mode (FE_TONEAREST); std::round would round halves away from zero.
inline float round_even(float v) noexcept { return std::nearbyint(v); }

/// Clamps a rounded (hence integral and finite) float into [lo, hi] and converts it to the code type.
template <class Code>
Code clip_to_code(float v, int lo, int hi) noexcept {
  const float c = std::min(std::max(v, static_cast<float>(lo)), static_cast<float>(hi));
  return static_cast<Code>(c);
}

/// x_hat = q*step + offset: one float32 multiplication, then one float32 addition.
inline float affine(float q, float step, float offset) noexcept { return no_fma(q * step) + offset; }

/// The power of two 2^k by which a group is rescaled before its codes are computed: 0 for ordinary data,
/// and otherwise the k that brings max|x| into [1, 2). Rescaling is exact, and every code formula gives the
/// same codes for 2^k x as for x as long as float32 neither overflows nor underflows -- which is exactly
/// what fails without it (127 / 1e-40 overflows; (max - min) / 255 underflows to 0).
inline int rescale_exponent(float absmax) noexcept {
  if (absmax == 0.0f || (absmax >= 0x1p-60f && absmax <= 0x1p60f)) return 0;
  return -std::ilogb(absmax);
}

inline float scaled(float x, int k) noexcept { return k == 0 ? x : std::ldexp(x, k); }

inline std::string to_text(double v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// Schemes. Each has: code_type, q_min/q_max, name, a `params` struct with at least `step` and `offset`,
// `make_params(min, max)` for a non-empty group, and `quantize_one(params, x)`.
// ---------------------------------------------------------------------------------------------------------

// The four structs below are deliberately of one shape (the members every scheme declares, in one order), so
// that Quantized<> and matmul(qa, qb) are written once for all of them.

/// Symmetric int8 in [-127, 127]: s = 127 / max|x|, q = round(s*x), x_hat = q*step with step = max|x| / 127.
/// Code -128 never occurs. An all-zero group has step 0 and codes 0.
struct AbsMax {
  using code_type = std::int8_t;
  static constexpr int q_min = -127;
  static constexpr int q_max = 127;
  static constexpr const char* name = "AbsMax";

  struct params {
    float step = 0.0f;    ///< dequantization: x_hat = q*step + offset
    float offset = 0.0f;  ///< always 0
    float s = 0.0f;       ///< code scale 127 / max|x| of the rescaled group (0 for an all-zero group)
    int shift = 0;        ///< values are multiplied by 2^shift before s is applied (0 for ordinary data)
  };

  static params make_params(float lo, float hi) noexcept {
    params p;
    const float a = std::max(std::abs(lo), std::abs(hi));
    if (a == 0.0f) return p;
    p.shift = detail::rescale_exponent(a);
    const float as = detail::scaled(a, p.shift);
    p.s = 127.0f / as;
    p.step = detail::scaled(as / 127.0f, -p.shift);
    return p;
  }

  static code_type quantize_one(const params& p, float x) noexcept {
    const float v = p.s * detail::scaled(x, p.shift);
    return detail::clip_to_code<code_type>(detail::round_even(v), q_min, q_max);
  }
};

/// Asymmetric int8 in [-128, 127] ("zero-point quantization"): s = 255 / (max - min), where a
/// zero range counts as 1; z = round(-s*min) - 128; q = clip(round(s*x + z)); x_hat = (q - z) * step with
/// step = (max - min) / 255, i.e. offset = -z*step. z is an integer; it lies in [-128, 127] when the group's
/// range contains 0 and outside it otherwise.
struct ZeroPoint {
  using code_type = std::int8_t;
  static constexpr int q_min = -128;
  static constexpr int q_max = 127;
  static constexpr const char* name = "ZeroPoint";

  struct params {
    float step = 0.0f;        ///< dequantization: x_hat = q*step + offset
    float offset = 0.0f;      ///< -zero_point * step
    float s = 0.0f;           ///< code scale 255 / (max - min) of the rescaled group
    float zero_point = 0.0f;  ///< z, an integer
    int shift = 0;            ///< values are multiplied by 2^shift before s is applied (0 for ordinary data)
  };

  static params make_params(float lo, float hi) {
    params p;
    if (lo == hi) {  // the range counts as 1, in the data's own units: no rescaling
      p.s = 255.0f;
      p.zero_point = detail::round_even(-p.s * lo) - 128.0f;
      if (!std::isfinite(p.zero_point))
        throw std::domain_error("octet::quantize: ZeroPoint cannot quantize a constant group of value " +
                                detail::to_text(lo) +
                                ": its zero point round(-255*value) - 128 overflows float32");
      p.step = 1.0f / 255.0f;
    } else {
      p.shift = detail::rescale_exponent(std::max(std::abs(lo), std::abs(hi)));
      const float range = detail::scaled(hi, p.shift) - detail::scaled(lo, p.shift);
      p.s = 255.0f / range;
      p.zero_point = detail::round_even(-p.s * detail::scaled(lo, p.shift)) - 128.0f;
      p.step = detail::scaled(range / 255.0f, -p.shift);
    }
    p.offset = -(p.zero_point * p.step);
    return p;
  }

  static code_type quantize_one(const params& p, float x) noexcept {
    const float v = detail::no_fma(p.s * detail::scaled(x, p.shift)) + p.zero_point;
    return detail::clip_to_code<code_type>(detail::round_even(v), q_min, q_max);
  }
};

/// int8 in [-128, 127] around the mid-range (LMDeploy's "symmetric" KV-cache int8): c = (min + max) / 2,
/// step = (max - min) / 255, q = clip(round((x - c) / step)), x_hat = q*step + c. A constant group has step 0,
/// codes 0 and dequantizes exactly. The minimum and maximum fall on ties (-127.5 and +127.5 in exact
/// arithmetic); see docs/quantization.md.
struct MidRange {
  using code_type = std::int8_t;
  static constexpr int q_min = -128;
  static constexpr int q_max = 127;
  static constexpr const char* name = "MidRange";

  struct params {
    float step = 0.0f;    ///< dequantization: x_hat = q*step + offset
    float offset = 0.0f;  ///< the mid-range c
    float c = 0.0f;       ///< mid-range of the rescaled group
    float st = 0.0f;      ///< step of the rescaled group (0: constant group, every code is 0)
    int shift = 0;        ///< values are multiplied by 2^shift before the code formula (0 for ordinary data)
  };

  static params make_params(float lo, float hi) noexcept {
    params p;
    if (lo == hi) {
      p.offset = lo;
      return p;
    }
    p.shift = detail::rescale_exponent(std::max(std::abs(lo), std::abs(hi)));
    const float l = detail::scaled(lo, p.shift), h = detail::scaled(hi, p.shift);
    p.c = (l + h) / 2.0f;
    p.st = (h - l) / 255.0f;
    p.step = detail::scaled(p.st, -p.shift);
    p.offset = detail::scaled(p.c, -p.shift);
    return p;
  }

  static code_type quantize_one(const params& p, float x) noexcept {
    if (p.st == 0.0f) return 0;
    const float v = (detail::scaled(x, p.shift) - p.c) / p.st;
    return detail::clip_to_code<code_type>(detail::round_even(v), q_min, q_max);
  }
};

/// uint8 in [0, 255] from the minimum (LMDeploy's "asymmetric" KV-cache int8): step = (max - min) / 255,
/// q = clip(round((x - min) / step)), x_hat = q*step + min. A non-constant group uses both 0 and 255; a
/// constant group has step 0, codes 0 and dequantizes exactly.
struct MinMax {
  using code_type = std::uint8_t;
  static constexpr int q_min = 0;
  static constexpr int q_max = 255;
  static constexpr const char* name = "MinMax";

  struct params {
    float step = 0.0f;    ///< dequantization: x_hat = q*step + offset
    float offset = 0.0f;  ///< the minimum
    float lo = 0.0f;      ///< minimum of the rescaled group
    float st = 0.0f;      ///< step of the rescaled group (0: constant group, every code is 0)
    int shift = 0;        ///< values are multiplied by 2^shift before the code formula (0 for ordinary data)
  };

  static params make_params(float lo, float hi) noexcept {
    params p;
    p.offset = lo;
    if (lo == hi) return p;
    p.shift = detail::rescale_exponent(std::max(std::abs(lo), std::abs(hi)));
    p.lo = detail::scaled(lo, p.shift);
    p.st = (detail::scaled(hi, p.shift) - p.lo) / 255.0f;
    p.step = detail::scaled(p.st, -p.shift);
    return p;
  }

  static code_type quantize_one(const params& p, float x) noexcept {
    if (p.st == 0.0f) return 0;
    const float v = (detail::scaled(x, p.shift) - p.lo) / p.st;
    return detail::clip_to_code<code_type>(detail::round_even(v), q_min, q_max);
  }
};

}  // namespace octet
