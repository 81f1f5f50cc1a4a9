// octet — the float ops of the LLM.int8() passes in plain C++: the reference that the SIMD versions
// (kernels/float_passes.hpp) reproduce bit for bit, and the path of Isa::scalar.
//
// The arithmetic: absolute maxima are exact; a code is round_half_even(s * x) with s = 127 / absmax
// (AbsMax::quantize_one, including its exact power-of-two rescaling of extreme rows); the epilogue is
// y = (C * sx) * sw + sum_q xo * wo + bias ((C * sw) * sx where C * sx overflows), every product rounded on its own (no_fma: no FMA contraction even
// when the caller compiles with -mfma or -march=native).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../core/schemes.hpp"
#include "../core/views.hpp"
#include "contract.hpp"

namespace octet {
namespace detail {
namespace kernels {

struct FloatScalar {
  static constexpr float float_max = std::numeric_limits<float>::max();

  /// colmax[c] = max over rows of |v(i, c)| for c in [c0, c1); false when a value is not finite.
  static bool scan_columns(const FloatView& v, Index c0, Index c1, float* colmax) {
    bool ok = true;
    if (v.rows_contiguous()) {
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

  /// One contiguous row: AbsMax over what the mask counts, then the codes (skipped columns: 0).
  static void quantize_row(const float* row, ColumnMask mask, Index n, std::int8_t* out, float* step) {
    float m = 0.0f;
    for (Index c = 0; c < n; ++c) m = std::max(m, mask.counted(c, row[c]));
    const AbsMax::params p = AbsMax::make_params(m, m);
    *step = p.step;
    for (Index c = 0; c < n; ++c) out[c] = mask.skipped(c) ? std::int8_t(0) : AbsMax::quantize_one(p, row[c]);
  }

  /// Rows [g0, g0 + mb) of a column-contiguous v; codes column-major with leading dimension ld.
  static void quantize_block(const FloatView& v, Index g0, Index mb, ColumnMask mask, std::int8_t* codes, Index ld,
                             float* step) {
    for (Index t = 0; t < mb; ++t) {
      float m = 0.0f;
      for (Index c = 0; c < v.cols; ++c) m = std::max(m, mask.counted(c, v(g0 + t, c)));
      const AbsMax::params p = AbsMax::make_params(m, m);
      step[g0 + t] = p.step;
      for (Index c = 0; c < v.cols; ++c)
        codes[c * ld + g0 + t] = mask.skipped(c) ? std::int8_t(0) : AbsMax::quantize_one(p, v(g0 + t, c));
    }
  }

  /// The int8 part of one output, (C * sx) * sw, or (C * sw) * sx where C * sx overflows: the product of the
  /// steps is applied in an order in which no intermediate overflows when the result is a finite float (|C| >= 1
  /// only grows what it multiplies, so only a step itself can underflow: subnormal data).
  static float dequant(float c, float sx, float sw) {
    const float v = no_fma(c * sx);
    return std::abs(v) <= float_max ? no_fma(v * sw) : no_fma(no_fma(c * sw) * sx);
  }

  /// One element of the epilogue (see DequantEpilogueT), in float.
  template <class E>
  static float epilogue_one(const E& e, Index i, Index j, std::int32_t c) {
    return finish_one(e, i, j, dequant(static_cast<float>(c), e.sx[i], e.sw[j]));
  }
  /// The same from a float accumulator of block-wise sums (BlockScales): v + outliers + bias.
  template <class E>
  static float epilogue_one(const E& e, Index i, Index j, float v) {
    return finish_one(e, i, j, v);
  }
  /// v + sum_q xo * wo (from 0, ascending q) + bias.
  template <class E>
  static float finish_one(const E& e, Index i, Index j, float v) {
    if (e.r > 0) {
      float o = 0.0f;
      for (Index q = 0; q < e.r; ++q) o = no_fma(e.xo[i * e.r + q] * e.wo[q * e.wo_ld + j]) + o;
      v = v + o;
    }
    if (e.bias) v = v + e.bias[j];
    return v;
  }

  /// acc[r*lda + j] = (first ? +0 : acc[r*lda + j]) + dequant(c[r*ldc + j] - corr[j], sx[r], sw[j]) for r < rows,
  /// j < cols (corr may be null): one block of block-wise sums folded into the float accumulators.
  static void fold_block(float* acc, Index lda, const std::int32_t* c, Index ldc, Index rows, Index cols,
                         const float* sx, const float* sw, const std::int32_t* corr, bool first) {
    for (Index r = 0; r < rows; ++r)
      for (Index j = 0; j < cols; ++j) {
        const std::int32_t v = corr ? static_cast<std::int32_t>(static_cast<std::uint32_t>(c[r * ldc + j]) -
                                                                static_cast<std::uint32_t>(corr[j]))
                                    : c[r * ldc + j];
        const float t = dequant(static_cast<float>(v), sx[r], sw[j]);
        acc[r * lda + j] = (first ? 0.0f : acc[r * lda + j]) + t;
      }
  }

  /// y(i0 + i, j0 + j) = epilogue of tile[i*ldt + j] for i < rows, j < cols; the tile holds int32 sums, or float
  /// accumulators of block-wise sums.
  template <class Out, class T>
  static void epilogue_tile(const DequantEpilogueT<Out>& e, Index i0, Index j0, Index rows, Index cols,
                            const T* tile, Index ldt) {
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < cols; ++j)
        e.y(i0 + i, j0 + j) = static_cast<Out>(epilogue_one(e, i0 + i, j0 + j, tile[i * ldt + j]));
  }

  /// out(i, j) = tile[i*ldt + j] for i < rows, j < cols.
  static void store_tile(const std::int32_t* tile, Index ldt, Index rows, Index cols, MutView<std::int32_t> out) {
    if (out.cs == 1) {
      for (Index i = 0; i < rows; ++i)
        std::memcpy(out.data + i * out.rs, tile + i * ldt, static_cast<std::size_t>(cols) * sizeof(std::int32_t));
      return;
    }
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < rows; ++i) out(i, j) = tile[i * ldt + j];
  }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet
