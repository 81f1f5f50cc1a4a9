// octet — the generic int8 GEMM driver: packing, cache blocking and threads around any kernel.
//
// C(m x n, int32) = A(m x k, int8) * B(k x n, int8), where B was packed once (gemm/pack.hpp) and A is packed
// per call. The driver is written once, on views (no Eigen, no intrinsics); an ISA contributes only a small
// traits struct with a register-blocked micro-kernel (kernels/contract.hpp).
//
// Blocking. C is cut into tiles of at most MC rows x NC columns. A tile is computed by one thread,
// completely, into a row-major int32 buffer that stays in cache:
//   - Many rows (the tile has more than a few MR panels): for each depth block of KC, for each NR-wide panel
//     of B, for each MR-high panel of A, one micro-kernel call updates an MR x NR block of the buffer. The
//     KC x NR panel of B stays in L1 while the A panels stream past it from L2 (Goto's order).
//   - Few rows (m small, down to m = 1, the matrix-vector product of decoding one token): one micro-kernel
//     call covers the whole depth, so an MR x NR block lives in registers from the first k to the last and the
//     packed B, which is contiguous per panel and panel after panel, is streamed from memory exactly once.
// When the whole depth is done, the driver applies the +128 correction (if the kernel shifts A) and hands the
// finished tile to an epilogue in strips of a few rows (which the strip's rows keep in L1 while the epilogue
// reads it column by column, as a column-major writer does). The epilogue writes it wherever the caller wants
// it (int32 to an Eigen matrix, or dequantized floats).
//
// Since every tile sums over k in the same order whoever computes it (and int32 sums are exact anyway),
// results are bit-identical for any number of threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "../core/buffer.hpp"
#include "../core/config.hpp"
#include "../core/scratch.hpp"
#include "../core/threads.hpp"
#include "../core/views.hpp"
#include "../kernels/contract.hpp"
#include "pack.hpp"

namespace octet {
namespace detail {

/// A tile with at most this many MR panels is computed with whole-depth micro-kernel calls (see above).
constexpr Index few_row_panels = 6;
/// Rows per epilogue call (any count works: a strip of the int32 tile that stays in L1 while the epilogue reads it).
constexpr Index epilogue_strip_rows = 48;

/// Whether kernel K folds block sums into float accumulators itself (K::micro_blocked: the x86 kernels), rather
/// than through an int32 buffer and the path's Float::fold_block.
template <class K, class = void>
struct has_micro_blocked : std::false_type {};
template <class K>
struct has_micro_blocked<K, std::void_t<decltype(&K::micro_blocked)>> : std::true_type {};

/// No block-wise scales (the default of gemm_driver's Fold).
struct NoFold {
  void operator()(float*, Index, const std::int32_t*, Index, Index, Index, const float*, const float*,
                  const std::int32_t*, bool) const {}
};

/// The Fold octet's own callers pass, with block-wise scales or without: float ops F's fold_block. One named type
/// for every caller, so that the driver is compiled once per kernel and float ops (the GEMM and the layer share it).
template <class F>
struct FoldBlock {
  void operator()(float* acc, Index lda, const std::int32_t* c, Index ldc, Index rows, Index cols, const float* bsx,
                  const float* bsw, const std::int32_t* corr, bool first) const {
    F::fold_block(acc, lda, c, ldc, rows, cols, bsx, bsw, corr, first);
  }
};

/// Block-wise scales: computes the float accumulators of the tile rows [i0, i0 + rows) x columns [j0, j0 + cols)
/// into acc (row-major, leading dimension ldt), from packed A (panels of a_panel_elems) and packed B.
template <class K, class Fold>
void blocked_tile(const typename K::AElem* a_packed, Index a_panel_elems, const PackedBData& b, const BlockScales& sc,
                  const Fold& fold, Index i0, Index rows, Index j0, Index cols, bool few_rows, float* acc, Index ldt) {
  using BE = typename K::BElem;
  const Index kgroups = b.kgroups, block_groups = sc.block / K::KG;  // 0 when a block is less than a k-group
  const Index blocks = ceil_div(b.k, sc.block);
  if (blocks == 0)  // k = 0: no block, the accumulators stay +0
    for (Index r = 0; r < rows; ++r) std::fill(acc + r * ldt, acc + r * ldt + cols, 0.0f);
  // Many rows: KC deep at a time (a whole number of blocks), as without blocks; few rows: the whole depth.
  const Index chunk_blocks = few_rows ? std::max<Index>(blocks, 1) : K::KC / sc.block;
  const BE* b_packed = b.data.as<BE>();
  for (Index b0 = 0; b0 < blocks; b0 += chunk_blocks) {
    const Index b1 = std::min(blocks, b0 + chunk_blocks);
    for (Index jj = 0; jj < cols; jj += K::NR) {
      const int nr = static_cast<int>(std::min<Index>(K::NR, cols - jj));
      const BE* bp = b_packed + ((j0 + jj) / K::NR) * b.panel_elems;
      auto a_at = [&](Index ii, Index g0) { return a_packed + ((i0 + ii) / K::MR) * a_panel_elems + g0 * K::MR * K::KG; };
      if constexpr (has_micro_blocked<K>::value) {  // the chunk's blocks in one call, folded from the registers
        // b0 is a multiple of chunk_blocks, so that the chunk starts on a k-group
        const Index g0 = b0 * sc.block / K::KG, gs = std::min(kgroups, ceil_div(b1 * sc.block, K::KG)) - g0;
        const std::int32_t* corr = sc.corr ? sc.corr + b0 * sc.corr_ld + j0 + jj : nullptr;
        for (Index ii = 0; ii < rows; ii += K::MR)
          K::micro_blocked(static_cast<int>(std::min<Index>(K::MR, rows - ii)), nr, gs, sc.block, b1 - b0, a_at(ii, g0),
                           bp + g0 * K::NR * K::KG, acc + ii * ldt + jj, ldt, sc.sx + b0 * sc.m + i0 + ii, sc.m,
                           sc.sw + b0 * sc.n + j0 + jj, sc.n, corr, sc.corr_ld, b0 == 0);
      } else {  // one block at a time into an MR x NR buffer in L1, folded at once
        alignas(64) std::int32_t sums[K::MR * K::NR];
        for (Index bl = b0; bl < b1; ++bl) {
          const Index g0 = bl * block_groups, gs = std::min(block_groups, kgroups - g0);
          const std::int32_t* corr = sc.corr ? sc.corr + bl * sc.corr_ld + j0 + jj : nullptr;
          for (Index ii = 0; ii < rows; ii += K::MR) {
            const Index mr = std::min<Index>(K::MR, rows - ii);
            K::micro(static_cast<int>(mr), nr, gs, a_at(ii, g0), bp + g0 * K::NR * K::KG, sums, K::NR, false);
            fold(acc + ii * ldt + jj, ldt, sums, K::NR, mr, nr, sc.sx + bl * sc.m + i0 + ii, sc.sw + bl * sc.n + j0 + jj,
                 corr, bl == 0);
          }
        }
      }
    }
  }
}

/// An epilogue behind a function pointer, so that the driver is compiled once per kernel (and fold), not once
/// per caller's lambda: compile time is a cost every user pays in every source file that includes octet. The
/// driver calls it once per strip of a finished tile (up to epilogue_strip_rows x NC values), so the indirect
/// call costs nothing measurable. `float_tile` is null for epilogues that take only int32 tiles.
struct TileSink {
  using Int32Fn = void (*)(const void*, Index, Index, Index, Index, const std::int32_t*, Index);
  using FloatFn = void (*)(const void*, Index, Index, Index, Index, const float*, Index);
  const void* object;
  Int32Fn int32_tile;
  FloatFn float_tile;

  template <class E>
  static TileSink of(const E& e) {
    FloatFn f = nullptr;
    if constexpr (std::is_invocable<const E&, Index, Index, Index, Index, const float*, Index>::value)
      f = [](const void* o, Index i0, Index j0, Index rows, Index cols, const float* t, Index ldt) {
        (*static_cast<const E*>(o))(i0, j0, rows, cols, t, ldt);
      };
    return TileSink{&e,
                    [](const void* o, Index i0, Index j0, Index rows, Index cols, const std::int32_t* t, Index ldt) {
                      (*static_cast<const E*>(o))(i0, j0, rows, cols, t, ldt);
                    },
                    f};
  }
  void operator()(Index i0, Index j0, Index rows, Index cols, const std::int32_t* t, Index ldt) const {
    int32_tile(object, i0, j0, rows, cols, t, ldt);
  }
  void operator()(Index i0, Index j0, Index rows, Index cols, const float* t, Index ldt) const {
    float_tile(object, i0, j0, rows, cols, t, ldt);
  }
};

/// Runs C = A * B with kernel K. `epilogue(i0, j0, rows, cols, tile, ldt)` receives each block of C
/// (row-major int32, element (r, c) at tile[r*ldt + c]) exactly once, possibly from several threads at once;
/// the blocks partition C.
///
/// With block-wise scales (`scales` not null, kernels/contract.hpp's BlockScales), each micro-kernel call covers
/// one block of depth for one MR x NR block of C, into an int32 buffer of MR x NR on the stack (it stays in L1),
/// and `fold` (a path's Float::fold_block) folds it into the tile's float accumulators at once: no pass over
/// memory beyond the tile. Blocks are folded in ascending order whatever the tiling and the threads, so results
/// are bit-identical across both. The epilogue then receives float tiles (the accumulators).
template <class K, class Fold = NoFold>
void gemm_driver_sink(const Int8View& a, const PackedBData& b, const TileSink& epilogue, int threads,
                      const BlockScales* scales, Fold fold) {
  using AE = typename K::AElem;
  using BE = typename K::BElem;
  static_assert(K::MC % K::MR == 0 && K::NC % K::NR == 0 && K::KC % K::KG == 0, "blocking must fit the kernel");
  static_assert(!K::shift_a || K::NR % 8 == 0, "the correction is applied in blocks of 8 columns");
  const Index m = a.rows, n = b.n, kgroups = b.kgroups;
  if (m == 0 || n == 0) return;
  threads = std::max(threads, 1);

  // 1. Pack A once: MR-row panels over the whole depth.
  const Index a_panels = ceil_div(m, K::MR);
  const Index a_panel_elems = kgroups * K::MR * K::KG;
  AlignedBuffer& a_buffer = thread_scratch().pack_a;
  a_buffer.resize(static_cast<std::size_t>(std::max<Index>(a_panels * a_panel_elems, 1)) * sizeof(AE));
  AE* a_packed = a_buffer.as<AE>();
  // Column-major A is split over k (each task reads whole columns front to back), row-major A over rows.
  const bool by_columns = a_by_columns(a);
  // Column-major: a task takes 128 columns (whatever m) and walks its panels one after the other, so that the
  // writes of each panel are sequential and the 128 cache lines being read (one per column) stay in L1.
  // Row-major: about 64 rows a task.
  const Index chunk = by_columns ? std::max<Index>(1, 128 / K::KG) : std::max<Index>(1, 64 / K::MR);
  const Index span = by_columns ? kgroups : a_panels;
  const int pack_threads = (m * a.cols >= (Index(1) << 18)) ? threads : 1;
  // No depth (k = 0): nothing to pack; the micro-kernels read no group of A and store zeros.
  if (kgroups > 0)
    parallel_for(static_cast<long>(ceil_div(span, chunk)), pack_threads, [&](long task) {
      const Index lo = task * chunk, hi = std::min(span, lo + chunk);
      if (by_columns)
        pack_a_part<K>(a, a_panel_elems, 0, a_panels, lo, hi, a_packed);
      else
        pack_a_part<K>(a, a_panel_elems, lo, hi, 0, kgroups, a_packed);
    });

  // 2. Tiles of mc x nc, each computed whole by one thread.
  const Index mc = std::min<Index>(K::MC, a_panels * K::MR);
  const Index m_tiles = ceil_div(m, mc);
  Index nc = std::min<Index>(K::NC, round_up(n, K::NR));
  if (threads > 1)  // enough tiles to keep every thread busy to the end
    while (nc > K::NR && m_tiles * ceil_div(n, nc) < 4 * threads) nc = round_up(nc / 2, K::NR);
  const Index n_tiles = ceil_div(n, nc);
  const bool few_rows = mc <= few_row_panels * K::MR;
  const Index kc_groups = few_rows ? std::max<Index>(kgroups, 1) : K::KC / K::KG;
  // A block is whole k-groups, or (a kernel with micro_blocked: AMX's blocks of 32) a whole fraction of one.
  const bool block_fits = scales && scales->block > 0 && K::KC % scales->block == 0 &&
                          (scales->block % K::KG == 0 || (has_micro_blocked<K>::value && K::KG % scales->block == 0));
  if (scales && (std::is_same<Fold, NoFold>::value || !block_fits || !epilogue.float_tile))
    throw std::logic_error("octet: block size " + std::to_string(scales->block) + " does not fit the '" + K::name +
                           "' kernel");
  const BE* b_packed = b.data.as<BE>();
  const std::int32_t* correction = b.correction.empty() ? nullptr : b.correction.data();

  parallel_for(static_cast<long>(m_tiles * n_tiles), threads, [&](long task) {
    const Index ti = task % m_tiles, tj = task / m_tiles;  // neighbouring tasks share a B block
    const Index i0 = ti * mc, rows = std::min<Index>(mc, m - i0);
    const Index j0 = tj * nc, cols = std::min<Index>(nc, n - j0);
    // Padded by one cache line so that rows of the tile do not share L1 sets when nc is a power of two.
    const Index ldt = round_up(cols, K::NR) + 16;
    AlignedBuffer& c_buffer = thread_scratch().tile;
    // Sized for a whole tile whatever this one's size, so that a thread's first task grows it for good.
    c_buffer.resize(static_cast<std::size_t>(round_up(mc, K::MR) * (round_up(nc, K::NR) + 16)) * sizeof(std::int32_t));
    std::int32_t* OCTET_RESTRICT tile = c_buffer.as<std::int32_t>();

    if constexpr (!std::is_same<Fold, NoFold>::value) {
      if (scales) {  // block-wise scales: float accumulators in the tile
        float* OCTET_RESTRICT acc = c_buffer.as<float>();
        blocked_tile<K>(a_packed, a_panel_elems, b, *scales, fold, i0, rows, j0, cols, few_rows, acc, ldt);
        for (Index s0 = 0; s0 < rows; s0 += epilogue_strip_rows)
          epilogue(i0 + s0, j0, std::min<Index>(epilogue_strip_rows, rows - s0), cols,
                   static_cast<const float*>(acc + s0 * ldt), ldt);
        return;
      }
    }

    for (Index g0 = 0; g0 < std::max<Index>(kgroups, 1); g0 += kc_groups) {
      const Index gs = std::min(kc_groups, kgroups - g0);
      const bool accumulate = g0 > 0;
      for (Index jj = 0; jj < cols; jj += K::NR) {
        const int nr = static_cast<int>(std::min<Index>(K::NR, cols - jj));
        const BE* bp = b_packed + ((j0 + jj) / K::NR) * b.panel_elems + g0 * K::NR * K::KG;
        for (Index ii = 0; ii < rows; ii += K::MR) {
          const int mr = static_cast<int>(std::min<Index>(K::MR, rows - ii));
          const AE* ap = a_packed + ((i0 + ii) / K::MR) * a_panel_elems + g0 * K::MR * K::KG;
          K::micro(mr, nr, gs, ap, bp, tile + ii * ldt + jj, ldt, accumulate);
        }
      }
    }
    for (Index s0 = 0; s0 < rows; s0 += epilogue_strip_rows) {
      const Index srows = std::min<Index>(epilogue_strip_rows, rows - s0);
      std::int32_t* strip = tile + s0 * ldt;
      if (correction) {
        const std::int32_t* OCTET_RESTRICT corr = correction + j0;
        const Index width = round_up(cols, K::NR);  // the correction is padded to whole panels
        for (Index r = 0; r < srows; ++r)
          for (Index c = 0; c < width; c += 8)  // width is a multiple of NR: blocks of 8 vectorize
            for (Index t = 0; t < 8; ++t)  // wraps like vpdpbusd did: (a+128)*b sums can pass 2^31 for k > 65793
              strip[r * ldt + c + t] = static_cast<std::int32_t>(static_cast<std::uint32_t>(strip[r * ldt + c + t]) -
                                                                 static_cast<std::uint32_t>(corr[c + t]));
      }
      epilogue(i0 + s0, j0, srows, cols, static_cast<const std::int32_t*>(strip), ldt);
    }
  });
}

/// gemm_driver_sink with any epilogue object (see TileSink): the driver's code is shared by every caller.
template <class K, class Epilogue, class Fold = NoFold>
void gemm_driver(const Int8View& a, const PackedBData& b, const Epilogue& epilogue, int threads,
                 const BlockScales* scales = nullptr, Fold fold = Fold()) {
  gemm_driver_sink<K, Fold>(a, b, TileSink::of(epilogue), threads, scales, fold);
}

}  // namespace detail
}  // namespace octet
