// octet — the LLM.int8() float ops for aarch64: kernels/float_passes.hpp over pairs of float32x4_t.
//
// `fcvtns` rounds half to even, as std::nearbyint does; no_fma keeps GCC from fusing a product with the
// following sum into `fmla` (it contracts vector intrinsics too), so every result is bit-identical to
// kernels/float_scalar.hpp. Advanced SIMD is part of every aarch64 CPU: no target region is needed.
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_ARM64)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <arm_neon.h>

#include "../float_scalar.hpp"

namespace octet {
namespace detail {
namespace kernels {
namespace arm {

struct VecNeon {
  struct F {
    float32x4_t lo, hi;
  };
  struct I {
    int32x4_t lo, hi;
  };
  struct M {
    uint32x4_t lo, hi;
  };
  static F load(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static void store(float* p, F v) {
    vst1q_f32(p, v.lo);
    vst1q_f32(p + 4, v.hi);
  }
  static F load_bits(const std::int32_t* p) {
    return {vreinterpretq_f32_s32(vld1q_s32(p)), vreinterpretq_f32_s32(vld1q_s32(p + 4))};
  }
  static void store_bits(std::int32_t* p, F v) {
    vst1q_s32(p, vreinterpretq_s32_f32(v.lo));
    vst1q_s32(p + 4, vreinterpretq_s32_f32(v.hi));
  }
  static F set1(float x) { return {vdupq_n_f32(x), vdupq_n_f32(x)}; }
  static F abs(F v) { return {vabsq_f32(v.lo), vabsq_f32(v.hi)}; }
  static F max(F a, F b) { return {vmaxq_f32(a.lo, b.lo), vmaxq_f32(a.hi, b.hi)}; }
  static F mul(F a, F b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
  static F add(F a, F b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
  static float32x4_t and4(float32x4_t a, float32x4_t b) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
  }
  static F and_bits(F a, F b) { return {and4(a.lo, b.lo), and4(a.hi, b.hi)}; }
  static float32x4_t below4(float32x4_t a, float32x4_t l) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vcltq_f32(a, l)));
  }
  static F below(F a, F l) { return {below4(a.lo, l.lo), below4(a.hi, l.hi)}; }
  static F no_fma(F v) {
    __asm__("" : "+w"(v.lo), "+w"(v.hi));
    return v;
  }
  static float hmax(F v) { return vmaxvq_f32(vmaxq_f32(v.lo, v.hi)); }
  static I round_i32(F v) { return {vcvtnq_s32_f32(v.lo), vcvtnq_s32_f32(v.hi)}; }
  static void store_i8(std::int8_t* out, I v) {
    vst1_s8(out, vqmovn_s16(vcombine_s16(vqmovn_s32(v.lo), vqmovn_s32(v.hi))));
  }
  static F cvt_i32(const std::int32_t* p) { return {vcvtq_f32_s32(vld1q_s32(p)), vcvtq_f32_s32(vld1q_s32(p + 4))}; }
  static F cvt_i32_minus(const std::int32_t* p, const std::int32_t* q) {
    return {vcvtq_f32_s32(vsubq_s32(vld1q_s32(p), vld1q_s32(q))), vcvtq_f32_s32(vsubq_s32(vld1q_s32(p + 4), vld1q_s32(q + 4)))};
  }
  static M all_true() { return {vdupq_n_u32(~0u), vdupq_n_u32(~0u)}; }
  static M le_and(M ok, F a, F b) { return {vandq_u32(ok.lo, vcleq_f32(a.lo, b.lo)), vandq_u32(ok.hi, vcleq_f32(a.hi, b.hi))}; }
  static bool all(M ok) { return vminvq_u32(vandq_u32(ok.lo, ok.hi)) == ~0u; }
  /// Columns of the 4 x 4 block (a, b, c, d) as rows.
  static void transpose4(float32x4_t& a, float32x4_t& b, float32x4_t& c, float32x4_t& d) {
    const float32x4_t t0 = vtrn1q_f32(a, b), t1 = vtrn2q_f32(a, b), t2 = vtrn1q_f32(c, d), t3 = vtrn2q_f32(c, d);
    a = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    b = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    c = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    d = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
  }
  /// An 8 x 8 transpose as four 4 x 4 ones: the top-right and bottom-left blocks trade places.
  static void transpose8(F (&r)[8]) {
    transpose4(r[0].lo, r[1].lo, r[2].lo, r[3].lo);
    transpose4(r[0].hi, r[1].hi, r[2].hi, r[3].hi);
    transpose4(r[4].lo, r[5].lo, r[6].lo, r[7].lo);
    transpose4(r[4].hi, r[5].hi, r[6].hi, r[7].hi);
    for (int t = 0; t < 4; ++t) {
      const float32x4_t x = r[t].hi;
      r[t].hi = r[t + 4].lo;
      r[t + 4].lo = x;
    }
  }
};

#include "../float_passes.hpp"

using FloatNeon = FloatPasses<VecNeon>;

}  // namespace arm
}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_ARM64
