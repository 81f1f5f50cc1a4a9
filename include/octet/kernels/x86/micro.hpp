// octet — the x86 micro-kernel, written once over a small Ops struct and compiled per ISA.
//
// x86/avx2.hpp, x86/avxvnni.hpp and x86/avx512vnni.hpp each open a target region and a namespace, define
// `struct Ops` and include this file there (no include guard on purpose: core/config.hpp explains the
// technique; they include <cstddef> and <cstdint> first). The body is Eigen's GEBP idea: the kernel is the
// loop; what differs between ISAs is a handful of operations —
//   Ops::V, lanes            the accumulator vector (int32 lanes) and its width
//   MR, NV, KG               rows of the register block, vectors per row (NR = NV * lanes), k per group
//   AElem, BElem             packed element types
//   zero, add                on accumulators
//   load_b(p)                one vector of packed B (aligned)
//   broadcast_a(p)           one k-group of one row of packed A in every lane
//   madd(acc, a, b)          acc + the products of a k-group (vpmaddwd + vpaddd, or vpdpbusd)
//   prefetch_b(p)            a hint for B far ahead (or nothing)
//   mask(live), load_c, store_c   (masked) access to C
//
// The three x86 kernel files are deliberately of one shape (Ops, the include, the kernel struct): a reader who
// knows one knows all three.
//
// The register block is R x (NV vectors) of accumulators, R = the live rows (1..MR), so that a short panel (the
// GEMV of one token) costs R/MR of a full one. R <= 2 splits k over two sets of accumulators to hide the
// latency of the multiply-add chain. Columns: B panels are zero padded to NR, so the block always computes NR
// columns and only the stores are masked to the nr live ones.
#include <cstddef>
#include <cstdint>

#include "../../core/config.hpp"

/// acc[r][v] += A row r (k-group at a) x B vector v (k-group at b) for the R live rows.
template <class Ops, int R>
OCTET_ALWAYS_INLINE void micro_group(typename Ops::V (&acc)[R][Ops::NV], const typename Ops::AElem* a,
                                     const typename Ops::BElem* b) {
  typename Ops::V bv[Ops::NV];
#pragma GCC unroll 8
  for (int v = 0; v < Ops::NV; ++v) bv[v] = Ops::load_b(b + v * (Ops::lanes * Ops::KG));
#pragma GCC unroll 8
  for (int v = 0; v < Ops::NV; ++v) Ops::prefetch_b(b + v * (Ops::lanes * Ops::KG));
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const typename Ops::V av = Ops::broadcast_a(a + r * Ops::KG);
#pragma GCC unroll 8
    for (int v = 0; v < Ops::NV; ++v) acc[r][v] = Ops::madd(acc[r][v], av, bv[v]);
  }
}

/// C[0:R, 0:nr] (+)= acc: columns from nr on are neither read nor written.
template <class Ops, int R>
OCTET_ALWAYS_INLINE void micro_store(typename Ops::V (&acc)[R][Ops::NV], int nr, std::int32_t* c, std::ptrdiff_t ldc,
                                     bool accumulate) {
  constexpr int L = Ops::lanes;
  if (nr >= Ops::NV * L) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) {
        std::int32_t* p = c + r * ldc + L * v;
        Ops::store_c(p, accumulate ? Ops::add(acc[r][v], Ops::load_c(p)) : acc[r][v]);
      }
    return;
  }
  typename Ops::Mask mask[Ops::NV];
#pragma GCC unroll 8
  for (int v = 0; v < Ops::NV; ++v) mask[v] = Ops::mask(nr - L * v);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < Ops::NV; ++v) {
      if (nr <= L * v) continue;
      std::int32_t* p = c + r * ldc + L * v;
      Ops::store_c(p, mask[v], accumulate ? Ops::add(acc[r][v], Ops::load_c(p, mask[v])) : acc[r][v]);
    }
}

/// C[0:R, 0:nr] (+)= A panel (MR rows, the first R live) x B panel, over `kgroups` groups of KG.
template <class Ops, int R>
void micro_rows(std::ptrdiff_t kgroups, const typename Ops::AElem* OCTET_RESTRICT a,
                const typename Ops::BElem* OCTET_RESTRICT b, std::int32_t* c, std::ptrdiff_t ldc, int nr,
                bool accumulate) {
  constexpr int U = R <= 2 ? 2 : 1;  // few rows: two sets of accumulators over k hide the latency
  constexpr std::ptrdiff_t a_group = Ops::MR * Ops::KG, b_group = Ops::NV * Ops::lanes * Ops::KG;
  typename Ops::V acc[U][R][Ops::NV];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) acc[u][r][v] = Ops::zero();
  std::ptrdiff_t g = 0;
  for (; g + U <= kgroups; g += U)
#pragma GCC unroll 2
    for (int u = 0; u < U; ++u) micro_group<Ops, R>(acc[u], a + (g + u) * a_group, b + (g + u) * b_group);
  for (; g < kgroups; ++g) micro_group<Ops, R>(acc[0], a + g * a_group, b + g * b_group);  // U = 2, odd kgroups
  if constexpr (U == 2) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) acc[0][r][v] = Ops::add(acc[0][r][v], acc[1][r][v]);
  }
  micro_store<Ops, R>(acc[0], nr, c, ldc, accumulate);
}

/// The register-block part of the kernel contract (MR, NR, KG, micro) for Ops; a kernel struct derives from it.
template <class Ops>
struct MicroKernel {
  static constexpr int MR = Ops::MR, NR = Ops::NV * Ops::lanes, KG = Ops::KG;
  static_assert(MR >= 4 && MR <= 6, "one case per row count up to MR");

  /// Dispatches the live row count to micro_rows<Ops, R>.
  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const typename Ops::AElem* a, const typename Ops::BElem* b,
                    std::int32_t* c, std::ptrdiff_t ldc, bool accumulate) {
    switch (mr) {
      case 1: return micro_rows<Ops, 1>(kgroups, a, b, c, ldc, nr, accumulate);
      case 2: return micro_rows<Ops, 2>(kgroups, a, b, c, ldc, nr, accumulate);
      case 3: return micro_rows<Ops, 3>(kgroups, a, b, c, ldc, nr, accumulate);
      case 4: return micro_rows<Ops, 4>(kgroups, a, b, c, ldc, nr, accumulate);
      case 5: return micro_rows<Ops, (MR >= 5 ? 5 : MR)>(kgroups, a, b, c, ldc, nr, accumulate);
      default: return micro_rows<Ops, MR>(kgroups, a, b, c, ldc, nr, accumulate);
    }
  }
};
