// octet — the passes of LLM.int8() over views, written once over a path's float ops (gemm/dispatch.hpp).
//
// Per call: (1) scan X for NaN/Inf and for the outlier columns (some |x| > threshold); (2) quantize every row
// of X by AbsMax over its non-outlier columns (outlier columns become code 0), in one fused pass per block of
// rows; (3) run the int8 GEMM of the codes with the packed weights, whose epilogue dequantizes each finished
// int32 tile and adds the float outlier product and the bias while the tile is still in cache. No m x n
// intermediate other than the result is ever written. The weights are quantized per column by the same row
// pass run on W's transpose, then packed.
//
// Each pass is a template on the path P, so that it calls P::Float's code (scalar, AVX2 or NEON) directly;
// the float ops perform the same operations in the same order on every path, so results are bit-identical
// across paths and thread counts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "../core/checks.hpp"
#include "../core/scratch.hpp"
#include "../core/threads.hpp"
#include "../core/views.hpp"
#include "../gemm/dispatch.hpp"
#include "../gemm/driver.hpp"
#include "../gemm/pack.hpp"

namespace octet {
namespace detail {
namespace llm {

/// The passes around the GEMM run on the GEMM's threads once they read at least this many values of X: below
/// that, waking the other threads costs more than it saves. Measured on a 2-core Xeon (Emerald Rapids, AVX-512
/// VNNI path, k = 4096, 2026-12-05): the row quantization is faster on two threads from m = 8 (32K values) on,
/// the scan from between m = 32 and 128. Every split computes each column's maximum and each row's codes whole,
/// so results do not depend on it.
constexpr Index quantize_parallel_values = Index(1) << 15;
constexpr Index scan_parallel_values = Index(1) << 18;

/// Tasks enough to keep `threads` threads busy to the end (4 each), given items of work and the most items a
/// task should take; at least one item a task.
inline Index items_per_task(Index items, Index most, int threads) {
  if (threads <= 1) return std::max<Index>(1, most);
  return std::max<Index>(1, std::min(most, ceil_div(items, Index(4) * threads)));
}

/// colmax[c] = max_i |float(v(i, c))| for c in [c0, c1) of a matrix of 16-bit floats; false on NaN/Inf. Plain
/// C++: max and abs are exact, so this agrees with every path's float scan.
template <class T>
bool scan_columns_converted(const ConstView<T>& v, Index c0, Index c1, float* colmax) {
  bool ok = true;
  for (Index c = c0; c < c1; ++c) colmax[c] = 0.0f;
  for (Index i = 0; i < v.rows; ++i)
    for (Index c = c0; c < c1; ++c) {
      const float a = std::abs(static_cast<float>(v(i, c)));
      ok &= a <= std::numeric_limits<float>::max();
      colmax[c] = std::max(colmax[c], a);
    }
  return ok;
}

/// Pass 1: checks that v is finite (else std::domain_error naming the position in `name`) and, when
/// `threshold` is given, returns the columns holding some |v(i, j)| > threshold (>= when `inclusive`),
/// ascending. T is float, or a
/// 16-bit float type (Eigen::bfloat16, Eigen::half) read as float.
/// Written on the float ops F, not the path: the paths that share their float ops (every x86 one) share it.
template <class F, class T>
void scan_with(const ConstView<T>& v, const float* threshold, const char* who, const char* name, bool inclusive,
               std::vector<Index>& out) {
  auto scan_part = [](const ConstView<T>& part, Index c0, Index c1, float* maxima) {
    if constexpr (std::is_same<T, float>::value)
      return F::scan_columns(part, c0, c1, maxima);
    else
      return scan_columns_converted(part, c0, c1, maxima);
  };
  std::vector<float>& colmax = thread_scratch().colmax;
  std::vector<unsigned char>& ok = thread_scratch().ok;
  const int threads = v.rows * v.cols >= scan_parallel_values ? num_threads() : 1;
  if (threads > 1 && v.rows_contiguous() && v.rows > 1) {
    // Row-major: each task scans a block of whole rows (contiguous memory) into column maxima of its own,
    // merged afterwards (max is exact: the split does not change the result). Slices of columns would read
    // every row in short pieces, which measured no faster on two threads than on one. At least 32K values a
    // task, so that the merge (tasks x cols, on this thread) stays small beside the scan.
    const Index tasks = std::min<Index>({v.rows, Index(threads), ceil_div(v.rows * v.cols, Index(1) << 15)});
    const Index per = ceil_div(v.rows, tasks);
    colmax.resize(static_cast<std::size_t>(tasks * v.cols));
    ok.assign(static_cast<std::size_t>(tasks), 1);
    parallel_for(static_cast<long>(tasks), threads, [&](long t) {
      const Index r0 = t * per, r1 = std::min(v.rows, r0 + per);
      float* task_max = colmax.data() + t * v.cols;
      if (r1 <= r0) {  // no rows left for this task: nothing to merge
        std::fill(task_max, task_max + v.cols, 0.0f);
        return;
      }
      const ConstView<T> part{v.data + r0 * v.rs, r1 - r0, v.cols, v.rs, v.cs};
      ok[static_cast<std::size_t>(t)] = scan_part(part, 0, v.cols, task_max) ? 1 : 0;
    });
    float* m = colmax.data();
    for (Index t = 1; t < tasks; ++t)
      for (Index c = 0; c < v.cols; ++c) m[c] = std::max(m[c], m[t * v.cols + c]);
    colmax.resize(static_cast<std::size_t>(v.cols));
  } else {
    // Column-major (or one thread): slices of whole columns, 512 wide.
    colmax.resize(static_cast<std::size_t>(v.cols));
    const Index chunk = 512;
    const long tasks = static_cast<long>(ceil_div(v.cols, chunk));
    ok.assign(static_cast<std::size_t>(std::max<long>(tasks, 1)), 1);
    parallel_for(tasks, threads, [&](long t) {
      const Index c0 = t * chunk, c1 = std::min(v.cols, c0 + chunk);
      ok[static_cast<std::size_t>(t)] = scan_part(v, c0, c1, colmax.data()) ? 1 : 0;
    });
  }
  for (unsigned char g : ok)
    if (!g) throw_non_finite(v, who, name);
  out.clear();
  if (threshold)
    for (Index c = 0; c < v.cols; ++c)
      if (inclusive ? colmax[static_cast<std::size_t>(c)] >= *threshold : colmax[static_cast<std::size_t>(c)] > *threshold)
        out.push_back(c);
}

/// scan_with() on path P's float ops.
template <class P, class T>
void scan(const ConstView<T>& v, const float* threshold, const char* who, const char* name, bool inclusive,
          std::vector<Index>& out) {
  scan_with<typename P::Float, T>(v, threshold, who, name, inclusive, out);
}

/// scan() returning a new vector.
template <class P, class T>
std::vector<Index> scan(const ConstView<T>& v, const float* threshold, const char* who, const char* name,
                        bool inclusive = false) {
  std::vector<Index> out;
  scan<P, T>(v, threshold, who, name, inclusive, out);
  return out;
}

/// Pass 2: AbsMax-quantizes every row of v over the columns whose `skip` flag is 0 (skip may be null; with a
/// finite `limit`, over every value below it instead: see ColumnMask), writing the codes of skipped columns as 0 and each row's step to step[i]. Codes are row-major (leading dimension
/// v.cols) when rows are contiguous, else column-major (leading dimension v.rows); returns their view. 16-bit
/// float input is converted a row (or a block of rows) at a time into a float buffer, never as a whole.
///
/// With `block` > 0 every row is cut into blocks of `block` columns (the last one may be shorter), each quantized
/// on its own: the step of row i in block b goes to step[b * v.rows + i] (block-major), so that block 0's steps
/// are where the row steps are without blocks (step_ld, when not 0, replaces v.rows there: a slice of rows).
/// Written on the float ops F, as scan_with; quantize_rows<P> is the path's.
template <class F, class T>
Int8View quantize_rows_with(const ConstView<T>& v, const unsigned char* skip, std::int8_t* codes, float* step,
                            float limit, Index block, Index step_ld) {
  constexpr bool is_float = std::is_same<T, float>::value;
  if (v.cols == 0) {  // no values (and perhaps a null data pointer): every row has step 0 and no codes
    std::fill(step, step + v.rows, 0.0f);
    return Int8View{codes, v.rows, 0, 0, 1};
  }
  const int threads = v.rows * v.cols >= quantize_parallel_values ? num_threads() : 1;
  std::vector<float>& keep = thread_scratch().keep;
  ColumnMask mask;
  if (skip) {
    keep.resize(static_cast<std::size_t>(v.cols));
    for (Index c = 0; c < v.cols; ++c) {
      const std::uint32_t bits = skip[c] ? 0u : 0xFFFFFFFFu;
      std::memcpy(&keep[static_cast<std::size_t>(c)], &bits, sizeof bits);
    }
    mask.skip = skip;
    mask.keep = keep.data();
  }
  mask.limit = limit;
  const Index width = block > 0 ? block : v.cols;  // columns per block
  if (step_ld == 0) step_ld = v.rows;
  if (v.rows_contiguous()) {
    // About 32K values a task, fewer when that leaves a thread idle (each row is quantized whole by one task).
    const Index per_task = items_per_task(v.rows, std::max<Index>(1, (Index(1) << 15) / std::max<Index>(v.cols, 1)), threads);
    parallel_for(static_cast<long>(ceil_div(v.rows, per_task)), threads, [&](long t) {
      std::vector<float>& buf = thread_scratch().converted;  // this task's thread's
      if (!is_float) buf.resize(static_cast<std::size_t>(v.cols));
      const Index g1 = std::min(v.rows, (t + 1) * per_task);
      for (Index g = t * per_task; g < g1; ++g) {
        const T* row = v.data + g * v.rs;
        const float* in;
        if constexpr (is_float) {
          in = row;
        } else {
          for (Index c = 0; c < v.cols; ++c) buf[static_cast<std::size_t>(c)] = static_cast<float>(row[c]);
          in = buf.data();
        }
        for (Index c0 = 0, b = 0; c0 < v.cols; c0 += width, ++b)
          F::quantize_row(in + c0, mask.from(c0), std::min(width, v.cols - c0), codes + g * v.cols + c0,
                                 step + b * step_ld + g);
      }
    });
    return Int8View{codes, v.rows, v.cols, v.cols, 1};
  }
  // Blocks of 32 rows (of 8 when that leaves a thread idle): each row's codes and step do not depend on the block.
  const Index mb = threads > 1 && ceil_div(v.rows, Index(32)) < 2 * threads ? 8 : 32;
  parallel_for(static_cast<long>(ceil_div(v.rows, mb)), threads, [&](long t) {
    const Index g0 = t * mb, rows = std::min(mb, v.rows - g0);
    // Rows [g0, g0 + rows) of the float view f (whose row 0 is row r0 of v), block by block.
    auto blocks_of = [&](const FloatView& f, Index r0) {
      for (Index c0 = 0, b = 0; c0 < v.cols; c0 += width, ++b)
        F::quantize_block(FloatView{f.data + c0 * f.cs, f.rows, std::min(width, v.cols - c0), f.rs, f.cs},
                                 g0 - r0, rows, mask.from(c0), codes + c0 * v.rows + r0, v.rows,
                                 step + b * step_ld + r0);
    };
    if constexpr (is_float) {
      blocks_of(v, 0);
    } else {  // the block's rows as float, column-major
      std::vector<float>& buf = thread_scratch().converted;
      buf.resize(static_cast<std::size_t>(std::min(mb, v.rows) * v.cols));  // a whole block's, whichever block this is
      for (Index c = 0; c < v.cols; ++c)
        for (Index i = 0; i < rows; ++i) buf[static_cast<std::size_t>(c * rows + i)] = static_cast<float>(v(g0 + i, c));
      blocks_of(FloatView{buf.data(), rows, v.cols, 1, rows}, g0);
    }
  });
  return Int8View{codes, v.rows, v.cols, 1, v.rows};
}

/// quantize_rows_with() on path P's float ops.
template <class P, class T>
Int8View quantize_rows(const ConstView<T>& v, const unsigned char* skip, std::int8_t* codes, float* step,
                       float limit = std::numeric_limits<float>::infinity(), Index block = 0, Index step_ld = 0) {
  return quantize_rows_with<typename P::Float, T>(v, skip, codes, step, limit, block, step_ld);
}

/// The row stride of the outlier weights handed to forward(): n padded by one cache line. The epilogue reads
/// the r rows at one column for every output; with rows n apart and n a multiple of 1024, all r would map to one
/// L1 set (measured: 32 outlier columns cost 25-35% of a 32 x 4096 x 4096 call, 10% after the padding).
inline Index outlier_ld(Index n) { return n + 16; }

/// The per-call part shared by matmul_llm_int8 and LLMInt8Linear: quantizes X's rows over the non-outlier
/// columns, gathers the outlier columns, and runs the GEMM with the fused epilogue into y (m x n).
/// wsteps: n column steps of W, or with block-wise scales (block > 0) blocks x n of them (BlockScales::sw; pb
/// then holds the block corrections its kernel needs: set_block_correction); wo: r x n row-major outlier
/// weights (r = outliers.size()), rows outlier_ld(n) apart; bias: n or null; limit: see quantize_rows.
template <class P, class TX, class TY>
void forward(const ConstView<TX>& x, const std::vector<Index>& outliers, const PackedBData& pb, const float* wsteps,
             const float* wo, const float* bias, const MutView<TY>& y,
             float limit = std::numeric_limits<float>::infinity(), Index block = 0) {
  const Index m = x.rows, k = x.cols, n = pb.n, r = static_cast<Index>(outliers.size());
  const Index blocks = block > 0 ? ceil_div(k, block) : 1;
  if (m == 0 || n == 0) return;
  Scratch& scratch = thread_scratch();
  std::vector<unsigned char>& skip = scratch.skip;
  if (r > 0) {
    skip.assign(static_cast<std::size_t>(k), 0);
    for (Index c : outliers) skip[static_cast<std::size_t>(c)] = 1;
  }
  AlignedBuffer& code_buffer = scratch.codes;
  code_buffer.resize(static_cast<std::size_t>(std::max<Index>(m * k, 1)));
  std::vector<float>& sx = scratch.sx;
  sx.resize(static_cast<std::size_t>(std::max<Index>(m * std::max<Index>(blocks, 1), 1)));  // k = 0: quantize_rows writes m steps
  const Int8View codes =
      quantize_rows<P, TX>(x, r > 0 ? skip.data() : nullptr, code_buffer.as<std::int8_t>(), sx.data(), limit, block);
  std::vector<float>& xo = scratch.xo;
  xo.resize(static_cast<std::size_t>(m * r));
  for (Index i = 0; i < m; ++i)
    for (Index q = 0; q < r; ++q)
      xo[static_cast<std::size_t>(i * r + q)] = static_cast<float>(x(i, outliers[static_cast<std::size_t>(q)]));
  const DequantEpilogueT<TY> e{y, sx.data(), wsteps, xo.data(), wo, r, n, bias, outlier_ld(n)};
  // The tile holds int32 sums, or (block-wise scales) float accumulators.
  auto epilogue = [&e](Index i0, Index j0, Index rows, Index cols, const auto* tile, Index ldt) {
    P::Float::epilogue_tile(e, i0, j0, rows, cols, tile, ldt);
  };
  if (block == 0) {
    gemm_driver<typename P::Kernel>(codes, pb, epilogue, num_threads(), nullptr, FoldBlock<typename P::Float>{});
    return;
  }
  using K = typename P::Kernel;
  const BlockScales scales{block, sx.data(), m, wsteps, n, pb.block_correction.empty() ? nullptr : pb.block_correction.data(),
                           round_up(n, K::NR)};
  gemm_driver<K>(codes, pb, epilogue, num_threads(), &scales, FoldBlock<typename P::Float>{});
}

/// W (k x n) quantized per column (AbsMax over the rows whose skip flag is 0) and packed for path P: the codes
/// are computed as the rows of W's transpose. step receives n column steps.
/// A slice of columns at a time (each thread quantizes its slice into a buffer of its own and packs it while it
/// is in cache): no k x n code buffer, and the rows' results do not depend on the slicing.
/// With block > 0, W's columns are quantized per block of `block` rows: step receives blocks x n steps,
/// row-major (BlockScales::sw), and the packed data the block corrections its kernel needs.
template <class P>
PackedBData quantize_weights(const FloatView& w, const unsigned char* skip_rows, float* step, Index block = 0) {
  using K = typename P::Kernel;
  const Index k = w.rows, n = w.cols;
  PackedBData packed;
  pack_b_init<K>(k, n, packed);
  packed.isa = P::isa;
  const FloatView wt = w.transposed();
  const Index panels = ceil_div(n, K::NR), per_task = std::max<Index>(1, 256 / K::NR);  // about 256 columns
  const int threads = k * n >= (Index(1) << 18) ? num_threads() : 1;
  parallel_for(static_cast<long>(ceil_div(panels, per_task)), threads, [&](long t) {
    const Index jp0 = t * per_task, jp1 = std::min(panels, jp0 + per_task);
    const Index j0 = jp0 * K::NR, cols = std::min(n, jp1 * K::NR) - j0;
    AlignedBuffer& codes = thread_scratch().codes;  // this task's thread's (a nested quantize_rows runs here)
    codes.resize(static_cast<std::size_t>(std::max<Index>(cols * k, 1)));
    const FloatView slice{wt.data + j0 * wt.rs, cols, k, wt.rs, wt.cs};
    const Int8View slice_codes = quantize_rows<P, float>(slice, skip_rows, codes.as<std::int8_t>(), step + j0,
                                                         std::numeric_limits<float>::infinity(), block, n);
    if (k > 0) pack_b_part<K, has_pack_b_panel<K>::value>(slice_codes.transposed(), packed, jp0, jp1);
  });
  set_block_correction<K>(packed, block);
  return packed;
}

/// The outlier rows of W as the int8 path holds them, dequantized (code * column step, as
/// Quantized::dequantize does; with block-wise scales, the step of the row's block): r x n row-major into out,
/// rows outlier_ld(n) apart.
template <class P>
void dequantized_rows(const PackedBData& pb, const float* step, const std::vector<Index>& rows, float* out,
                      Index block = 0) {
  const Index r = static_cast<Index>(rows.size()), n = pb.n, ld = outlier_ld(n);
  unpack_b_rows<typename P::Kernel>(pb, rows.data(), r, out, ld);
  for (Index q = 0; q < r; ++q) {
    const float* s = step + (block > 0 ? rows[static_cast<std::size_t>(q)] / block : 0) * n;
    for (Index j = 0; j < n; ++j) out[q * ld + j] = no_fma(out[q * ld + j] * s[j]);
  }
}

/// matmul_vectorwise (threshold null) and matmul_llm_int8 on views, into y (m x n).
template <class P>
void matmul_llm_int8(const FloatView& x, const FloatView& w, const float* threshold, const MutView<float>& y,
                     const char* who) {
  const std::vector<Index> outliers = scan<P, float>(x, threshold, who, "X");
  scan<P, float>(w, nullptr, who, "W");
  if (x.rows == 0) return;
  const Index r = static_cast<Index>(outliers.size()), n = w.cols;
  std::vector<unsigned char> skip;
  std::vector<float> wo(static_cast<std::size_t>(r * outlier_ld(n)));
  if (r > 0) {
    skip.assign(static_cast<std::size_t>(w.rows), 0);
    for (Index q = 0; q < r; ++q) {
      const Index p = outliers[static_cast<std::size_t>(q)];
      skip[static_cast<std::size_t>(p)] = 1;
      for (Index j = 0; j < n; ++j) wo[static_cast<std::size_t>(q * outlier_ld(n) + j)] = w(p, j);
    }
  }
  std::vector<float> wstep(static_cast<std::size_t>(n));
  const PackedBData packed = quantize_weights<P>(w, r > 0 ? skip.data() : nullptr, wstep.data());
  forward<P, float, float>(x, outliers, packed, wstep.data(), wo.data(), nullptr, y);
}

}  // namespace llm
}  // namespace detail
}  // namespace octet
