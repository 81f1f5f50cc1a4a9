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
#include "../float_scalar.hpp"  // the including kernel file includes it first: a no-op inside its namespace

/// An array bound as std::size_t: a dependent int bound is a -Wsign-conversion warning in a strict build.
template <int N>
constexpr std::size_t dim = static_cast<std::size_t>(N);

/// acc[r][v] += A row r (k-group at a) x B vector v (k-group at b) for the R live rows.
template <class Ops, int R>
OCTET_ALWAYS_INLINE void micro_group(typename Ops::V (&acc)[dim<R>][dim<Ops::NV>], const typename Ops::AElem* a,
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
OCTET_ALWAYS_INLINE void micro_store(typename Ops::V (&acc)[dim<R>][dim<Ops::NV>], int nr, std::int32_t* c, std::ptrdiff_t ldc,
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

/// sums[r][v] = A panel (the first R rows) x B panel over `kgroups` groups of KG, in registers.
template <class Ops, int R>
OCTET_ALWAYS_INLINE void micro_sums(typename Ops::V (&sums)[dim<R>][dim<Ops::NV>], std::ptrdiff_t kgroups,
                                    const typename Ops::AElem* OCTET_RESTRICT a,
                                    const typename Ops::BElem* OCTET_RESTRICT b) {
  constexpr int U = R <= 2 ? 2 : 1;  // few rows: two sets of accumulators over k hide the latency
  constexpr std::ptrdiff_t a_group = Ops::MR * Ops::KG, b_group = Ops::NV * Ops::lanes * Ops::KG;
  typename Ops::V acc[dim<U>][dim<R>][dim<Ops::NV>];
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
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < Ops::NV; ++v) sums[r][v] = U == 2 ? Ops::add(acc[0][r][v], acc[U - 1][r][v]) : acc[0][r][v];
}

/// C[0:R, 0:nr] (+)= A panel (MR rows, the first R live) x B panel, over `kgroups` groups of KG.
template <class Ops, int R>
void micro_rows(std::ptrdiff_t kgroups, const typename Ops::AElem* OCTET_RESTRICT a,
                const typename Ops::BElem* OCTET_RESTRICT b, std::int32_t* c, std::ptrdiff_t ldc, int nr,
                bool accumulate) {
  typename Ops::V acc[dim<R>][dim<Ops::NV>];
  micro_sums<Ops, R>(acc, kgroups, a, b);
  micro_store<Ops, R>(acc, nr, c, ldc, accumulate);
}

/// Block-wise scales (kernels/contract.hpp's BlockScales): C[0:R, 0:nr] over `kgroups` k-groups cut into blocks of
/// `bg` k-groups; each block's int32 sums are folded straight from the registers into the float accumulators
/// `acc` (row-major, leading dimension lda), as FloatScalar::fold_block does (same operations, same order):
///   acc = (first block of the depth ? +0 : acc) + (float(sum - corr) * sx(r, block)) * sw(block, j)
/// sx: row r of block q at sx[q * sx_ld + r]; sw: column j of block q at sw[q * sw_ld + j]; corr likewise (or
/// null). Accumulator columns nr..NR-1 are written (the tile is padded to whole panels) but meaningless.
template <class Ops, int R>
void micro_blocked_rows(std::ptrdiff_t kgroups, std::ptrdiff_t bg, const typename Ops::AElem* OCTET_RESTRICT a,
                        const typename Ops::BElem* OCTET_RESTRICT b, float* acc, std::ptrdiff_t lda, int nr,
                        const float* sx, std::ptrdiff_t sx_ld, const float* sw, std::ptrdiff_t sw_ld,
                        const std::int32_t* corr, std::ptrdiff_t corr_ld, bool first) {
  using FS = ::octet::detail::kernels::FloatScalar;
  constexpr int L = Ops::lanes, NR = Ops::NV * Ops::lanes;
  constexpr std::ptrdiff_t a_group = Ops::MR * Ops::KG, b_group = Ops::NV * Ops::lanes * Ops::KG;
  // |sum| <= 2^22 (256 values of at most 128 * 128): below this row step, sum * sx cannot overflow, and
  // FloatScalar::dequant is (sum * sx) * sw.
  constexpr float safe_sx = FS::float_max / 4194304.0f;
  // Few rows (the GEMV of decoding): the float accumulators stay in registers from the first block to the last.
  constexpr bool in_registers = R <= 2;
  typename Ops::Mask mask[Ops::NV];
#pragma GCC unroll 8
  for (int v = 0; v < Ops::NV; ++v) mask[v] = Ops::mask(nr - L * v);
  typename Ops::F f[in_registers ? dim<R> : 1][dim<Ops::NV>];
  auto load_f = [&] {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) f[r][v] = Ops::fload(acc + r * lda + L * v);
  };
  auto store_f = [&] {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) Ops::fstore(acc + r * lda + L * v, f[r][v]);
  };
  if constexpr (in_registers) {
    if (first) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < Ops::NV; ++v) f[r][v] = Ops::fzero();
    } else {
      load_f();
    }
  }
  for (std::ptrdiff_t g0 = 0, q = 0; g0 < kgroups; g0 += bg, ++q) {
    const std::ptrdiff_t gs = kgroups - g0 < bg ? kgroups - g0 : bg;
    typename Ops::V sums[dim<R>][dim<Ops::NV>];
    micro_sums<Ops, R>(sums, gs, a + g0 * a_group, b + g0 * b_group);
    const float* sxq = sx + q * sx_ld;
    const float* swq = sw + q * sw_ld;
    const std::int32_t* cq = corr ? corr + q * corr_ld : nullptr;
    const bool zero_first = first && q == 0;
    if (cq) {
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) {
        const typename Ops::V c = Ops::load_c(cq + L * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) sums[r][v] = Ops::sub(sums[r][v], c);
      }
    }
    bool safe = true;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) safe &= sxq[r] <= safe_sx;
    if (!safe) {  // a row of huge values: the exact order rule of FloatScalar::dequant, in plain C++
      alignas(64) std::int32_t spill[dim<R * NR>];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < Ops::NV; ++v) Ops::store_c(spill + r * NR + L * v, sums[r][v]);
      if constexpr (in_registers) store_f();
      FS::fold_block(acc, lda, spill, NR, R, nr, sxq, swq, nullptr, zero_first && !in_registers);
      if constexpr (in_registers) load_f();
      continue;
    }
    typename Ops::F w[Ops::NV];
#pragma GCC unroll 8
    for (int v = 0; v < Ops::NV; ++v) w[v] = nr >= NR ? Ops::fload(swq + L * v) : Ops::fload(swq + L * v, mask[v]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const typename Ops::F x = Ops::fset1(sxq[r]);
#pragma GCC unroll 8
      for (int v = 0; v < Ops::NV; ++v) {
        const typename Ops::F t = Ops::fmul(Ops::fmul(Ops::to_float(sums[r][v]), x), w[v]);
        if constexpr (in_registers) {
          f[r][v] = Ops::fadd(f[r][v], t);
        } else {
          float* p = acc + r * lda + L * v;
          Ops::fstore(p, Ops::fadd(zero_first ? Ops::fzero() : Ops::fload(p), t));
        }
      }
    }
  }
  if constexpr (in_registers) store_f();
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

  /// Block-wise scales: dispatches the live row count to micro_blocked_rows<Ops, R>.
  /// (`block`: k values per block, a multiple of KG; `blocks`, the blocks over kgroups, follows from them.)
  static void micro_blocked(int mr, int nr, std::ptrdiff_t kgroups, std::ptrdiff_t block, std::ptrdiff_t /*blocks*/,
                            const typename Ops::AElem* a,
                            const typename Ops::BElem* b, float* acc, std::ptrdiff_t lda, const float* sx,
                            std::ptrdiff_t sx_ld, const float* sw, std::ptrdiff_t sw_ld, const std::int32_t* corr,
                            std::ptrdiff_t corr_ld, bool first) {
    const std::ptrdiff_t bg = block / KG;
#define OCTET_MICRO_BLOCKED(R) \
  micro_blocked_rows<Ops, R>(kgroups, bg, a, b, acc, lda, nr, sx, sx_ld, sw, sw_ld, corr, corr_ld, first)
    switch (mr) {
      case 1: return OCTET_MICRO_BLOCKED(1);
      case 2: return OCTET_MICRO_BLOCKED(2);
      case 3: return OCTET_MICRO_BLOCKED(3);
      case 4: return OCTET_MICRO_BLOCKED(4);
      case 5: return OCTET_MICRO_BLOCKED((MR >= 5 ? 5 : MR));
      default: return OCTET_MICRO_BLOCKED(MR);
    }
#undef OCTET_MICRO_BLOCKED
  }
};
