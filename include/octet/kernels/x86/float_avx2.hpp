// octet — the LLM.int8() float ops for x86 with AVX2: kernels/float_passes.hpp over 8-lane __m256.
//
// `cvtps2dq` rounds half to even (the default MXCSR mode), as std::nearbyint does; products and sums are
// separate instructions (the target has no FMA, and no_fma stops a caller's -mfma from fusing them), so every
// result is bit-identical to kernels/float_scalar.hpp. Used by every x86 path but scalar.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../../core/config.hpp"
#include "../float_scalar.hpp"

#if defined(OCTET_ARCH_X86)  // else empty, so that the header still compiles on its own
#include <immintrin.h>

namespace octet {
namespace detail {
namespace kernels {
namespace x86 {
OCTET_TARGET_BEGIN("avx2")

struct VecAvx2 {
  using F = __m256;
  using I = __m256i;
  using M = __m256;
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F load_bits(const std::int32_t* p) { return _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static void store_bits(std::int32_t* p, F v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_castps_si256(v)); }
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F abs(F v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F and_bits(F a, F b) { return _mm256_and_ps(a, b); }
  static F below(F a, F l) { return _mm256_and_ps(a, _mm256_cmp_ps(a, l, _CMP_LT_OQ)); }
  static F no_fma(F v) {
    __asm__("" : "+x"(v));
    return v;
  }
  static float hmax(F v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
  }
  static I round_i32(F v) { return _mm256_cvtps_epi32(v); }
  static void store_i8(std::int8_t* out, I v) {
    const __m256i p = _mm256_packs_epi32(v, v);
    const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p, p), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(b));
  }
  static F cvt_i32(const std::int32_t* p) {
    return _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  /// (p[t] - q[t]) as floats, the difference wrapping as int32 does.
  static F cvt_i32_minus(const std::int32_t* p, const std::int32_t* q) {
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q))));
  }
  static M all_true() { return _mm256_castsi256_ps(_mm256_set1_epi32(-1)); }
  static M le_and(M ok, F a, F b) { return _mm256_and_ps(ok, _mm256_cmp_ps(a, b, _CMP_LE_OQ)); }
  static bool all(M ok) { return _mm256_movemask_ps(ok) == 0xFF; }
  static void transpose8(F (&r)[8]) {
    const F t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const F t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const F t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const F t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const F s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const F s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const F s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const F s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
  }
};

#include "../float_passes.hpp"

OCTET_TARGET_END()

using FloatAvx2 = FloatPasses<VecAvx2>;

}  // namespace x86
}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
