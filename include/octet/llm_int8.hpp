// octet — LLM.int8(): vector-wise int8 matmul, the mixed-precision outlier decomposition, prepared weights,
// and the integer-domain product of two quantized matrices.
//
// What is LLM.int8()?
//
// Y = X W with X (m x k) float activations and W (k x n) float weights. Vector-wise int8 quantizes every row
// of X and every column of W by its own absolute maximum (codes in [-127, 127]), multiplies the codes in int8
// with exact int32 accumulation, and rescales each result by its row's and column's steps:
//
//     Y(i, j) ~ C(i, j) * step_x(i) * step_w(j),   step = max|v| / 127,   C = int8 GEMM of the codes.
//
// In large language models a few feature dimensions (columns of X) carry values 20-60x larger than the rest
// (Dettmers et al., 2022). One such value sets the scale of its whole row and crushes the other values of the
// row to a handful of codes. LLM.int8() routes every column of X that holds a value with |x| > threshold
// (strictly, default 6) to a float product with the matching rows of W, and multiplies the rest vector-wise;
// the two are summed. The scales of the int8 part are then taken over the non-outlier columns only.
//
// How it runs here. The weights are quantized and packed once (LLMInt8Linear) or per call (matmul_llm_int8).
// Per call: one pass over X finds the outlier columns (and rejects NaN/Inf); one fused pass per block of rows
// computes each row's absmax over the non-outlier columns and writes its int8 codes (outlier columns become
// code 0); the int8 GEMM (gemm.hpp's driver) hands each finished int32 tile to an epilogue that dequantizes it
// and adds the float outlier product and the bias while the tile is still in cache. No m x n intermediate
// other than the result is ever written.
//
// Reproducibility. The quantization and epilogue run either as AVX2 code or as plain C++ (for Isa::scalar and
// non-x86 machines); both perform the same float operations in the same order (no FMA contraction, round half
// to even), so every path — and every thread count — gives bit-identical results. docs/llm_int8.md has the
// full reference: semantics, options, guarantees and measured figures.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "core/buffer.hpp"
#include "core/config.hpp"
#include "core/isa.hpp"
#include "core/threads.hpp"
#include "gemm.hpp"
#include "quantize.hpp"

#if defined(OCTET_ARCH_X86)
#  include <immintrin.h>
#  define OCTET_TARGET_AVX2 __attribute__((target("avx2")))
#endif

namespace octet {

/// What the float outlier path of LLMInt8Linear multiplies the outlier columns of X by.
enum class OutlierWeights {
  /// The int8 weights dequantized (code * column step), as bitsandbytes does. Nothing beyond the int8 weights
  /// is stored: a prepared layer takes about k x n bytes (2 k x n on the AVX2 path, whose packed layout is int16).
  dequantized_int8,
  /// The original float32 weights, as the LLM.int8() paper does: exact outlier products, but the layer also
  /// keeps a float copy of W (4 k x n bytes more), because the outlier columns are known only per call.
  float32,
};

/// Options of LLMInt8Linear (all optional).
struct LLMInt8Options {
  /// Weights used by the outlier path. Default: dequantized_int8 (bitsandbytes), the memory-lean choice.
  OutlierWeights outlier_weights = OutlierWeights::dequantized_int8;
  /// Kernel family the weights are packed for (default: the active one; tests iterate supported_isas()).
  /// Isa::scalar also selects the plain C++ quantization and epilogue; any other x86 family selects AVX2 code.
  Isa isa = active_isa_id();
  /// Optional bias, added to every row of the result: empty (none) or n entries.
  Eigen::VectorXf bias;
};

/// What one LLMInt8Linear call did (pass a pointer to receive it).
struct LLMInt8Stats {
  std::vector<Eigen::Index> outlier_columns;  ///< columns of X computed in float, ascending
};

namespace detail {
namespace llm {

/// A strided view of float data: element (i, j) at data[i*rs + j*cs]. Either rs or cs is 1 (or the matching
/// dimension is at most 1): with_float_view copies anything else.
struct FloatView {
  const float* data;
  Index rows, cols, rs, cs;
  float operator()(Index i, Index j) const { return data[i * rs + j * cs]; }
};

/// Rows are contiguous (row-major access), or columns are (column-major access).
inline bool rows_contiguous(const FloatView& v) { return v.cs == 1 || v.cols <= 1; }
inline bool cols_contiguous(const FloatView& v) { return v.rs == 1 || v.rows <= 1; }

/// Calls f(FloatView) on any real Eigen expression: in place for float data with a unit stride in one
/// direction, else on a float copy.
template <class Derived, class F>
decltype(auto) with_float_view(const Eigen::MatrixBase<Derived>& x, F&& f) {
  static_assert(!Eigen::NumTraits<typename Derived::Scalar>::IsComplex, "octet: real matrices only");
  if constexpr (std::is_same<typename Derived::Scalar, float>::value && (Derived::Flags & Eigen::DirectAccessBit) != 0) {
    const Derived& d = x.derived();
    const Index inner = d.innerStride(), outer = d.outerStride();
    const bool row_major = Derived::IsRowMajor;
    const FloatView v{d.data(), d.rows(), d.cols(), row_major ? outer : inner, row_major ? inner : outer};
    if (rows_contiguous(v) || cols_contiguous(v)) return f(v);
    const Eigen::MatrixXf copy = d;
    return f(FloatView{copy.data(), copy.rows(), copy.cols(), 1, copy.rows()});
  } else {
    const Eigen::MatrixXf copy = x.template cast<float>();
    return f(FloatView{copy.data(), copy.rows(), copy.cols(), 1, copy.rows()});
  }
}

/// Whether the AVX2 helpers below may run for kernel family `isa` (decided once per process for the CPU).
inline bool use_simd(Isa isa) {
#if defined(OCTET_ARCH_X86)
  static const bool avx2 = cpu_supports(Isa::avx2);
  return avx2 && isa != Isa::scalar;
#else
  (void)isa;
  return false;
#endif
}

constexpr float float_max = std::numeric_limits<float>::max();

[[noreturn]] inline void throw_non_finite(const FloatView& v, const char* who, const char* name) {
  for (Index j = 0; j < v.cols; ++j)
    for (Index i = 0; i < v.rows; ++i) {
      const float x = v(i, j);
      if (!std::isfinite(x))
        throw std::domain_error(std::string(who) + ": non-finite value " + (std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf") +
                                " at (row " + std::to_string(i) + ", column " + std::to_string(j) + ") of " + name);
    }
  throw std::domain_error(std::string(who) + ": non-finite value in " + name);  // not reached
}

// ---------------------------------------------------------------------------------------------------------
// Plain C++ helpers (the reference of the AVX2 ones: same operations, same order).
// ---------------------------------------------------------------------------------------------------------

/// colmax[c] = max over rows of |v(i, c)| for c in [c0, c1); false when a value is not finite.
inline bool scan_columns_scalar(const FloatView& v, Index c0, Index c1, float* colmax) {
  bool ok = true;
  if (rows_contiguous(v)) {
    for (Index c = c0; c < c1; ++c) colmax[c] = 0.0f;
    for (Index i = 0; i < v.rows; ++i) {
      const float* row = v.data + i * v.rs;
      for (Index c = c0; c < c1; ++c) {
        const float a = std::abs(row[c]);
        ok &= a <= float_max;
        colmax[c] = std::max(colmax[c], a);
      }
    }
  } else {
    for (Index c = c0; c < c1; ++c) {
      const float* col = v.data + c * v.cs;
      float m = 0.0f;
      for (Index i = 0; i < v.rows; ++i) {
        const float a = std::abs(col[i]);
        ok &= a <= float_max;
        m = std::max(m, a);
      }
      colmax[c] = m;
    }
  }
  return ok;
}

/// One row of the row-contiguous path: AbsMax over the kept columns, then the codes (skipped columns: 0).
inline void quantize_row_scalar(const float* row, const unsigned char* skip, Index n, std::int8_t* out, float* step) {
  float m = 0.0f;
  for (Index c = 0; c < n; ++c)
    if (!skip || !skip[c]) m = std::max(m, std::abs(row[c]));
  const AbsMax::params p = AbsMax::make_params(m, m);
  *step = p.step;
  for (Index c = 0; c < n; ++c) out[c] = (skip && skip[c]) ? std::int8_t(0) : AbsMax::quantize_one(p, row[c]);
}

/// Rows [g0, g0 + mb) of the column-contiguous path; codes column-major with leading dimension ld.
inline void quantize_block_scalar(const FloatView& v, Index g0, Index mb, const unsigned char* skip,
                                  std::int8_t* codes, Index ld, float* step) {
  for (Index t = 0; t < mb; ++t) {
    float m = 0.0f;
    for (Index c = 0; c < v.cols; ++c)
      if (!skip || !skip[c]) m = std::max(m, std::abs(v(g0 + t, c)));
    const AbsMax::params p = AbsMax::make_params(m, m);
    step[g0 + t] = p.step;
    for (Index c = 0; c < v.cols; ++c)
      codes[c * ld + g0 + t] = (skip && skip[c]) ? std::int8_t(0) : AbsMax::quantize_one(p, v(g0 + t, c));
  }
}

/// Where the epilogue writes and what it adds: y(i, j) = (C(i, j) * sx(i)) * sw(j) + sum_q xo(i, q) wo(q, j)
/// + bias(j), each operation rounded to float in that order.
struct Epilogue {
  float* y;                // m x n, column-major, leading dimension ldy
  Index ldy;
  const float* sx;         // m row steps of X
  const float* sw;         // n column steps of W
  const float* xo;         // m x r row-major: the outlier columns of X
  const float* wo;         // r x n row-major: the weights they multiply
  Index r, n;
  const float* bias;       // n entries or null
};

inline float epilogue_one(const Epilogue& e, Index i, Index j, std::int32_t c) {
  float v = no_fma(no_fma(static_cast<float>(c) * e.sx[i]) * e.sw[j]);
  if (e.r > 0) {
    float o = 0.0f;
    for (Index q = 0; q < e.r; ++q) o = no_fma(e.xo[i * e.r + q] * e.wo[q * e.n + j]) + o;
    v = v + o;
  }
  if (e.bias) v = v + e.bias[j];
  return v;
}

inline void epilogue_tile_scalar(const Epilogue& e, Index i0, Index j0, Index rows, Index cols,
                                 const std::int32_t* tile, Index ldt) {
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) e.y[(j0 + j) * e.ldy + i0 + i] = epilogue_one(e, i0 + i, j0 + j, tile[i * ldt + j]);
}

// ---------------------------------------------------------------------------------------------------------
// AVX2 helpers. cvtps2dq rounds half to even (the default MXCSR mode), like std::nearbyint; products and
// sums are separate instructions (the target has no FMA), like the no_fma scalar code.
// ---------------------------------------------------------------------------------------------------------
#if defined(OCTET_ARCH_X86)
namespace avx2 {

OCTET_TARGET_AVX2 inline __m256 abs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

/// 32 int32 (four vectors, each in [-128, 127]) to 32 int8 in order.
OCTET_TARGET_AVX2 inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

OCTET_TARGET_AVX2 inline void store8(std::int8_t* out, __m256i v) {
  const __m256i p = _mm256_packs_epi32(v, v);
  const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p, p), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(b));
}

OCTET_TARGET_AVX2 inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

OCTET_TARGET_AVX2 inline bool all_ok(__m256 ok) { return _mm256_movemask_ps(ok) == 0xFF; }

OCTET_TARGET_AVX2 inline bool scan_columns(const FloatView& v, Index c0, Index c1, float* colmax) {
  const __m256 big = _mm256_set1_ps(float_max);
  __m256 ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  bool ok_tail = true;
  if (rows_contiguous(v)) {
    for (Index c = c0; c < c1; ++c) colmax[c] = 0.0f;
    for (Index i = 0; i < v.rows; ++i) {
      const float* row = v.data + i * v.rs;
      Index c = c0;
      for (; c + 8 <= c1; c += 8) {
        const __m256 a = abs8(_mm256_loadu_ps(row + c));
        ok = _mm256_and_ps(ok, _mm256_cmp_ps(a, big, _CMP_LE_OQ));
        _mm256_storeu_ps(colmax + c, _mm256_max_ps(_mm256_loadu_ps(colmax + c), a));
      }
      for (; c < c1; ++c) {
        const float a = std::abs(row[c]);
        ok_tail &= a <= float_max;
        colmax[c] = std::max(colmax[c], a);
      }
    }
  } else {
    for (Index c = c0; c < c1; ++c) {
      const float* col = v.data + c * v.cs;
      __m256 m0 = _mm256_setzero_ps(), m1 = m0;
      Index i = 0;
      for (; i + 16 <= v.rows; i += 16) {
        const __m256 a = abs8(_mm256_loadu_ps(col + i)), b = abs8(_mm256_loadu_ps(col + i + 8));
        ok = _mm256_and_ps(ok, _mm256_and_ps(_mm256_cmp_ps(a, big, _CMP_LE_OQ), _mm256_cmp_ps(b, big, _CMP_LE_OQ)));
        m0 = _mm256_max_ps(m0, a);
        m1 = _mm256_max_ps(m1, b);
      }
      float m = hmax(_mm256_max_ps(m0, m1));
      for (; i < v.rows; ++i) {
        const float a = std::abs(col[i]);
        ok_tail &= a <= float_max;
        m = std::max(m, a);
      }
      colmax[c] = m;
    }
  }
  return ok_tail && all_ok(ok);
}

/// row[i..i+8), with the skipped columns zeroed (keep: bit masks, or null).
OCTET_TARGET_AVX2 inline __m256 load_kept(const float* row, const float* keep, Index i) {
  return keep ? _mm256_and_ps(_mm256_loadu_ps(row + i), _mm256_loadu_ps(keep + i)) : _mm256_loadu_ps(row + i);
}

/// The row-contiguous path for one row; keep: n float bit masks (all ones = keep) or null (keep all).
OCTET_TARGET_AVX2 inline void quantize_row(const float* row, const unsigned char* skip, const float* keep, Index n,
                                           std::int8_t* out, float* step) {
  const Index n32 = n / 32 * 32, n8 = n / 8 * 8;
  __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
  Index c = 0;
  if (keep) {
    for (; c < n32; c += 32) {
      m0 = _mm256_max_ps(m0, _mm256_and_ps(abs8(_mm256_loadu_ps(row + c)), _mm256_loadu_ps(keep + c)));
      m1 = _mm256_max_ps(m1, _mm256_and_ps(abs8(_mm256_loadu_ps(row + c + 8)), _mm256_loadu_ps(keep + c + 8)));
      m2 = _mm256_max_ps(m2, _mm256_and_ps(abs8(_mm256_loadu_ps(row + c + 16)), _mm256_loadu_ps(keep + c + 16)));
      m3 = _mm256_max_ps(m3, _mm256_and_ps(abs8(_mm256_loadu_ps(row + c + 24)), _mm256_loadu_ps(keep + c + 24)));
    }
    for (; c < n8; c += 8) m0 = _mm256_max_ps(m0, _mm256_and_ps(abs8(_mm256_loadu_ps(row + c)), _mm256_loadu_ps(keep + c)));
  } else {
    for (; c < n32; c += 32) {
      m0 = _mm256_max_ps(m0, abs8(_mm256_loadu_ps(row + c)));
      m1 = _mm256_max_ps(m1, abs8(_mm256_loadu_ps(row + c + 8)));
      m2 = _mm256_max_ps(m2, abs8(_mm256_loadu_ps(row + c + 16)));
      m3 = _mm256_max_ps(m3, abs8(_mm256_loadu_ps(row + c + 24)));
    }
    for (; c < n8; c += 8) m0 = _mm256_max_ps(m0, abs8(_mm256_loadu_ps(row + c)));
  }
  float m = hmax(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  for (; c < n; ++c)
    if (!skip || !skip[c]) m = std::max(m, std::abs(row[c]));
  const AbsMax::params p = AbsMax::make_params(m, m);
  *step = p.step;
  if (p.shift != 0) {  // a row of extreme magnitude: the exact rescaling path of quantize.hpp
    for (c = 0; c < n; ++c) out[c] = (skip && skip[c]) ? std::int8_t(0) : AbsMax::quantize_one(p, row[c]);
    return;
  }
  const __m256 s = _mm256_set1_ps(p.s);
  for (c = 0; c < n32; c += 32) {
    const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(load_kept(row, keep, c), s));
    const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(load_kept(row, keep, c + 8), s));
    const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(load_kept(row, keep, c + 16), s));
    const __m256i e = _mm256_cvtps_epi32(_mm256_mul_ps(load_kept(row, keep, c + 24), s));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), pack32(a, b, d, e));
  }
  for (; c < n8; c += 8) store8(out + c, _mm256_cvtps_epi32(_mm256_mul_ps(load_kept(row, keep, c), s)));
  for (; c < n; ++c) out[c] = (skip && skip[c]) ? std::int8_t(0) : AbsMax::quantize_one(p, row[c]);
}

/// Rows [g0, g0 + mb) of the column-contiguous path (v.rs == 1, mb <= 32); codes column-major, leading dim ld.
OCTET_TARGET_AVX2 inline void quantize_block(const FloatView& v, Index g0, Index mb, const unsigned char* skip,
                                             std::int8_t* codes, Index ld, float* step) {
  const Index nv = mb / 8;  // full vectors of 8 rows
  __m256 r[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (Index c = 0; c < v.cols; ++c) {
    if (skip && skip[c]) continue;
    const float* col = v.data + c * v.cs + g0;
    for (Index q = 0; q < nv; ++q) r[q] = _mm256_max_ps(r[q], abs8(_mm256_loadu_ps(col + 8 * q)));
    for (Index t = nv * 8; t < mb; ++t) tail[t - nv * 8] = std::max(tail[t - nv * 8], std::abs(col[t]));
  }
  alignas(32) float m[32];
  for (Index q = 0; q < nv; ++q) _mm256_store_ps(m + 8 * q, r[q]);
  for (Index t = nv * 8; t < mb; ++t) m[t] = tail[t - nv * 8];
  AbsMax::params p[32];
  alignas(32) float s[32];
  bool shifted = false;
  for (Index t = 0; t < mb; ++t) {
    p[t] = AbsMax::make_params(m[t], m[t]);
    step[g0 + t] = p[t].step;
    s[t] = p[t].s;
    shifted |= p[t].shift != 0;
  }
  if (shifted) {  // a row of extreme magnitude in the block: the exact rescaling path of quantize.hpp
    for (Index c = 0; c < v.cols; ++c)
      for (Index t = 0; t < mb; ++t)
        codes[c * ld + g0 + t] = (skip && skip[c]) ? std::int8_t(0) : AbsMax::quantize_one(p[t], v(g0 + t, c));
    return;
  }
  __m256 sv[4];
  for (Index q = 0; q < nv; ++q) sv[q] = _mm256_load_ps(s + 8 * q);
  for (Index c = 0; c < v.cols; ++c) {
    std::int8_t* out = codes + c * ld + g0;
    if (skip && skip[c]) {
      std::memset(out, 0, static_cast<std::size_t>(mb));
      continue;
    }
    const float* col = v.data + c * v.cs + g0;
    if (nv == 4) {
      const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(col), sv[0]));
      const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(col + 8), sv[1]));
      const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(col + 16), sv[2]));
      const __m256i e = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(col + 24), sv[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), pack32(a, b, d, e));
    } else {
      for (Index q = 0; q < nv; ++q) store8(out + 8 * q, _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(col + 8 * q), sv[q])));
    }
    for (Index t = nv * 8; t < mb; ++t) out[t] = AbsMax::quantize_one(p[t], col[t]);
  }
}

/// Returns v unchanged but opaque to the optimiser, so that a product is never contracted with the following
/// addition into an FMA, even when the user's translation unit enables FMA (-mfma, -march=native): the AVX2
/// epilogue then rounds exactly as the scalar one does.
OCTET_TARGET_AVX2 inline __m256 no_fma8(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}

/// Eight consecutive outputs of row i, columns j..j+7 (tile row pointer at column j).
OCTET_TARGET_AVX2 inline __m256 epilogue8(const Epilogue& e, Index i, Index j, const std::int32_t* t) {
  __m256 v = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t)));
  v = no_fma8(_mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(e.sx[i])), _mm256_loadu_ps(e.sw + j)));
  if (e.r > 0) {
    __m256 o = _mm256_setzero_ps();
    for (Index q = 0; q < e.r; ++q)
      o = _mm256_add_ps(no_fma8(_mm256_mul_ps(_mm256_set1_ps(e.xo[i * e.r + q]), _mm256_loadu_ps(e.wo + q * e.n + j))), o);
    v = _mm256_add_ps(v, o);
  }
  if (e.bias) v = _mm256_add_ps(v, _mm256_loadu_ps(e.bias + j));
  return v;
}

OCTET_TARGET_AVX2 inline void transpose8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5,
                                         __m256& r6, __m256& r7) {
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r0 = _mm256_permute2f128_ps(s0, s4, 0x20);
  r1 = _mm256_permute2f128_ps(s1, s5, 0x20);
  r2 = _mm256_permute2f128_ps(s2, s6, 0x20);
  r3 = _mm256_permute2f128_ps(s3, s7, 0x20);
  r4 = _mm256_permute2f128_ps(s0, s4, 0x31);
  r5 = _mm256_permute2f128_ps(s1, s5, 0x31);
  r6 = _mm256_permute2f128_ps(s2, s6, 0x31);
  r7 = _mm256_permute2f128_ps(s3, s7, 0x31);
}

OCTET_TARGET_AVX2 inline void epilogue_tile(const Epilogue& e, Index i0, Index j0, Index rows, Index cols,
                                            const std::int32_t* tile, Index ldt) {
  const Index cols8 = cols / 8 * 8;
  Index i = 0;
  for (; i + 8 <= rows; i += 8) {
    const Index gi = i0 + i;
    for (Index j = 0; j < cols8; j += 8) {
      const Index gj = j0 + j;
      const std::int32_t* t = tile + i * ldt + j;
      __m256 r0 = epilogue8(e, gi, gj, t), r1 = epilogue8(e, gi + 1, gj, t + ldt);
      __m256 r2 = epilogue8(e, gi + 2, gj, t + 2 * ldt), r3 = epilogue8(e, gi + 3, gj, t + 3 * ldt);
      __m256 r4 = epilogue8(e, gi + 4, gj, t + 4 * ldt), r5 = epilogue8(e, gi + 5, gj, t + 5 * ldt);
      __m256 r6 = epilogue8(e, gi + 6, gj, t + 6 * ldt), r7 = epilogue8(e, gi + 7, gj, t + 7 * ldt);
      transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
      float* y = e.y + gj * e.ldy + gi;
      _mm256_storeu_ps(y, r0);
      _mm256_storeu_ps(y + e.ldy, r1);
      _mm256_storeu_ps(y + 2 * e.ldy, r2);
      _mm256_storeu_ps(y + 3 * e.ldy, r3);
      _mm256_storeu_ps(y + 4 * e.ldy, r4);
      _mm256_storeu_ps(y + 5 * e.ldy, r5);
      _mm256_storeu_ps(y + 6 * e.ldy, r6);
      _mm256_storeu_ps(y + 7 * e.ldy, r7);
    }
    for (Index j = cols8; j < cols; ++j)
      for (Index t = 0; t < 8; ++t) e.y[(j0 + j) * e.ldy + gi + t] = epilogue_one(e, gi + t, j0 + j, tile[(i + t) * ldt + j]);
  }
  for (; i < rows; ++i) {  // remaining rows (all of them when m < 8): one row at a time
    const Index gi = i0 + i;
    for (Index j = 0; j < cols8; j += 8) {
      const __m256 v = epilogue8(e, gi, j0 + j, tile + i * ldt + j);
      if (e.ldy == 1) {
        _mm256_storeu_ps(e.y + (j0 + j), v);
      } else {
        alignas(32) float buf[8];
        _mm256_store_ps(buf, v);
        for (Index t = 0; t < 8; ++t) e.y[(j0 + j + t) * e.ldy + gi] = buf[t];
      }
    }
    for (Index j = cols8; j < cols; ++j) e.y[(j0 + j) * e.ldy + gi] = epilogue_one(e, gi, j0 + j, tile[i * ldt + j]);
  }
}

}  // namespace avx2
#endif

// ---------------------------------------------------------------------------------------------------------
// The passes.
// ---------------------------------------------------------------------------------------------------------

/// Pass 1: checks that v is finite (else std::domain_error naming the position in `name`) and, when
/// `threshold` is given, returns the columns holding some |v(i, j)| > threshold, ascending.
inline std::vector<Index> scan(const FloatView& v, const float* threshold, bool simd, const char* who, const char* name) {
  std::vector<float> colmax(static_cast<std::size_t>(v.cols));
  const Index chunk = 512;
  const long tasks = static_cast<long>(ceil_div(v.cols, chunk));
  std::vector<unsigned char> ok(static_cast<std::size_t>(std::max<long>(tasks, 1)), 1);
  // A light, memory-bound pass: threads only pay off (and each parallel region is a synchronisation point)
  // for about a million values or more.
  const int threads = v.rows * v.cols >= (Index(1) << 20) ? num_threads() : 1;
  parallel_for(tasks, threads, [&](long t) {
    const Index c0 = t * chunk, c1 = std::min(v.cols, c0 + chunk);
    bool good;
#if defined(OCTET_ARCH_X86)
    good = simd ? avx2::scan_columns(v, c0, c1, colmax.data()) : scan_columns_scalar(v, c0, c1, colmax.data());
#else
    (void)simd;
    good = scan_columns_scalar(v, c0, c1, colmax.data());
#endif
    ok[static_cast<std::size_t>(t)] = good ? 1 : 0;
  });
  for (unsigned char g : ok)
    if (!g) throw_non_finite(v, who, name);
  std::vector<Index> out;
  if (threshold)
    for (Index c = 0; c < v.cols; ++c)
      if (colmax[static_cast<std::size_t>(c)] > *threshold) out.push_back(c);
  return out;
}

/// Pass 2: AbsMax-quantizes every row of v over the columns whose `skip` flag is 0 (skip may be null), writing
/// the codes of skipped columns as 0 and each row's step to step[i]. Codes are row-major (leading dimension
/// v.cols) when rows are contiguous, else column-major (leading dimension v.rows); returns true for row-major.
inline bool quantize_rows(const FloatView& v, const unsigned char* skip, std::int8_t* codes, float* step, bool simd) {
  const int threads = v.rows * v.cols >= (Index(1) << 18) ? num_threads() : 1;
  if (rows_contiguous(v)) {
    std::vector<float> keep;
#if defined(OCTET_ARCH_X86)
    if (simd && skip) {
      keep.resize(static_cast<std::size_t>(v.cols));
      for (Index c = 0; c < v.cols; ++c) {
        const std::uint32_t bits = skip[c] ? 0u : 0xFFFFFFFFu;
        std::memcpy(&keep[static_cast<std::size_t>(c)], &bits, sizeof bits);
      }
    }
#endif
    const Index per_task = std::max<Index>(1, (Index(1) << 15) / std::max<Index>(v.cols, 1));
    parallel_for(static_cast<long>(ceil_div(v.rows, per_task)), threads, [&](long t) {
      const Index g1 = std::min(v.rows, (t + 1) * per_task);
      for (Index g = t * per_task; g < g1; ++g) {
#if defined(OCTET_ARCH_X86)
        if (simd) {
          avx2::quantize_row(v.data + g * v.rs, skip, skip ? keep.data() : nullptr, v.cols, codes + g * v.cols, step + g);
          continue;
        }
#endif
        quantize_row_scalar(v.data + g * v.rs, skip, v.cols, codes + g * v.cols, step + g);
      }
    });
    return true;
  }
  const Index mb = 32;
  parallel_for(static_cast<long>(ceil_div(v.rows, mb)), threads, [&](long t) {
    const Index g0 = t * mb, rows = std::min(mb, v.rows - g0);
#if defined(OCTET_ARCH_X86)
    if (simd && v.rs == 1) {
      avx2::quantize_block(v, g0, rows, skip, codes, v.rows, step);
      return;
    }
#endif
    quantize_block_scalar(v, g0, rows, skip, codes, v.rows, step);
  });
  (void)simd;
  return false;
}

/// Runs the int8 GEMM of the X codes with packed W and the epilogue into y (m x n).
inline void product(const std::int8_t* codes, bool row_major, Index m, Index k, const PackedB& pb, Epilogue e,
                    bool simd, const char* who) {
  auto run = [&](const auto& a) {
    gemm_i8_tiles(
        a, pb,
        [&e, simd](Index i0, Index j0, Index rows, Index cols, const std::int32_t* tile, Index ldt) {
#if defined(OCTET_ARCH_X86)
          if (simd) {
            avx2::epilogue_tile(e, i0, j0, rows, cols, tile, ldt);
            return;
          }
#endif
          (void)simd;
          epilogue_tile_scalar(e, i0, j0, rows, cols, tile, ldt);
        },
        who);
  };
  using RowMajorI8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  if (row_major)
    run(Eigen::Map<const RowMajorI8>(codes, m, k));
  else
    run(Eigen::Map<const MatrixXi8>(codes, m, k));
}

/// The per-call part shared by matmul_llm_int8 and LLMInt8Linear: quantizes X's rows over the non-outlier
/// columns, gathers the outlier columns, and runs the GEMM with the fused epilogue.
/// wsteps: n column steps of W; wo: r x n row-major outlier weights (r = outliers.size()).
inline Eigen::MatrixXf forward(const FloatView& x, const std::vector<Index>& outliers, const PackedB& pb,
                               const float* wsteps, const float* wo, const float* bias, bool simd, const char* who) {
  const Index m = x.rows, k = x.cols, n = pb.cols(), r = static_cast<Index>(outliers.size());
  Eigen::MatrixXf y(m, n);
  if (m == 0 || n == 0) return y;
  std::vector<unsigned char> skip;
  if (r > 0) {
    skip.assign(static_cast<std::size_t>(k), 0);
    for (Index c : outliers) skip[static_cast<std::size_t>(c)] = 1;
  }
  thread_local AlignedBuffer code_buffer;  // reused between calls on this thread
  code_buffer.resize(static_cast<std::size_t>(std::max<Index>(m * k, 1)));
  std::int8_t* codes = code_buffer.as<std::int8_t>();
  std::vector<float> sx(static_cast<std::size_t>(m));
  const bool row_major = quantize_rows(x, r > 0 ? skip.data() : nullptr, codes, sx.data(), simd);
  std::vector<float> xo(static_cast<std::size_t>(m * r));
  for (Index i = 0; i < m; ++i)
    for (Index q = 0; q < r; ++q) xo[static_cast<std::size_t>(i * r + q)] = x(i, outliers[static_cast<std::size_t>(q)]);
  const Epilogue e{y.data(), m, sx.data(), wsteps, xo.data(), wo, r, n, bias};
  product(codes, row_major, m, k, pb, e, simd, who);
  return y;
}

/// Where code (p, j) of W sits in a PackedB, read once at construction so that calls need no dispatch:
/// the layout of core/driver.hpp (NR-column panels of [kgroup][NR][KG] elements holding the code itself).
struct PackedLayout {
  Index nr = 0, kg = 0, panel_elems = 0;
  int elem_bytes = 0;  // 1 (int8) or 2 (int16); 0: not readable
  Index offset(Index p, Index j) const { return (j / nr) * panel_elems + (p / kg) * nr * kg + (j % nr) * kg + p % kg; }
  float code(const PackedB& pb, Index p, Index j) const {
    const Index o = offset(p, j);
    if (elem_bytes == 1) return static_cast<float>(pb.data().data.as<std::int8_t>()[o]);
    return static_cast<float>(pb.data().data.as<std::int16_t>()[o]);
  }
};

/// The layout of pb when its elements are signed 8- or 16-bit integers equal to the codes (k x n, column-major
/// when col_major, else row-major), checked element by element; elem_bytes = 0 otherwise.
inline PackedLayout read_layout(const PackedB& pb, const std::int8_t* codes, bool col_major) {
  const PackedBData& d = pb.data();
  PackedLayout layout = with_kernel(pb.isa(), [&](auto kernel) {
    using K = decltype(kernel);
    using BE = typename K::BElem;
    PackedLayout l;
    l.nr = K::NR;
    l.kg = K::KG;
    l.panel_elems = d.panel_elems;
    const bool int8 = std::is_same<BE, std::int8_t>::value, int16 = std::is_same<BE, std::int16_t>::value;
    l.elem_bytes = int8 ? 1 : int16 ? 2 : 0;
    return l;
  });
  if (layout.elem_bytes == 0 || d.panel_elems != d.kgroups * layout.nr * layout.kg) return PackedLayout{};
  for (Index p = 0; p < d.k; ++p)
    for (Index j = 0; j < d.n; ++j)
      if (layout.code(pb, p, j) != static_cast<float>(col_major ? codes[j * d.k + p] : codes[p * d.n + j]))
        return PackedLayout{};
  return layout;
}

/// W (k x n) quantized per column (AbsMax over the rows whose skip flag is 0) and packed for `isa`. The codes
/// are computed as the rows of W's transpose; `codes` receives them (k x n, column-major when the function
/// returns true, else row-major).
inline bool quantize_weights(const FloatView& w, const unsigned char* skip_rows, Isa isa, std::vector<std::int8_t>& codes,
                             Eigen::VectorXf& step, PackedB& packed) {
  const FloatView wt{w.data, w.cols, w.rows, w.cs, w.rs};  // W^T: one row per column of W
  codes.resize(static_cast<std::size_t>(std::max<Index>(w.rows * w.cols, 1)));
  step.resize(w.cols);
  const bool wt_row_major = quantize_rows(wt, skip_rows, codes.data(), step.data(), use_simd(isa));
  using RowMajorI8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  if (wt_row_major)  // W^T row-major = W column-major
    packed = PackedB(Eigen::Map<const MatrixXi8>(codes.data(), w.rows, w.cols), isa);
  else
    packed = PackedB(Eigen::Map<const RowMajorI8>(codes.data(), w.rows, w.cols), isa);
  return wt_row_major;
}

inline void check_threshold(float threshold, const char* who) {
  if (std::isnan(threshold)) throw std::invalid_argument(std::string(who) + ": the threshold is NaN");
}

template <class DX, class DW>
Eigen::MatrixXf matmul_llm_int8(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DW>& w, const float* threshold,
                                Isa isa, const char* who) {
  if (x.cols() != w.rows())
    throw std::invalid_argument(std::string(who) + ": shape mismatch, X is " + shape(x.rows(), x.cols()) + " and W is " +
                                shape(w.rows(), w.cols()));
  if (threshold) check_threshold(*threshold, who);
  check_depth(x.cols(), who);
  const bool simd = use_simd(isa);
  return with_float_view(x, [&](const FloatView& xv) {
    const std::vector<Index> outliers = scan(xv, threshold, simd, who, "X");
    return with_float_view(w, [&](const FloatView& wv) {
      scan(wv, nullptr, simd, who, "W");
      if (xv.rows == 0) return Eigen::MatrixXf(0, wv.cols);
      const Index r = static_cast<Index>(outliers.size()), n = wv.cols;
      std::vector<unsigned char> skip;
      std::vector<float> wo(static_cast<std::size_t>(r * n));
      if (r > 0) {
        skip.assign(static_cast<std::size_t>(wv.rows), 0);
        for (Index q = 0; q < r; ++q) {
          const Index p = outliers[static_cast<std::size_t>(q)];
          skip[static_cast<std::size_t>(p)] = 1;
          for (Index j = 0; j < n; ++j) wo[static_cast<std::size_t>(q * n + j)] = wv(p, j);
        }
      }
      std::vector<std::int8_t> codes;
      Eigen::VectorXf wstep;
      PackedB packed;
      quantize_weights(wv, r > 0 ? skip.data() : nullptr, isa, codes, wstep, packed);
      return forward(xv, outliers, packed, wstep.data(), wo.data(), nullptr, simd, who);
    });
  });
}

}  // namespace llm
}  // namespace detail

// -------------------------------------------------------------------------------------------------------------
// Public API
// -------------------------------------------------------------------------------------------------------------

/// X * W by vector-wise int8: X AbsMax-quantized per row, W per column, int8 GEMM with exact int32
/// accumulation, result C(i, j) * step_x(i) * step_w(j) (= C / (s_x(i) s_w(j)) with s = 127 / absmax).
/// An all-zero row or column gives 0. Throws std::invalid_argument on a shape mismatch (naming both shapes),
/// std::domain_error on NaN/Inf in X or W (naming the position), std::overflow_error when k > 131071.
template <class DX, class DW>
Eigen::MatrixXf matmul_vectorwise(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DW>& w) {
  return detail::llm::matmul_llm_int8(x, w, nullptr, active_isa_id(), "octet::matmul_vectorwise");
}

/// X * W by LLM.int8(): the columns of X holding some |x| > threshold (strictly) are multiplied in float by
/// the matching (float) rows of W; the rest vector-wise in int8, X's row scales over the non-outlier columns and
/// W's column scales over the non-outlier rows; the two are summed. With a threshold at or above every |x| the
/// result is bit-identical to matmul_vectorwise. Errors as matmul_vectorwise; a NaN threshold is
/// std::invalid_argument.
template <class DX, class DW>
Eigen::MatrixXf matmul_llm_int8(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DW>& w, float threshold = 6.0f) {
  return detail::llm::matmul_llm_int8(x, w, &threshold, active_isa_id(), "octet::matmul_llm_int8");
}

/// The columns of X that LLM.int8() computes in float: those with some |X(i, j)| > threshold, ascending.
/// Throws std::domain_error on NaN/Inf.
template <class D>
std::vector<Eigen::Index> outlier_columns(const Eigen::MatrixBase<D>& x, float threshold = 6.0f) {
  detail::llm::check_threshold(threshold, "octet::outlier_columns");
  return detail::llm::with_float_view(x, [&](const detail::llm::FloatView& v) {
    return detail::llm::scan(v, &threshold, detail::llm::use_simd(active_isa_id()), "octet::outlier_columns", "X");
  });
}

/// A linear layer Y = X W (+ bias) with W prepared once for LLM.int8() inference.
///
/// The constructor quantizes W per column by AbsMax over ALL its rows (the outlier columns of X are not known
/// yet; matmul_llm_int8 scales over the non-outlier rows only — the one semantic difference) and packs the
/// codes for the int8 GEMM. Each call finds the outlier columns of X, quantizes X's rows in one fused pass
/// (outlier columns are code 0 in the int8 operand), runs the int8 GEMM and, in its epilogue, dequantizes and
/// adds the float outlier product (see OutlierWeights) and the bias. operator() is const and keeps no state:
/// it is safe to call from several threads at once (per-call buffers are local or thread_local).
class LLMInt8Linear {
 public:
  /// Prepares W (k x n, any real Eigen expression). Throws std::domain_error on NaN/Inf in W,
  /// std::invalid_argument on a NaN threshold or a bias that is neither empty nor n long,
  /// std::overflow_error when k > 131071.
  template <class D>
  explicit LLMInt8Linear(const Eigen::MatrixBase<D>& w, float threshold = 6.0f, LLMInt8Options options = LLMInt8Options())
      : k_(w.rows()), n_(w.cols()), threshold_(threshold), outlier_weights_(options.outlier_weights), isa_(options.isa),
        bias_(std::move(options.bias)) {
    const char* who = "octet::LLMInt8Linear";
    detail::llm::check_threshold(threshold, who);
    if (bias_.size() != 0 && bias_.size() != n_)
      throw std::invalid_argument(std::string(who) + ": the bias has " + std::to_string(bias_.size()) +
                                  " entries, W has " + std::to_string(n_) + " columns");
    detail::check_depth(k_, who);
    const bool simd = detail::llm::use_simd(isa_);
    detail::llm::with_float_view(w, [&](const detail::llm::FloatView& wv) {
      detail::llm::scan(wv, nullptr, simd, who, "W");
      std::vector<std::int8_t> codes;
      const bool col_major = detail::llm::quantize_weights(wv, nullptr, isa_, codes, step_, packed_);
      if (outlier_weights_ == OutlierWeights::float32) {
        weights_f32_.resize(k_, n_);
        for (Eigen::Index p = 0; p < k_; ++p)
          for (Eigen::Index j = 0; j < n_; ++j) weights_f32_(p, j) = wv(p, j);
      } else if ((layout_ = detail::llm::read_layout(packed_, codes.data(), col_major)).elem_bytes == 0) {
        codes_rm_.resize(static_cast<std::size_t>(k_ * n_));  // keep a row-major copy to read outlier rows from
        for (Eigen::Index p = 0; p < k_; ++p)
          for (Eigen::Index j = 0; j < n_; ++j)
            codes_rm_[static_cast<std::size_t>(p * n_ + j)] = col_major ? codes[static_cast<std::size_t>(j * k_ + p)]
                                                                        : codes[static_cast<std::size_t>(p * n_ + j)];
      }
    });
  }

  /// Y = X W (+ bias) for X (m x k, any real Eigen expression). Throws std::invalid_argument on a shape
  /// mismatch (naming both shapes), std::domain_error on NaN/Inf in X. m = 0 gives a 0 x n result.
  template <class D>
  Eigen::MatrixXf operator()(const Eigen::MatrixBase<D>& x) const {
    return (*this)(x, nullptr);
  }

  /// As above, and reports what the call did in *stats (when not null).
  template <class D>
  Eigen::MatrixXf operator()(const Eigen::MatrixBase<D>& x, LLMInt8Stats* stats) const {
    const char* who = "octet::LLMInt8Linear";
    if (x.cols() != k_)
      throw std::invalid_argument(std::string(who) + ": shape mismatch, X is " + detail::shape(x.rows(), x.cols()) +
                                  " and W is " + detail::shape(k_, n_));
    const bool simd = detail::llm::use_simd(isa_);
    return detail::llm::with_float_view(x, [&](const detail::llm::FloatView& xv) {
      std::vector<Eigen::Index> outliers = detail::llm::scan(xv, &threshold_, simd, who, "X");
      const Eigen::Index r = static_cast<Eigen::Index>(outliers.size());
      std::vector<float> wo(static_cast<std::size_t>(r * n_));
      if (r > 0) outlier_weights(outliers, wo.data());
      Eigen::MatrixXf y = detail::llm::forward(xv, outliers, packed_, step_.data(), wo.data(),
                                               bias_.size() ? bias_.data() : nullptr, simd, who);
      if (stats) stats->outlier_columns = std::move(outliers);
      return y;
    });
  }

  Eigen::Index in_features() const { return k_; }    ///< k, the rows of W
  Eigen::Index out_features() const { return n_; }   ///< n, the columns of W
  float threshold() const { return threshold_; }     ///< the outlier threshold
  OutlierWeights outlier_weights() const { return outlier_weights_; }
  Isa isa() const { return isa_; }                    ///< the kernel family the weights are packed for
  const Eigen::VectorXf& weight_step() const { return step_; }  ///< per column of W: max|W(:, j)| / 127
  const Eigen::VectorXf& bias() const { return bias_; }         ///< empty when there is none
  const PackedB& packed_weights() const { return packed_; }     ///< the packed int8 codes of W

  /// Bytes held by the layer: packed codes and their corrections, column steps, bias, and the float copy of W
  /// (OutlierWeights::float32 only).
  std::size_t bytes() const {
    return packed_.bytes() + static_cast<std::size_t>(step_.size() + bias_.size()) * sizeof(float) +
           static_cast<std::size_t>(weights_f32_.size()) * sizeof(float) + codes_rm_.size();
  }

 private:
  /// The weights the outlier rows p of W contribute with: r x n row-major.
  void outlier_weights(const std::vector<Eigen::Index>& rows, float* out) const {
    if (outlier_weights_ == OutlierWeights::float32) {
      for (std::size_t q = 0; q < rows.size(); ++q)
        for (Eigen::Index j = 0; j < n_; ++j) out[static_cast<Eigen::Index>(q) * n_ + j] = weights_f32_(rows[q], j);
      return;
    }
    if (codes_rm_.empty()) {
      for (std::size_t q = 0; q < rows.size(); ++q)
        for (Eigen::Index j = 0; j < n_; ++j) out[static_cast<Eigen::Index>(q) * n_ + j] = layout_.code(packed_, rows[q], j);
    } else {
      for (std::size_t q = 0; q < rows.size(); ++q)
        for (Eigen::Index j = 0; j < n_; ++j)
          out[static_cast<Eigen::Index>(q) * n_ + j] = codes_rm_[static_cast<std::size_t>(rows[q] * n_ + j)];
    }
    for (std::size_t q = 0; q < rows.size(); ++q)  // dequantize: code * step, as Quantized::dequantize does
      for (Eigen::Index j = 0; j < n_; ++j) {
        float& v = out[static_cast<Eigen::Index>(q) * n_ + j];
        v = detail::no_fma(v * step_(j));
      }
  }

  Eigen::Index k_ = 0, n_ = 0;
  float threshold_ = 6.0f;
  OutlierWeights outlier_weights_ = OutlierWeights::dequantized_int8;
  Isa isa_ = Isa::scalar;
  Eigen::VectorXf bias_;
  PackedB packed_;
  Eigen::VectorXf step_;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> weights_f32_;
  detail::llm::PackedLayout layout_;   // where the codes sit in packed_ (dequantized_int8)
  std::vector<std::int8_t> codes_rm_;  // only when the packed layout cannot be read back
};

// -------------------------------------------------------------------------------------------------------------
// The integer-domain product of two quantized matrices
// -------------------------------------------------------------------------------------------------------------

namespace detail {
namespace llm {

template <class G> struct factorable_a : std::false_type {};
template <> struct factorable_a<PerTensor> : std::true_type {};
template <> struct factorable_a<PerRow> : std::true_type {};
template <class G> struct factorable_b : std::false_type {};
template <> struct factorable_b<PerTensor> : std::true_type {};
template <> struct factorable_b<PerColumn> : std::true_type {};

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

}  // namespace llm
}  // namespace detail

/// The product of two quantized matrices, computed in the integer domain: with x̂_a = q_a * step_a + offset_a
/// and x̂_b likewise, sum_p x̂_a(i,p) x̂_b(p,j) =
///     step_a(i) [step_b(j) C(i,j) + offset_b(j) R_a(i)] + offset_a(i) [step_b(j) R_b(j) + k offset_b(j)],
/// where C is the int8 GEMM of the codes (exact int32) and R_a, R_b are the row sums of A's codes and the column
/// sums of B's codes (uint8 MinMax codes enter the GEMM as q - 128, the 128 folded into the offset). The
/// corrections are computed in double; the result equals qa.dequantize() * qb.dequantize() up to float
/// rounding. Any schemes; A PerTensor or PerRow, B PerTensor or PerColumn (others do not factor out of the sum
/// over k: a compile-time error). Throws std::invalid_argument on a shape mismatch (naming both shapes),
/// std::overflow_error when k > 131071.
template <class SA, class GA, class SB, class GB>
Eigen::MatrixXf matmul(const Quantized<SA, GA>& a, const Quantized<SB, GB>& b) {
  static_assert(detail::llm::factorable_a<GA>::value,
                "octet::matmul(qa, qb): A must be quantized PerTensor or PerRow. A per-column scale of A varies "
                "along k, the summed dimension, so it cannot be factored out of the int8 GEMM.");
  static_assert(detail::llm::factorable_b<GB>::value,
                "octet::matmul(qa, qb): B must be quantized PerTensor or PerColumn. A per-row scale of B varies "
                "along k, the summed dimension, so it cannot be factored out of the int8 GEMM.");
  using detail::Index;
  const char* who = "octet::matmul";
  if (a.cols() != b.rows())
    throw std::invalid_argument(std::string(who) + ": shape mismatch, A is " + detail::shape(a.rows(), a.cols()) +
                                " and B is " + detail::shape(b.rows(), b.cols()));
  detail::check_depth(a.cols(), who);
  const Index m = a.rows(), k = a.cols(), n = b.cols();
  Eigen::MatrixXf y(m, n);
  if (m == 0 || n == 0) return y;
  int shift_a = 0, shift_b = 0;
  const MatrixXi8 ca = detail::llm::signed_codes(a.codes, shift_a);
  const MatrixXi8 cb = detail::llm::signed_codes(b.codes, shift_b);
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
