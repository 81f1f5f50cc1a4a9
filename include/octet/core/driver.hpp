// octet — the generic int8 GEMM driver: packing, cache blocking and threads around any kernel.
//
// C(m x n, int32) = A(m x k, int8) * B(k x n, int8), where B was packed once (PackedBData) and A is packed
// per call. The driver is written once; an ISA contributes only a small traits struct with a register-
// blocked micro-kernel (see kernels/scalar.hpp for the contract).
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
#include <cstdlib>
#include <vector>

#include "buffer.hpp"
#include "config.hpp"
#include "isa.hpp"
#include "threads.hpp"
#if defined(OCTET_ARCH_X86)
#  include "../kernels/x86_common.hpp"
#endif
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

namespace octet {
namespace detail {

using Index = std::ptrdiff_t;

inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }
inline Index round_up(Index a, Index b) { return ceil_div(a, b) * b; }

/// B (k x n int8) packed for one kernel: NR-column panels of [kgroup][NR][KG] elements, zero padded.
struct PackedBData {
  Isa isa = Isa::scalar;
  Index k = 0, n = 0;
  Index kgroups = 0;           // ceil(k / KG)
  Index panel_elems = 0;       // kgroups * NR * KG: elements per NR-column panel
  AlignedBuffer data;
  // 128 * sum_p B(p, j) when the kernel shifts A, else empty; zero padded to whole NR panels
  std::vector<std::int32_t> correction;
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
    out.correction.assign(static_cast<std::size_t>(panels * K::NR), 0);
    for (Index j = 0; j < n; ++j) {
      std::int32_t s = 0;
      for (Index p = 0; p < k; ++p) s += b[p * rs + j * cs];
      out.correction[static_cast<std::size_t>(j)] = 128 * s;
    }
  }
}

/// Whether A(i, p) = a[i*rs + p*cs] is best read a column at a time (rows adjacent, as in column-major A).
inline bool a_by_columns(Index rs, Index cs) { return rs == 1 || (cs != 1 && std::abs(rs) <= std::abs(cs)); }

/// Packs A (m x k, A(i, p) = a[i*rs + p*cs]) into MR-row panels of [kgroup][MR][KG] (panel_elems elements
/// apart), zero padded: the padding holds pack_a(0), whose products meet B's zero padding (in k) or land in
/// rows that are never stored. Only k-groups [g_begin, g_end) of panels [p_begin, p_end) are written, so that
/// threads can share the work; `pad` also writes the padding of those.
template <class K>
void pack_a_part(const std::int8_t* a, Index rs, Index cs, Index m, Index k, Index panel_elems, Index p_begin,
                 Index p_end, Index g_begin, Index g_end, typename K::AElem* OCTET_RESTRICT out) {
  using AE = typename K::AElem;
  constexpr Index MR = K::MR, KG = K::KG;
  const Index i_begin = p_begin * MR, i_end = std::min(m, p_end * MR);
  const Index k_begin = g_begin * KG, k_end = std::min(k, g_end * KG);
  const AE zero = K::pack_a(0);
  if (i_end < p_end * MR)  // the last panel has padding rows: clear it over this part's depth
    for (Index e = g_begin * MR * KG; e < g_end * MR * KG; ++e) out[(p_end - 1) * panel_elems + e] = zero;
  if (k_end < g_end * KG)  // the last k-group has padding: clear it in every panel of this part
    for (Index q = p_begin; q < p_end; ++q)
      for (Index e = (g_end - 1) * MR * KG; e < g_end * MR * KG; ++e) out[q * panel_elems + e] = zero;
  if (a_by_columns(rs, cs)) {
    // A few columns at a time (the caller keeps [k_begin, k_end) small enough for the columns to stay in
    // L1), one panel after the other: each panel is written front to back.
    for (Index q = p_begin; q < p_end; ++q) {
      const Index i = q * MR, mr = std::min(MR, i_end - i);
      AE* dst = out + q * panel_elems + (k_begin / KG) * MR * KG;
      const std::int8_t* src = a + i * rs;
#if defined(__SSE2__)
      // Byte codes in groups of 4 from contiguous columns (Eigen's column-major A): four 8-byte column reads
      // and three unpacks make the 4-byte groups of 8 rows at once, about 10x fewer operations than the
      // element loop below. One-byte pack_a is the identity or a flip of the sign bit (the +128 shift).
      if constexpr (sizeof(AE) == 1 && KG == 4 && MR <= 8 && (MR == 4 || MR == 6 || MR == 8)) {
        if (rs == 1 && i + 8 <= m) {  // the 8-byte reads stay inside A
          const __m128i flip = _mm_set1_epi8(static_cast<char>(K::pack_a(0)));
          Index p = k_begin;
          for (; p + 4 <= k_end; p += 4) {
            const __m128i c0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + p * cs));
            const __m128i c1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (p + 1) * cs));
            const __m128i c2 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (p + 2) * cs));
            const __m128i c3 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + (p + 3) * cs));
            const __m128i t01 = _mm_unpacklo_epi8(c0, c1), t23 = _mm_unpacklo_epi8(c2, c3);
            const __m128i rows03 = _mm_xor_si128(_mm_unpacklo_epi16(t01, t23), flip);
            const __m128i rows47 = _mm_xor_si128(_mm_unpackhi_epi16(t01, t23), flip);
            AE* d = dst + (p - k_begin) * MR;
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d), rows03);
            if (MR == 6) _mm_storel_epi64(reinterpret_cast<__m128i*>(d + 16), rows47);
            if (MR == 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16), rows47);
          }
          for (; p < k_end; ++p)
            for (Index r = 0; r < MR; ++r) dst[(p - k_begin) / KG * MR * KG + r * KG + p % KG] = K::pack_a(src[p * cs + r]);
          continue;
        }
      }
#endif
      if (mr == MR) {
        for (Index p = k_begin; p < k_end; ++p)
          for (Index r = 0; r < MR; ++r) dst[(p - k_begin) / KG * MR * KG + r * KG + p % KG] = K::pack_a(src[p * cs + r * rs]);
      } else {
        for (Index p = k_begin; p < k_end; ++p)
          for (Index r = 0; r < mr; ++r) dst[(p - k_begin) / KG * MR * KG + r * KG + p % KG] = K::pack_a(src[p * cs + r * rs]);
      }
    }
  } else {
    // Depth adjacent in memory (row-major A): one row at a time.
    for (Index i = i_begin; i < i_end; ++i) {
      const std::int8_t* src = a + i * rs;
      AE* dst = out + (i / MR) * panel_elems + (k_begin / KG) * MR * KG + (i % MR) * KG;
      Index p = k_begin;
      for (; p + KG <= k_end; p += KG, dst += MR * KG)
        for (Index t = 0; t < KG; ++t) dst[t] = K::pack_a(src[(p + t) * cs]);
      for (Index t = 0; p + t < k_end; ++t) dst[t] = K::pack_a(src[(p + t) * cs]);
    }
  }
}

/// out[j*ldo + i] = tile[i*ldt + j] for i < rows, j < cols: writes a row-major int32 tile (as the driver hands
/// it to an epilogue) into a column-major matrix. Eight by eight with AVX2 where the CPU has it: a plain loop
/// costs about 1.5 cycles an element, which is 5 to 20% of a whole int8 GEMM with k = 4096 to 1024.
inline void store_transposed(const std::int32_t* tile, Index ldt, Index rows, Index cols, std::int32_t* out,
                             Index ldo) {
  Index rows8 = 0, cols8 = 0;
#if defined(OCTET_ARCH_X86)
  static const bool avx2 = cpu_supports(Isa::avx2);
  if (avx2) {
    rows8 = rows / 8 * 8;
    cols8 = cols / 8 * 8;
    kernels::x86::transpose_8x8_blocks(tile, ldt, rows8, cols8, out, ldo);
  }
#endif
  for (Index j = 0; j < cols; ++j)
    for (Index i = (j < cols8 ? rows8 : 0); i < rows; ++i) out[j * ldo + i] = tile[i * ldt + j];
}

/// A tile with at most this many MR panels is computed with whole-depth micro-kernel calls (see above).
constexpr Index few_row_panels = 6;
/// Rows per epilogue call (a multiple of every MR in octet).
constexpr Index epilogue_strip_rows = 48;

/// Runs C = A * B with kernel K. `epilogue(i0, j0, rows, cols, tile, ldt)` receives each block of C
/// (row-major int32, element (r, c) at tile[r*ldt + c]) exactly once, possibly from several threads at once;
/// the blocks partition C.
template <class K, class Epilogue>
void gemm_driver(Index m, const std::int8_t* a, Index a_rs, Index a_cs, const PackedBData& b, Epilogue&& epilogue,
                 int threads) {
  using AE = typename K::AElem;
  using BE = typename K::BElem;
  static_assert(K::MC % K::MR == 0 && K::NC % K::NR == 0 && K::KC % K::KG == 0, "blocking must fit the kernel");
  static_assert(!K::shift_a || K::NR % 8 == 0, "the correction is applied in blocks of 8 columns");
  const Index n = b.n, k = b.k, kgroups = b.kgroups;
  if (m == 0 || n == 0) return;
  threads = std::max(threads, 1);

  // 1. Pack A once: MR-row panels over the whole depth.
  const Index a_panels = ceil_div(m, K::MR);
  const Index a_panel_elems = kgroups * K::MR * K::KG;
  thread_local AlignedBuffer a_buffer;  // reused between calls on this thread
  a_buffer.resize(static_cast<std::size_t>(std::max<Index>(a_panels * a_panel_elems, 1)) * sizeof(AE));
  AE* a_packed = a_buffer.as<AE>();
  // Column-major A is split over k (each task reads whole columns front to back), row-major A over rows.
  const bool by_columns = a_by_columns(a_rs, a_cs);
  // Column-major: a task takes 128 columns (whatever m) and walks its panels one after the other, so that the
  // writes of each panel are sequential and the 128 cache lines being read (one per column) stay in L1.
  // Row-major: about 64 rows a task.
  const Index chunk = by_columns ? std::max<Index>(1, 128 / K::KG) : std::max<Index>(1, 64 / K::MR);
  const Index span = by_columns ? std::max<Index>(kgroups, 1) : a_panels;
  const int pack_threads = (m * k >= (Index(1) << 18)) ? threads : 1;
  parallel_for(static_cast<long>(ceil_div(span, chunk)), pack_threads, [&](long task) {
    const Index lo = task * chunk, hi = std::min(span, lo + chunk);
    if (by_columns)
      pack_a_part<K>(a, a_rs, a_cs, m, k, a_panel_elems, 0, a_panels, lo, hi, a_packed);
    else
      pack_a_part<K>(a, a_rs, a_cs, m, k, a_panel_elems, lo, hi, 0, std::max<Index>(kgroups, 1), a_packed);
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
  const BE* b_packed = b.data.as<BE>();
  const std::int32_t* correction = b.correction.empty() ? nullptr : b.correction.data();

  parallel_for(static_cast<long>(m_tiles * n_tiles), threads, [&](long task) {
    const Index ti = task % m_tiles, tj = task / m_tiles;  // neighbouring tasks share a B block
    const Index i0 = ti * mc, rows = std::min<Index>(mc, m - i0);
    const Index j0 = tj * nc, cols = std::min<Index>(nc, n - j0);
    // Padded by one cache line so that rows of the tile do not share L1 sets when nc is a power of two.
    const Index ldt = round_up(cols, K::NR) + 16;
    thread_local AlignedBuffer c_buffer;
    c_buffer.resize(static_cast<std::size_t>(round_up(rows, K::MR) * ldt) * sizeof(std::int32_t));
    std::int32_t* OCTET_RESTRICT tile = c_buffer.as<std::int32_t>();

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

}  // namespace detail
}  // namespace octet
