// octet — the packed layouts of the int8 GEMM, and the one place that knows them.
//
// What is packing? The micro-kernel (kernels/contract.hpp) reads A and B in exactly the order it multiplies
// them, one aligned vector after the other. B (the weights) is packed once into NR-column panels of
// [kgroup][NR][KG] elements: for each group of KG consecutive k, the KG values of each of the NR columns side by
// side (64 bytes = one zmm of 16 columns x 4 k on AVX-512 VNNI). A is packed per call into MR-row panels of
// [kgroup][MR][KG]. Both are zero padded to whole panels and k-groups, so the kernel never tests an edge: the
// padding of A holds pack_a(0), whose products meet B's zero padding (in k) or land in rows never stored.
// Packing also converts values (kernel's pack_a / pack_b: the +128 shift, widening to int16) and, for kernels
// that shift A, computes 128 * (column sums of B), which the driver subtracts.
// B is packed once per weight matrix but it is large (a model loads hundreds of them): whole panels go through the
// kernel's own vectorised packer when it has one (K::pack_b_panel: byte and word unpack transposes on x86), the
// edges and every other kernel through the element loops here, which define the layout; threads share the panels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/isa.hpp"
#include "../core/threads.hpp"
#include "../core/views.hpp"

namespace octet {
namespace detail {

/// B (k x n int8) packed for one kernel: NR-column panels of [kgroup][NR][KG] elements, zero padded.
struct PackedBData {
  Isa isa = Isa::scalar;
  Index k = 0, n = 0;
  Index kgroups = 0;           // ceil(k / KG)
  Index panel_elems = 0;       // kgroups * NR * KG: elements per NR-column panel
  AlignedBuffer data;
  // 128 * sum_p B(p, j) when the kernel shifts A, else empty; zero padded to whole NR panels
  std::vector<std::int32_t> correction;
  // Block-wise scales (LLMInt8Options::block_size) with a kernel that shifts A: 128 * (column sums of B over each
  // block of k), blocks x round_up(n, NR) row-major (set_block_correction); else empty
  std::vector<std::int32_t> block_correction;
};

/// B's inner grouping of k in kernel K: the optional K::KB of kernels/contract.hpp (AMX: groups of 4 within
/// KG = 64), else KG (the whole k-group of a column side by side).
template <class K, class = void>
struct b_subgroup {
  static constexpr Index value = K::KG;
};
template <class K>
struct b_subgroup<K, std::void_t<decltype(K::KB)>> {
  static constexpr Index value = K::KB;
};

/// Where B(p, j) sits inside its NR-column panel (in elements), j < NR: the panel is [kgroup][KG/KB][NR][KB].
template <class K>
constexpr Index panel_offset(Index p, Index j) {
  constexpr Index KB = b_subgroup<K>::value;
  return (p / K::KG) * K::NR * K::KG + (p % K::KG) / KB * K::NR * KB + j * KB + p % KB;
}

/// Where element (p, j) of B sits in the packed data of kernel K (in elements).
template <class K>
Index packed_b_offset(const PackedBData& d, Index p, Index j) {
  return (j / K::NR) * d.panel_elems + panel_offset<K>(p, j % K::NR);
}

/// Whether kernel K packs whole B panels itself: the optional K::pack_b_panel of kernels/contract.hpp.
template <class K, class = void>
struct has_pack_b_panel : std::false_type {};
template <class K>
struct has_pack_b_panel<K, std::void_t<decltype(&K::pack_b_panel)>> : std::true_type {};

/// Sizes and shapes out for a k x n B packed for kernel K (the data uninitialised, the corrections 0).
template <class K>
void pack_b_init(Index k, Index n, PackedBData& out) {
  out.k = k;
  out.n = n;
  out.kgroups = ceil_div(k, K::KG);
  out.panel_elems = out.kgroups * K::NR * K::KG;
  const Index panels = ceil_div(n, K::NR);
  out.data = AlignedBuffer(static_cast<std::size_t>(std::max<Index>(panels * out.panel_elems, 1)) * sizeof(typename K::BElem));
  out.correction.clear();
  if (K::shift_a) out.correction.assign(static_cast<std::size_t>(panels * K::NR), 0);
}

/// Packs panels [jp_begin, jp_end) of out (set up by pack_b_init, k > 0), padding included, and their column
/// corrections, from b: just those panels' columns of B (so that a caller can pack B a slice at a time). With
/// Fast, the whole k-groups of whole panels of a row- or column-major b go through the kernel's K::pack_b_panel;
/// everything else (and every panel without Fast) through the element loops here.
template <class K, bool Fast>
void pack_b_part(const Int8View& b, PackedBData& out, Index jp_begin, Index jp_end) {
  using BE = typename K::BElem;
  constexpr Index NR = K::NR, KG = K::KG;
  const Index k = b.rows, n = out.n, whole = k / KG;
  const auto src = [&](Index q) { return b.data + (q - jp_begin) * NR * b.cs; };  // panel q's first column
  BE* const dst = out.data.as<BE>();
  for (Index jp = jp_begin; jp < jp_end; ++jp) {
    // Only the padding needs zeros: a partial last panel, and the last k-group when k is not a multiple of KG.
    BE* panel = dst + jp * out.panel_elems;
    if (n - jp * NR < NR) std::memset(panel, 0, static_cast<std::size_t>(out.panel_elems) * sizeof(BE));
    else if (k % KG) std::memset(panel + (out.kgroups - 1) * NR * KG, 0, NR * KG * sizeof(BE));
  }
  Index jp = jp_begin;
  const Index full_end = std::min(jp_end, n / NR);  // panels [jp_begin, full_end) have NR columns
  if constexpr (Fast) {
    if (jp < full_end && whole > 0 && (b.rs == 1 || b.cs == 1)) {
      if (b.cs == 1) {
        // Row-major B: a block of rows at a time across all the panels, so that the rows' pages and cache lines
        // are read once while they are hot.
        constexpr Index block = std::max<Index>(1, 64 / KG);
        for (Index g0 = 0; g0 < whole; g0 += block)
          for (Index q = jp; q < full_end; ++q)
            K::pack_b_panel(src(q) + g0 * KG * b.rs, b.rs, 1, std::min(block, whole - g0),
                            dst + q * out.panel_elems + g0 * NR * KG);
      } else {
        for (Index q = jp; q < full_end; ++q) K::pack_b_panel(src(q), 1, b.cs, whole, dst + q * out.panel_elems);
      }
      for (Index q = jp; q < full_end; ++q)  // the rows of a last partial k-group
        for (Index p = whole * KG; p < k; ++p)
          for (Index j = 0; j < NR; ++j) dst[q * out.panel_elems + panel_offset<K>(p, j)] = K::pack_b(src(q)[p * b.rs + j * b.cs]);
      jp = full_end;
    }
  }
  for (; jp < jp_end; ++jp) {
    BE* panel = dst + jp * out.panel_elems;
    const Index j0 = (jp - jp_begin) * NR, nr = std::min<Index>(NR, n - jp * NR);  // j0: in b
    if (b.cols_contiguous() && nr == NR) {
      // Column-major B, a whole panel: k-group by k-group, the KG bytes of each column (nr streams read front to
      // back, the panel written front to back).
      for (Index g = 0; g < whole; ++g) {
        BE* d = panel + g * NR * KG;
        const std::int8_t* group = b.data + j0 * b.cs + g * KG;
        for (Index j = 0; j < NR; ++j)
          for (Index t = 0; t < KG; ++t) d[panel_offset<K>(t, j)] = K::pack_b(group[j * b.cs + t]);
      }
      for (Index p = whole * KG; p < k; ++p)
        for (Index j = 0; j < nr; ++j) panel[panel_offset<K>(p, j)] = K::pack_b(b(p, j0 + j));
    } else if (b.cols_contiguous()) {  // column-major B, the last partial panel: each column front to back
      for (Index j = 0; j < nr; ++j) {
        const std::int8_t* col = b.data + (j0 + j) * b.cs;
        for (Index p = 0; p < k; ++p) panel[panel_offset<K>(p, j)] = K::pack_b(col[p]);
      }
    } else {  // row-major B: read each row's nr values
      for (Index p = 0; p < k; ++p) {
        BE* row = panel + panel_offset<K>(p, 0);
        constexpr Index step = b_subgroup<K>::value;  // from one column to the next
        for (Index j = 0; j < nr; ++j) row[j * step] = K::pack_b(b(p, j0 + j));
      }
    }
  }
  if (K::shift_a) {
    // 128 * the column sums, read back from the packed panels (contiguous whatever B's layout; padding is 0).
    for (Index q = jp_begin; q < jp_end; ++q) {
      const BE* panel = dst + q * out.panel_elems;
      std::int32_t sum[static_cast<std::size_t>(NR)] = {};
      for (Index g = 0; g < out.kgroups; ++g)
        for (Index j = 0; j < NR; ++j)
          for (Index t = 0; t < KG; ++t) sum[j] += K::unpack_b(panel[panel_offset<K>(g * KG + t, j)]);
      for (Index j = 0; j < NR; ++j) out.correction[static_cast<std::size_t>(q * NR + j)] = 128 * sum[j];
    }
  }
}

/// Packs b (k x n) for kernel K, panels shared among the threads (the kernel's fast path unless Fast is false:
/// the tests compare the two).
template <class K, bool Fast = has_pack_b_panel<K>::value>
void pack_b(const Int8View& b, PackedBData& out) {
  const Index k = b.rows, n = b.cols;
  pack_b_init<K>(k, n, out);
  if (k == 0) return;  // nothing to pack (and b.data may be null)
  // Column-major B: about 256 columns a task. Row-major B: 1024 columns, read in runs of 1 KiB per row (shorter
  // runs, one per page, leave the hardware prefetchers idle). Threads pay off from about a million weights.
  const Index panels = ceil_div(n, K::NR);
  const Index per_task = std::max<Index>(1, (b.cols_contiguous() ? 256 : 1024) / K::NR);
  const int threads = k * n >= (Index(1) << 20) ? num_threads() : 1;
  parallel_for(static_cast<long>(ceil_div(panels, per_task)), threads, [&](long t) {
    const Index jp0 = t * per_task, jp1 = std::min(panels, jp0 + per_task);
    const Int8View part{b.data + jp0 * K::NR * b.cs, k, std::min(n, jp1 * K::NR) - jp0 * K::NR, b.rs, b.cs};
    pack_b_part<K, Fast>(part, out, jp0, jp1);
  });
}

/// Reads all of B back out of the packed data of kernel K into out (k x n, column-major, leading dimension k),
/// walking the packed data front to back.
template <class K>
void unpack_b(const PackedBData& d, std::int8_t* out) {
  const auto* data = d.data.as<typename K::BElem>();
  for (Index j0 = 0; j0 < d.n; j0 += K::NR) {
    const auto* panel = data + (j0 / K::NR) * d.panel_elems;
    const Index nr = std::min<Index>(K::NR, d.n - j0);
    for (Index g = 0; g < d.kgroups; ++g)
      for (Index j = 0; j < nr; ++j)
        for (Index t = 0; t < K::KG && g * K::KG + t < d.k; ++t)
          out[(j0 + j) * d.k + g * K::KG + t] = K::unpack_b(panel[panel_offset<K>(g * K::KG + t, j)]);
  }
}

/// Reads rows `rows[0..r)` of B back out of the packed data of kernel K: out is r x n, row-major, rows `ld`
/// apart (ld >= n).
template <class K, class Out>
void unpack_b_rows(const PackedBData& d, const Index* rows, Index r, Out* out, Index ld) {
  // Panel by panel: a row's NR values in a panel share a cache line or two, and the r rows of one panel are read
  // one after the other, so that the loads of different lines overlap (row by row, each line was a lone miss: a
  // panel is far from the next).
  const auto* data = d.data.as<typename K::BElem>();
  for (Index j0 = 0; j0 < d.n; j0 += K::NR) {
    const auto* panel = data + (j0 / K::NR) * d.panel_elems;
    const Index nr = std::min<Index>(K::NR, d.n - j0);
    for (Index q = 0; q < r; ++q) {
      const Index p = rows[q];
      const auto* src = panel + panel_offset<K>(p, 0);
      constexpr Index step = b_subgroup<K>::value;  // from one column to the next
      Out* dst = out + q * ld + j0;
      for (Index j = 0; j < nr; ++j) dst[j] = static_cast<Out>(K::unpack_b(src[j * step]));
    }
  }
}

/// Fills d.block_correction for block-wise scales over blocks of `block` k (a multiple of K::KG) when kernel K
/// shifts A; clears it otherwise. Read from the packed data, whose padding is zero.
template <class K>
void set_block_correction(PackedBData& d, Index block) {
  d.block_correction.clear();
  if (!K::shift_a || block <= 0 || d.k == 0) return;
  const Index ld = round_up(d.n, K::NR), groups_per_block = block / K::KG;
  d.block_correction.assign(static_cast<std::size_t>(ceil_div(d.k, block) * ld), 0);
  const auto* data = d.data.as<typename K::BElem>();
  for (Index j0 = 0; j0 < d.n; j0 += K::NR) {
    const auto* panel = data + (j0 / K::NR) * d.panel_elems;
    for (Index g = 0; g < d.kgroups; ++g) {
      std::int32_t* corr = d.block_correction.data() + (g / groups_per_block) * ld + j0;
      for (Index j = 0; j < K::NR; ++j)
        for (Index t = 0; t < K::KG; ++t) corr[j] += 128 * K::unpack_b(panel[panel_offset<K>(g * K::KG + t, j)]);
    }
  }
}

/// Whether A is best read a column at a time (rows adjacent, as in column-major A).
inline bool a_by_columns(const Int8View& a) {
  return a.rs == 1 || (a.cs != 1 && std::abs(a.rs) <= std::abs(a.cs));
}

/// Packs A into MR-row panels of [kgroup][MR][KG] (panel_elems elements apart), zero padded. Only k-groups
/// [g_begin, g_end) of panels [p_begin, p_end) are written, so that threads can share the work; their padding
/// is written too.
template <class K>
void pack_a_part(const Int8View& a, Index panel_elems, Index p_begin, Index p_end, Index g_begin, Index g_end,
                 typename K::AElem* OCTET_RESTRICT out) {
  using AE = typename K::AElem;
  constexpr Index MR = K::MR, KG = K::KG;
  const Index m = a.rows, k = a.cols;
  const Index i_begin = p_begin * MR, i_end = std::min(m, p_end * MR);
  const Index k_begin = g_begin * KG, k_end = std::min(k, g_end * KG);
  const AE zero = K::pack_a(0);
  if (i_end < p_end * MR)  // the last panel has padding rows: clear it over this part's depth
    for (Index e = g_begin * MR * KG; e < g_end * MR * KG; ++e) out[(p_end - 1) * panel_elems + e] = zero;
  if (k_end < g_end * KG)  // the last k-group has padding: clear it in every panel of this part
    for (Index q = p_begin; q < p_end; ++q)
      for (Index e = (g_end - 1) * MR * KG; e < g_end * MR * KG; ++e) out[q * panel_elems + e] = zero;
  if (k_begin >= k_end) return;  // no depth (k = 0): only padding, and A's data may be null
  if (a_by_columns(a)) {
    // A few columns at a time (the caller keeps [k_begin, k_end) small enough for the columns to stay in
    // L1), one panel after the other: each panel is written front to back.
    for (Index q = p_begin; q < p_end; ++q) {
      const Index i = q * MR, mr = std::min(MR, i_end - i);
      AE* dst = out + q * panel_elems + (k_begin / KG) * MR * KG;
      const std::int8_t* src = a.data + i * a.rs;
      if constexpr (K::has_pack_a_rows8) {
        if (a.rs == 1 && i + 8 <= m) {  // the kernel's fast path; its 8-byte reads stay inside A
          K::pack_a_rows8(src, a.cs, k_begin, k_end, dst);
          continue;
        }
      }
      auto put = [&](Index p, Index r) { dst[(p - k_begin) / KG * MR * KG + r * KG + p % KG] = K::pack_a(src[p * a.cs + r * a.rs]); };
      if (mr == MR) {  // a constant trip count the compiler unrolls
        for (Index p = k_begin; p < k_end; ++p)
          for (Index r = 0; r < MR; ++r) put(p, r);
      } else {
        for (Index p = k_begin; p < k_end; ++p)
          for (Index r = 0; r < mr; ++r) put(p, r);
      }
    }
  } else {
    // Depth adjacent in memory (row-major A): one row at a time.
    for (Index i = i_begin; i < i_end; ++i) {
      const std::int8_t* src = a.data + i * a.rs;
      AE* dst = out + (i / MR) * panel_elems + (k_begin / KG) * MR * KG + (i % MR) * KG;
      Index p = k_begin;
      for (; p + KG <= k_end; p += KG, dst += MR * KG)
        for (Index t = 0; t < KG; ++t) dst[t] = K::pack_a(src[(p + t) * a.cs]);
      for (Index t = 0; p + t < k_end; ++t) dst[t] = K::pack_a(src[(p + t) * a.cs]);
    }
  }
}

}  // namespace detail
}  // namespace octet
