// octet — the float ops of the LLM.int8() passes, written once over an 8-lane vector struct V and compiled per
// ISA: x86/float_avx2.hpp and arm/float_neon.hpp open their target region and namespace and include this file
// there (no include guard on purpose; core/config.hpp explains the technique). They include <algorithm>,
// <cmath>, <cstdint>, <cstring> and float_scalar.hpp first, so the includes below are no-ops inside the namespace.
//
// V provides, on 8 floats (F), 8 int32 (I) and a lane mask (M):
//   load, store, load_bits/store_bits (int32 memory as raw bits), set1, abs, max, mul, add, and_bits,
//   below(a, l) (a where a < l, else 0), no_fma
//   (an optimisation barrier against FMA contraction), hmax, round_i32 (round half to even), store_i8
//   (8 int32 in [-128, 127] to 8 bytes), cvt_i32 (load 8 int32 as floats), all_true, le_and(ok, a, b)
//   (ok & (a <= b), false for NaN), all(ok), transpose8(F (&)[8]).
// Every function performs FloatScalar's float operations in FloatScalar's order, so the results are
// bit-identical to it; its tails call FloatScalar directly.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "float_scalar.hpp"

template <class V>
struct FloatPasses {
  using F = typename V::F;
  using S = ::octet::detail::kernels::FloatScalar;
  using Index = ::octet::detail::Index;
  using FloatView = ::octet::detail::FloatView;
  using ColumnMask = ::octet::detail::ColumnMask;
  template <class Out>
  using Epilogue = ::octet::detail::DequantEpilogueT<Out>;
  using AbsMax = ::octet::AbsMax;

  static bool scan_columns(const FloatView& v, Index c0, Index c1, float* colmax) {
    const F big = V::set1(S::float_max);
    auto ok = V::all_true();
    bool ok_tail = true;
    if (v.rows_contiguous()) {
      for (Index c = c0; c < c1; ++c) colmax[c] = 0.0f;
      for (Index i = 0; i < v.rows; ++i) {
        const float* row = v.data + i * v.rs;
        Index c = c0;
        for (; c + 8 <= c1; c += 8) {
          const F a = V::abs(V::load(row + c));
          ok = V::le_and(ok, a, big);
          V::store(colmax + c, V::max(V::load(colmax + c), a));
        }
        for (; c < c1; ++c) {
          const float a = std::abs(row[c]);
          ok_tail &= a <= S::float_max;
          colmax[c] = std::max(colmax[c], a);
        }
      }
    } else {
      for (Index c = c0; c < c1; ++c) {
        const float* col = v.data + c * v.cs;
        F m0 = V::set1(0.0f), m1 = m0;
        Index i = 0;
        for (; i + 16 <= v.rows; i += 16) {
          const F a = V::abs(V::load(col + i)), b = V::abs(V::load(col + i + 8));
          ok = V::le_and(V::le_and(ok, a, big), b, big);
          m0 = V::max(m0, a);
          m1 = V::max(m1, b);
        }
        float m = V::hmax(V::max(m0, m1));
        for (; i < v.rows; ++i) {
          const float a = std::abs(col[i]);
          ok_tail &= a <= S::float_max;
          m = std::max(m, a);
        }
        colmax[c] = m;
      }
    }
    return ok_tail && V::all(ok);
  }

  /// row[c..c+8) with the skipped columns zeroed.
  static F load_kept(const float* row, const ColumnMask& mask, Index c) {
    return mask.keep ? V::and_bits(V::load(row + c), V::load(mask.keep + c)) : V::load(row + c);
  }
  /// |row[c..c+8)| as it counts towards the row's absmax (ColumnMask::counted).
  static F counted(const float* row, const ColumnMask& mask, const F& limit, Index c) {
    return mask.by_limit() ? V::below(V::abs(V::load(row + c)), limit) : V::abs(load_kept(row, mask, c));
  }

  static void quantize_row(const float* row, ColumnMask mask, Index n, std::int8_t* out, float* step) {
    const Index n32 = n / 32 * 32, n8 = n / 8 * 8;
    F m0 = V::set1(0.0f), m1 = m0, m2 = m0, m3 = m0;
    Index c = 0;
    const F limit = V::set1(mask.limit);
    for (; c < n32; c += 32) {
      m0 = V::max(m0, counted(row, mask, limit, c));
      m1 = V::max(m1, counted(row, mask, limit, c + 8));
      m2 = V::max(m2, counted(row, mask, limit, c + 16));
      m3 = V::max(m3, counted(row, mask, limit, c + 24));
    }
    for (; c < n8; c += 8) m0 = V::max(m0, counted(row, mask, limit, c));
    float m = V::hmax(V::max(V::max(m0, m1), V::max(m2, m3)));
    for (; c < n; ++c) m = std::max(m, mask.counted(c, row[c]));
    const AbsMax::params p = AbsMax::make_params(m, m);
    *step = p.step;
    if (p.shift != 0) {  // a row of extreme magnitude: the exact rescaling path of AbsMax::quantize_one
      for (c = 0; c < n; ++c) out[c] = mask.skipped(c) ? std::int8_t(0) : AbsMax::quantize_one(p, row[c]);
      return;
    }
    const F s = V::set1(p.s);
    for (c = 0; c < n8; c += 8) V::store_i8(out + c, V::round_i32(V::mul(load_kept(row, mask, c), s)));
    for (; c < n; ++c) out[c] = mask.skipped(c) ? std::int8_t(0) : AbsMax::quantize_one(p, row[c]);
  }

  /// Rows [g0, g0 + mb) of a column-contiguous v (v.rs == 1, mb <= 32); codes column-major, leading dim ld.
  static void quantize_block(const FloatView& v, Index g0, Index mb, ColumnMask mask, std::int8_t* codes, Index ld,
                             float* step) {
    const Index nv = mb / 8;  // whole vectors of 8 rows
    F r[4] = {V::set1(0.0f), V::set1(0.0f), V::set1(0.0f), V::set1(0.0f)};
    float m[32] = {};
    const F limit = V::set1(mask.limit);
    for (Index c = 0; c < v.cols; ++c) {
      if (!mask.by_limit() && mask.skipped(c)) continue;
      const float* col = v.data + c * v.cs + g0;
      for (Index q = 0; q < nv; ++q) r[q] = V::max(r[q], mask.by_limit() ? V::below(V::abs(V::load(col + 8 * q)), limit)
                                                                          : V::abs(V::load(col + 8 * q)));
      for (Index t = nv * 8; t < mb; ++t) m[t] = std::max(m[t], mask.counted(c, col[t]));
    }
    for (Index q = 0; q < nv; ++q) V::store(m + 8 * q, r[q]);
    AbsMax::params p[32];
    float s[32];
    bool shifted = false;
    for (Index t = 0; t < mb; ++t) {
      p[t] = AbsMax::make_params(m[t], m[t]);
      step[g0 + t] = p[t].step;
      s[t] = p[t].s;
      shifted |= p[t].shift != 0;
    }
    if (shifted) {  // a row of extreme magnitude in the block: the exact rescaling path
      S::quantize_block(v, g0, mb, mask, codes, ld, step);
      return;
    }
    F sv[4];
    for (Index q = 0; q < nv; ++q) sv[q] = V::load(s + 8 * q);
    for (Index c = 0; c < v.cols; ++c) {
      std::int8_t* out = codes + c * ld + g0;
      if (mask.skipped(c)) {
        std::memset(out, 0, static_cast<std::size_t>(mb));
        continue;
      }
      const float* col = v.data + c * v.cs + g0;
      for (Index q = 0; q < nv; ++q) V::store_i8(out + 8 * q, V::round_i32(V::mul(V::load(col + 8 * q), sv[q])));
      for (Index t = nv * 8; t < mb; ++t) out[t] = AbsMax::quantize_one(p[t], col[t]);
    }
  }

  /// FloatScalar::dequant of eight values c with one row step sx and eight column steps sw.
  static F dequant8(F c, float sx, const float* sw) {
    const F cx = V::mul(c, V::set1(sx));
    F v = V::no_fma(V::mul(cx, V::load(sw)));
    if (!V::all(V::le_and(V::all_true(), V::abs(cx), V::set1(S::float_max)))) {  // rare: C * sx overflowed
      float cs[8], vs[8];
      V::store(cs, c);
      for (int q = 0; q < 8; ++q) vs[q] = S::dequant(cs[q], sx, sw[q]);
      v = V::load(vs);
    }
    return v;
  }

  /// FloatScalar::fold_block.
  static void fold_block(float* acc, Index lda, const std::int32_t* c, Index ldc, Index rows, Index cols,
                         const float* sx, const float* sw, const std::int32_t* corr, bool first) {
    const Index cols8 = cols / 8 * 8;
    for (Index r = 0; r < rows; ++r) {
      float* a = acc + r * lda;
      const std::int32_t* cr = c + r * ldc;
      for (Index j = 0; j < cols8; j += 8) {
        const F t = dequant8(corr ? V::cvt_i32_minus(cr + j, corr + j) : V::cvt_i32(cr + j), sx[r], sw + j);
        V::store(a + j, V::add(first ? V::set1(0.0f) : V::load(a + j), t));
      }
      if (cols8 < cols)
        S::fold_block(a + cols8, lda, cr + cols8, ldc, 1, cols - cols8, sx + r, sw + cols8, corr ? corr + cols8 : nullptr, first);
    }
  }

  /// Eight consecutive outputs of row i, columns j..j+7 (t: the tile at (i, j)).
  template <class E>
  static F epilogue8(const E& e, Index i, Index j, const std::int32_t* t) {
    return finish8(e, i, j, dequant8(V::cvt_i32(t), e.sx[i], e.sw + j));
  }
  /// The same from float accumulators of block-wise sums.
  template <class E>
  static F epilogue8(const E& e, Index i, Index j, const float* t) {
    return finish8(e, i, j, V::load(t));
  }
  /// v + the outlier product + the bias (FloatScalar::finish_one).
  template <class E>
  static F finish8(const E& e, Index i, Index j, F v) {
    if (e.r > 0) {
      F o = V::set1(0.0f);
      for (Index q = 0; q < e.r; ++q) o = V::add(V::no_fma(V::mul(V::set1(e.xo[i * e.r + q]), V::load(e.wo + q * e.wo_ld + j))), o);
      v = V::add(v, o);
    }
    if (e.bias) v = V::add(v, V::load(e.bias + j));
    return v;
  }

  /// Eight consecutive outputs: floats as they are, other types converted one by one (rounded to nearest even).
  static void store8(float* p, F v) { V::store(p, v); }
  template <class Out>
  static void store8(Out* p, F v) {
    float buf[8];
    V::store(buf, v);
    for (int t = 0; t < 8; ++t) p[t] = static_cast<Out>(buf[t]);
  }

  template <class Out, class T>
  static void epilogue_tile(const Epilogue<Out>& e, Index i0, Index j0, Index rows, Index cols,
                            const T* tile, Index ldt) {
    const Index cols8 = cols / 8 * 8;
    Index i = 0;
    if (e.y.rs == 1 && e.y.cs != 1) {  // column-major destination: blocks of 8 x 8, transposed in registers
      for (; i + 8 <= rows; i += 8) {
        for (Index j = 0; j < cols8; j += 8) {
          F r[8];
#pragma GCC unroll 8
          for (int t = 0; t < 8; ++t) r[t] = epilogue8(e, i0 + i + t, j0 + j, tile + (i + t) * ldt + j);
          V::transpose8(r);
          Out* y = &e.y(i0 + i, j0 + j);
#pragma GCC unroll 8
          for (int t = 0; t < 8; ++t) store8(y + t * e.y.cs, r[t]);
        }
        for (Index t = 0; t < 8; ++t)
          for (Index j = cols8; j < cols; ++j)
            e.y(i0 + i + t, j0 + j) = static_cast<Out>(S::epilogue_one(e, i0 + i + t, j0 + j, tile[(i + t) * ldt + j]));
      }
    }
    for (; i < rows; ++i) {  // one row at a time: floats stored directly when rows are contiguous, else scattered
      for (Index j = 0; j < cols8; j += 8) {
        const F v = epilogue8(e, i0 + i, j0 + j, tile + i * ldt + j);
        if (e.y.cs == 1) {
          store8(&e.y(i0 + i, j0 + j), v);
        } else {
          float buf[8];
          V::store(buf, v);
          for (Index t = 0; t < 8; ++t) e.y(i0 + i, j0 + j + t) = static_cast<Out>(buf[t]);
        }
      }
      for (Index j = cols8; j < cols; ++j)
        e.y(i0 + i, j0 + j) = static_cast<Out>(S::epilogue_one(e, i0 + i, j0 + j, tile[i * ldt + j]));
    }
  }

  static void store_tile(const std::int32_t* tile, Index ldt, Index rows, Index cols,
                         ::octet::detail::MutView<std::int32_t> out) {
    if (out.rs != 1 || out.cs == 1) return S::store_tile(tile, ldt, rows, cols, out);
    // Column-major destination: 8 x 8 blocks transposed in registers (a plain loop costs about 1.5 cycles an
    // element, 5 to 20% of a whole int8 GEMM with k = 4096 to 1024).
    const Index rows8 = rows / 8 * 8, cols8 = cols / 8 * 8;
    for (Index j = 0; j < cols8; j += 8)
      for (Index i = 0; i < rows8; i += 8) {
        F r[8];
#pragma GCC unroll 8
        for (int t = 0; t < 8; ++t) r[t] = V::load_bits(tile + (i + t) * ldt + j);
        V::transpose8(r);
#pragma GCC unroll 8
        for (int t = 0; t < 8; ++t) V::store_bits(&out(i, j + t), r[t]);
      }
    for (Index j = 0; j < cols; ++j)
      for (Index i = (j < cols8 ? rows8 : 0); i < rows; ++i) out(i, j) = tile[i * ldt + j];
  }
};
