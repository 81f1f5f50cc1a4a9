// octet — the generic int8 GEMM driver: packing, cache blocking and threads around any kernel.
//
// C(m x n, int32) = A(m x k, int8) * B(k x n, int8), where B was packed once (PackedBData) and A is packed
// per call. The driver is written once; an ISA contributes only a small traits struct with a register-
// blocked micro-kernel (see kernels/scalar.hpp for the contract).
//
// Blocking. C is cut into tiles of MC rows x NC columns. A tile is computed by one thread, completely: for
// each depth block of KC, for each NR-wide panel of B, for each MR-high panel of A, one micro-kernel call
// updates an MR x NR block of a row-major int32 tile buffer that stays in cache. When the whole depth is
// done, the driver applies the +128 correction (if the kernel shifts A) and hands the finished tile to an
// epilogue, which writes it wherever the caller wants it (int32 to an Eigen matrix, or dequantized floats).
// Since every tile sums over k in the same order whoever computes it, results are bit-identical for any
// number of threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "buffer.hpp"
#include "isa.hpp"
#include "threads.hpp"

namespace octet {
namespace detail {

using Index = std::ptrdiff_t;

inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

/// B (k x n int8) packed for one kernel: NR-column panels of [kgroup][NR][KG] elements, zero padded.
struct PackedBData {
  Isa isa = Isa::scalar;
  Index k = 0, n = 0;
  Index kgroups = 0;           // ceil(k / KG)
  Index panel_elems = 0;       // kgroups * NR * KG: elements per NR-column panel
  AlignedBuffer data;
  std::vector<std::int32_t> correction;  // 128 * sum_p B(p, j) when the kernel shifts A, else empty
};

/// Packs B(p, j) = b[p*rs + j*cs] for kernel K.
template <class K>
void pack_b(const std::int8_t* b, Index rs, Index cs, Index k, Index n, PackedBData& out) {
  using BE = typename K::BElem;
  out.k = k;
  out.n = n;
  out.kgroups = ceil_div(k, K::KG);
  out.panel_elems = out.kgroups * K::NR * K::KG;
  const Index panels = ceil_div(n, K::NR);
  out.data = AlignedBuffer(static_cast<std::size_t>(std::max<Index>(panels * out.panel_elems, 1)) * sizeof(BE));
  out.data.zero();
  BE* dst = out.data.as<BE>();
  for (Index jp = 0; jp < panels; ++jp) {
    BE* panel = dst + jp * out.panel_elems;
    const Index j0 = jp * K::NR, nr = std::min<Index>(K::NR, n - j0);
    for (Index p = 0; p < k; ++p) {
      BE* row = panel + (p / K::KG) * K::NR * K::KG + p % K::KG;
      const std::int8_t* src = b + p * rs + j0 * cs;
      for (Index j = 0; j < nr; ++j) row[j * K::KG] = K::pack_b(src[j * cs]);
    }
  }
  out.correction.clear();
  if (K::shift_a) {
    out.correction.assign(static_cast<std::size_t>(n), 0);
    for (Index j = 0; j < n; ++j) {
      std::int32_t s = 0;
      for (Index p = 0; p < k; ++p) s += b[p * rs + j * cs];
      out.correction[static_cast<std::size_t>(j)] = 128 * s;
    }
  }
}

/// Packs rows [i0, i0+mr) of A(i, p) = a[i*rs + p*cs] into one MR panel of [kgroup][MR][KG], zero padded.
template <class K>
void pack_a_panel(const std::int8_t* a, Index rs, Index cs, Index i0, Index mr, Index k, Index kgroups,
                  typename K::AElem* panel) {
  using AE = typename K::AElem;
  const AE zero = K::pack_a(0);
  for (Index g = 0; g < kgroups; ++g) {
    AE* dst = panel + g * K::MR * K::KG;
    for (Index r = 0; r < K::MR; ++r)
      for (Index t = 0; t < K::KG; ++t) {
        const Index p = g * K::KG + t;
        dst[r * K::KG + t] = (r < mr && p < k) ? K::pack_a(a[(i0 + r) * rs + p * cs]) : zero;
      }
  }
}

/// Runs C = A * B with kernel K. `epilogue(i0, j0, rows, cols, tile, ldt)` receives each finished tile of C
/// (row-major int32, element (r, c) at tile[r*ldt + c]) exactly once, possibly from several threads at once.
template <class K, class Epilogue>
void gemm_driver(Index m, const std::int8_t* a, Index a_rs, Index a_cs, const PackedBData& b, Epilogue&& epilogue,
                 int threads) {
  using AE = typename K::AElem;
  using BE = typename K::BElem;
  static_assert(K::MC % K::MR == 0 && K::NC % K::NR == 0 && K::KC % K::KG == 0, "blocking must fit the kernel");
  const Index n = b.n, k = b.k, kgroups = b.kgroups;
  if (m == 0 || n == 0) return;

  // 1. Pack A once: MR-row panels over the whole depth.
  const Index a_panels = ceil_div(m, K::MR);
  const Index a_panel_elems = kgroups * K::MR * K::KG;
  thread_local AlignedBuffer a_buffer;  // reused between calls on this thread
  a_buffer.resize(static_cast<std::size_t>(std::max<Index>(a_panels * a_panel_elems, 1)) * sizeof(AE));
  AE* a_packed = a_buffer.as<AE>();
  const long pack_tasks = static_cast<long>(a_panels);
  const int pack_threads = (m * k >= (Index(1) << 16)) ? threads : 1;
  parallel_for(pack_tasks, pack_threads, [&](long ip) {
    const Index i0 = ip * K::MR;
    pack_a_panel<K>(a, a_rs, a_cs, i0, std::min<Index>(K::MR, m - i0), k, kgroups, a_packed + ip * a_panel_elems);
  });

  // 2. Tiles of MC x NC, each computed whole by one thread.
  const Index mc = std::min<Index>(K::MC, ceil_div(m, K::MR) * K::MR);
  const Index m_tiles = ceil_div(m, mc), n_tiles = ceil_div(n, Index(K::NC));
  const Index kc_groups = K::KC / K::KG;
  const BE* b_packed = b.data.as<BE>();
  const std::int32_t* correction = b.correction.empty() ? nullptr : b.correction.data();

  parallel_for(static_cast<long>(m_tiles * n_tiles), threads, [&](long task) {
    const Index ti = task % m_tiles, tj = task / m_tiles;  // neighbouring tasks share a B block
    const Index i0 = ti * mc, rows = std::min<Index>(mc, m - i0);
    const Index j0 = tj * K::NC, cols = std::min<Index>(K::NC, n - j0);
    const Index ldt = ceil_div(cols, Index(K::NR)) * K::NR;
    thread_local AlignedBuffer c_buffer;
    c_buffer.resize(static_cast<std::size_t>(ceil_div(rows, Index(K::MR)) * K::MR * ldt) * sizeof(std::int32_t));
    std::int32_t* tile = c_buffer.as<std::int32_t>();

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
    if (correction) {
      for (Index r = 0; r < rows; ++r)
        for (Index c = 0; c < cols; ++c) tile[r * ldt + c] -= correction[j0 + c];
    }
    epilogue(i0, j0, rows, cols, static_cast<const std::int32_t*>(tile), ldt);
  });
}

}  // namespace detail
}  // namespace octet
