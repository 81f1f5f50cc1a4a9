// octet — the Intel AMX kernel: `tdpbssd` on 16 x 16 int32 tiles, exact s8 x s8 with int32 accumulation.
//
// What a tile instruction computes. `tdpbssd C, A, B` adds to the int32 tile C (M rows x N columns, N <= 16)
// the product of the int8 tile A (M rows x K bytes, K <= 64) and B, where B holds K/4 rows of N groups of 4
// consecutive k (the VNNI grouping): C(m, n) += sum over k of A(m, k) * B(k, n), every product and sum exact in
// int32. Both operands are signed, so nothing is shifted and no column correction is needed (shift_a = false).
// One instruction is 16 x 16 x 64 = 16384 multiply-adds; measured on one Emerald Rapids core about 5,500 GOPS
// with K = 64 and half that with K = 32, 8-9x `vpdpbusd zmm`.
//
// Register plan. The eight tiles are C0..C3 (a 2 x 2 block of 16 x 16 int32: MR = NR = 32), A0, A1 (16 rows of
// one k-group each) and B0, B1 (two 16-column halves of the B panel). Per k-group of 64: 2 A loads, 2 B loads,
// 4 `tdpbssd`. A block with 16 rows or fewer (or 16 columns or fewer) uses half of them.
//
// A block of at most 4 live rows (the GEMV of decoding) would be mostly padding in a 16-row tile: on the hardware
// it goes through vnni_rows, AVX-512 VNNI on the same packed data (measured: m = 1 at 0.92x the AVX-512 VNNI
// path with tiles, 1.0x this way; at 8 rows the tiles win). Every AMX CPU so far has AVX-512 VNNI; it is checked.
//
// The packed layouts (gemm/pack.hpp) differ per side: an A panel is [kgroup][32 rows][64 k], so that the 16 rows
// of an A tile are 64 bytes apart; a B panel is [kgroup][16][32 columns][4 k] (KB = 4 within KG = 64), so that
// the B tile of columns 0-15 (16-31) is 16 rows of 64 bytes, 128 bytes apart. Block-wise scales with blocks of
// 32 read the same layouts through narrow tiles: A tiles of 32 bytes a row (row stride still 64) and B tiles of
// 8 rows, the first or second half of a k-group.
//
// Tile state is per thread, and the OS keeps it only while it is configured: each kernel call loads its
// 64-byte configuration (static storage: a stack copy crashed a static binary in an earlier probe) and releases
// the tiles at the end, so no tile state outlives a call. The instructions are written as inline assembly
// (with "memory" clobbers: the compiler's intrinsics declare none), which needs no target attribute; the
// path is reached only when core/isa.hpp found AMX-TILE, AMX-INT8, the OS's XTILEDATA state and the Linux
// permission.
//
// The emulator. Compiled with OCTET_EMULATE_AMX, the same kernel runs over TileEmu, a portable model of the
// eight tile registers and of the instructions it uses (ldtilecfg, tileloadd, tilestored, tilezero, tdpbssd,
// tilerelease), so that every machine's tests exercise the kernel, its packing and its edges (slowly).
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "../../core/isa.hpp"
#include "../contract.hpp"
#include "../float_scalar.hpp"
#include "float_avx2.hpp"

namespace octet {
namespace detail {
namespace kernels {
namespace amx {

/// The 64-byte tile configuration of palette 1 (ldtilecfg's memory operand).
struct alignas(64) TileConfig {
  std::uint8_t palette = 1, start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};  ///< bytes per row of each tile
  std::uint8_t rows[16] = {};    ///< rows of each tile
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads 64 bytes");

/// The tiles' roles: C0..C3 accumulators, A0/A1 rows of A, B0/B1 column halves of B.
enum : int { C0 = 0, C1 = 1, C2 = 2, C3 = 3, A0 = 4, A1 = 5, B0 = 6, B1 = 7 };

/// The configuration for `k` bytes of depth per instruction (64, or 32 for blocks of 32).
inline TileConfig make_config(int k) {
  TileConfig c;
  for (int t = C0; t <= C3; ++t) c.rows[t] = 16, c.colsb[t] = 64;
  for (int t = A0; t <= A1; ++t) c.rows[t] = 16, c.colsb[t] = static_cast<std::uint16_t>(k);
  for (int t = B0; t <= B1; ++t) c.rows[t] = static_cast<std::uint8_t>(k / 4), c.colsb[t] = 64;
  return c;
}
/// Both configurations, in static storage (built once, thread-safe).
inline const TileConfig& config(int k) {
  static const TileConfig deep = make_config(64), narrow = make_config(32);
  return k == 32 ? narrow : deep;
}

/// The hardware: each operation one AMX instruction. Tile numbers are part of the instruction, hence templates.
struct TileHw {
  static constexpr bool emulated = false;
  static void load_config(const TileConfig& c) { __asm__ volatile("ldtilecfg %0" : : "m"(c) : "memory"); }
  static void release() { __asm__ volatile("tilerelease" : : : "memory"); }
#define OCTET_AMX_ON(T, N, ASM, ...) \
  if constexpr (T == N) __asm__ volatile(ASM #N __VA_ARGS__)
#define OCTET_AMX_EACH(T, ASM, ...)                                                                        \
  OCTET_AMX_ON(T, 0, ASM, __VA_ARGS__); OCTET_AMX_ON(T, 1, ASM, __VA_ARGS__); OCTET_AMX_ON(T, 2, ASM, __VA_ARGS__); \
  OCTET_AMX_ON(T, 3, ASM, __VA_ARGS__); OCTET_AMX_ON(T, 4, ASM, __VA_ARGS__); OCTET_AMX_ON(T, 5, ASM, __VA_ARGS__); \
  OCTET_AMX_ON(T, 6, ASM, __VA_ARGS__); OCTET_AMX_ON(T, 7, ASM, __VA_ARGS__)
  /// Tile T = rows of `stride` bytes apart from p.
  template <int T>
  static void load(const void* p, std::ptrdiff_t stride) {
    OCTET_AMX_EACH(T, "tileloadd (%0,%1,1), %%tmm", : : "r"(p), "r"(stride) : "memory");
  }
  /// Tile T to rows `stride` bytes apart from p.
  template <int T>
  static void store(void* p, std::ptrdiff_t stride) {
    OCTET_AMX_EACH(T, "tilestored %%tmm", ", (%0,%1,1)" : : "r"(p), "r"(stride) : "memory");
  }
  template <int T>
  static void zero() {
    OCTET_AMX_EACH(T, "tilezero %%tmm", : : : "memory");
  }
#undef OCTET_AMX_EACH
#undef OCTET_AMX_ON
  /// C += A x B (the four combinations the kernel uses).
  template <int C, int A, int B>
  static void dpbssd() {
    static_assert((C == C0 && A == A0 && B == B0) || (C == C1 && A == A0 && B == B1) ||
                      (C == C2 && A == A1 && B == B0) || (C == C3 && A == A1 && B == B1),
                  "one of the kernel's four products");
    if constexpr (C == C0) __asm__ volatile("tdpbssd %%tmm6, %%tmm4, %%tmm0" : : : "memory");
    if constexpr (C == C1) __asm__ volatile("tdpbssd %%tmm7, %%tmm4, %%tmm1" : : : "memory");
    if constexpr (C == C2) __asm__ volatile("tdpbssd %%tmm6, %%tmm5, %%tmm2" : : : "memory");
    if constexpr (C == C3) __asm__ volatile("tdpbssd %%tmm7, %%tmm5, %%tmm3" : : : "memory");
  }
};

/// A portable model of the same operations (per thread, as the hardware's tile state): each tile is 16 rows of
/// 64 bytes, shaped by the loaded configuration; int32 sums wrap as the hardware's do.
struct TileEmu {
  static constexpr bool emulated = true;
  struct State {
    TileConfig config;
    alignas(64) unsigned char tile[8][16][64];
  };
  static State& state() {
    static thread_local State s{};
    return s;
  }
  static void load_config(const TileConfig& c) {
    State& s = state();
    s.config = c;
    std::memset(s.tile, 0, sizeof s.tile);  // ldtilecfg zeroes the tiles
  }
  static void release() { load_config(TileConfig{}); }
  template <int T>
  static void load(const void* p, std::ptrdiff_t stride) {
    State& s = state();
    std::memset(s.tile[T], 0, sizeof s.tile[T]);
    for (int r = 0; r < s.config.rows[T]; ++r)
      std::memcpy(s.tile[T][r], static_cast<const unsigned char*>(p) + r * stride, s.config.colsb[T]);
  }
  template <int T>
  static void store(void* p, std::ptrdiff_t stride) {
    const State& s = state();
    for (int r = 0; r < s.config.rows[T]; ++r)
      std::memcpy(static_cast<unsigned char*>(p) + r * stride, s.tile[T][r], s.config.colsb[T]);
  }
  template <int T>
  static void zero() {
    std::memset(state().tile[T], 0, sizeof state().tile[T]);
  }
  template <int C, int A, int B>
  static void dpbssd() {
    State& s = state();
    const int m_rows = s.config.rows[C], n_cols = s.config.colsb[C] / 4, k4 = s.config.colsb[A] / 4;
    for (int m = 0; m < m_rows; ++m)
      for (int n = 0; n < n_cols; ++n) {
        std::uint32_t acc;
        std::memcpy(&acc, &s.tile[C][m][4 * n], 4);
        for (int k = 0; k < k4; ++k)
          for (int t = 0; t < 4; ++t)
            acc += static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(s.tile[A][m][4 * k + t])) *
                                              static_cast<std::int8_t>(s.tile[B][k][4 * n + t]));
        std::memcpy(&s.tile[C][m][4 * n], &acc, 4);
      }
  }
};

OCTET_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
/// A few rows (the GEMV of decoding) with AVX-512 VNNI on the tile layouts: a tile block would be mostly
/// padding, and `vpdpbusd` reads the same packed data. Per group of 4 k (one B tile row: 32 columns x 4 bytes in
/// two zmm), each row's 4 bytes of A are broadcast and shifted to unsigned (a ^ 0x80 = a + 128), and
/// 128 * sum of B is accumulated alongside and subtracted at the end: exact, as the AVX-512 VNNI path.
template <int R>
void vnni_rows(int nr, std::ptrdiff_t kgroups, const std::int8_t* a, const std::int8_t* b, std::int32_t* c,
               std::ptrdiff_t ldc, bool accumulate) {
  constexpr std::ptrdiff_t a_group = 32 * 64, b_group = 32 * 64;
  const __m512i flip = _mm512_set1_epi32(static_cast<int>(0x80808080u));
  __m512i acc[static_cast<std::size_t>(R)][2], corr[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (std::ptrdiff_t g = 0; g < kgroups; ++g) {
    const std::int8_t* ag = a + g * a_group;
    const std::int8_t* bg = b + g * b_group;
    _mm_prefetch(reinterpret_cast<const char*>(bg + 8 * b_group), _MM_HINT_T0);
    for (int q = 0; q < 16; ++q) {
      const __m512i b0 = _mm512_load_si512(bg + q * 128), b1 = _mm512_load_si512(bg + q * 128 + 64);
      if (q % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(bg + 8 * b_group + q * 128), _MM_HINT_T0);
      corr[0] = _mm512_dpbusd_epi32(corr[0], flip, b0);
      corr[1] = _mm512_dpbusd_epi32(corr[1], flip, b1);
      for (int r = 0; r < R; ++r) {
        std::int32_t x;
        std::memcpy(&x, ag + r * 64 + q * 4, 4);
        const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(x), flip);
        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, b0);
        acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, b1);
      }
    }
  }
  const __mmask16 m0 = static_cast<__mmask16>(nr >= 16 ? 0xFFFF : (1u << nr) - 1u);
  const __mmask16 m1 = static_cast<__mmask16>(nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (1u << (nr - 16)) - 1u);
  for (int r = 0; r < R; ++r) {
    std::int32_t* cr = c + r * ldc;
    __m512i v0 = _mm512_sub_epi32(acc[r][0], corr[0]), v1 = _mm512_sub_epi32(acc[r][1], corr[1]);
    if (accumulate) {
      v0 = _mm512_add_epi32(v0, _mm512_maskz_loadu_epi32(m0, cr));
      v1 = _mm512_add_epi32(v1, _mm512_maskz_loadu_epi32(m1, cr + 16));
    }
    _mm512_mask_storeu_epi32(cr, m0, v0);
    _mm512_mask_storeu_epi32(cr + 16, m1, v1);
  }
}
OCTET_TARGET_END()

/// Rows up to this many go through vnni_rows on the hardware (measured: at 8 rows the tiles win).
constexpr int vnni_max_rows = 4;

/// The kernel (kernels/contract.hpp) over the tile operations of T (TileHw or TileEmu).
template <class T>
struct Kernel : Int8Operands {
  static constexpr int MR = 32, NR = 32, KG = 64, KB = 4;
  // Many rows (the driver's KC order): a B panel of KC x NR = 16 KiB stays in L1 (48 KiB) while the 32-row A
  // panels of the MC x KC = 128 KiB block stream past it from L2. Measured against KC = 1024 (a 32 KiB B
  // panel, which the streaming A evicts): 1.04-1.13x from m = 256 up; fewer rows do not use KC. NC = 512
  // against 256 (each A block reused over twice the columns; a 540 KiB int32 tile per thread, in L2): 1.11-1.16x
  // at m = 512 and 2048^3, 1.00-1.06x at m = 1-128.
  static constexpr std::ptrdiff_t MC = 256, KC = 512, NC = 512;
  static constexpr std::ptrdiff_t a_group = MR * KG, b_group = NR * KG;  // elements per k-group of a panel
  static constexpr std::ptrdiff_t b_stride = NR * KB;                     // bytes from one B tile row to the next

  /// The tiles' configuration for one call: loaded on entry, released on exit (also by an exception).
  struct Session {
    explicit Session(int k) { T::load_config(config(k)); }
    ~Session() { T::release(); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
  };

  /// The C tiles (the live ones of a 2 x 2 block) to or from a row-major int32 block, ldc elements a row.
  template <bool Rows2, bool Cols2>
  static void load_c(const std::int32_t* c, std::ptrdiff_t ldc) {
    const std::ptrdiff_t s = ldc * 4;
    T::template load<C0>(c, s);
    if constexpr (Cols2) T::template load<C1>(c + 16, s);
    if constexpr (Rows2) T::template load<C2>(c + 16 * ldc, s);
    if constexpr (Rows2 && Cols2) T::template load<C3>(c + 16 * ldc + 16, s);
  }
  template <bool Rows2, bool Cols2>
  static void store_c(std::int32_t* c, std::ptrdiff_t ldc) {
    const std::ptrdiff_t s = ldc * 4;
    T::template store<C0>(c, s);
    if constexpr (Cols2) T::template store<C1>(c + 16, s);
    if constexpr (Rows2) T::template store<C2>(c + 16 * ldc, s);
    if constexpr (Rows2 && Cols2) T::template store<C3>(c + 16 * ldc + 16, s);
  }
  template <bool Rows2, bool Cols2>
  static void zero_c() {
    T::template zero<C0>();
    if constexpr (Cols2) T::template zero<C1>();
    if constexpr (Rows2) T::template zero<C2>();
    if constexpr (Rows2 && Cols2) T::template zero<C3>();
  }
  /// C tiles += one instruction's depth: A rows at a (row stride 64), B tile rows at b (stride b_stride).
  template <bool Rows2, bool Cols2>
  static void step(const std::int8_t* a, const std::int8_t* b) {
    T::template load<A0>(a, KG);
    T::template load<B0>(b, b_stride);
    if constexpr (Cols2) T::template load<B1>(b + 64, b_stride);
    T::template dpbssd<C0, A0, B0>();
    if constexpr (Cols2) T::template dpbssd<C1, A0, B1>();
    if constexpr (Rows2) {
      T::template load<A1>(a + 16 * KG, KG);
      T::template dpbssd<C2, A1, B0>();
      if constexpr (Cols2) T::template dpbssd<C3, A1, B1>();
    }
  }

  /// C[0:mr, 0:nr] (+)= A panel x B panel over `kgroups` groups of 64.
  template <bool Rows2, bool Cols2>
  static void micro_tiles(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                          std::ptrdiff_t ldc, bool accumulate) {
    alignas(64) std::int32_t buf[MR * NR];  // the block when it is partial: whole tiles are read and written
    const bool whole = mr == (Rows2 ? 32 : 16) && nr == (Cols2 ? 32 : 16);
    if (accumulate && whole) {
      load_c<Rows2, Cols2>(c, ldc);
    } else if (accumulate) {
      for (int r = 0; r < (Rows2 ? 32 : 16); ++r)
        for (int j = 0; j < NR; ++j) buf[r * NR + j] = r < mr && j < nr ? c[r * ldc + j] : 0;
      load_c<Rows2, Cols2>(buf, NR);
    } else {
      zero_c<Rows2, Cols2>();
    }
    for (std::ptrdiff_t g = 0; g < kgroups; ++g) step<Rows2, Cols2>(a + g * a_group, b + g * b_group);
    if (whole) {
      store_c<Rows2, Cols2>(c, ldc);
    } else {
      store_c<Rows2, Cols2>(buf, NR);
      for (int r = 0; r < mr; ++r)
        for (int j = 0; j < nr; ++j) c[r * ldc + j] = buf[r * NR + j];
    }
  }

  static void micro(int mr, int nr, std::ptrdiff_t kgroups, const AElem* a, const BElem* b, std::int32_t* c,
                    std::ptrdiff_t ldc, bool accumulate) {
    if constexpr (!T::emulated) {
      if (mr <= vnni_max_rows && cpu_supports(Isa::avx512vnni)) {  // every AMX CPU so far has it
        switch (mr) {
          case 1: return vnni_rows<1>(nr, kgroups, a, b, c, ldc, accumulate);
          case 2: return vnni_rows<2>(nr, kgroups, a, b, c, ldc, accumulate);
          case 3: return vnni_rows<3>(nr, kgroups, a, b, c, ldc, accumulate);
          default: return vnni_rows<4>(nr, kgroups, a, b, c, ldc, accumulate);
        }
      }
    }
    Session session(KG);
    if (mr > 16 && nr > 16) return micro_tiles<true, true>(mr, nr, kgroups, a, b, c, ldc, accumulate);
    if (mr > 16) return micro_tiles<true, false>(mr, nr, kgroups, a, b, c, ldc, accumulate);
    if (nr > 16) return micro_tiles<false, true>(mr, nr, kgroups, a, b, c, ldc, accumulate);
    return micro_tiles<false, false>(mr, nr, kgroups, a, b, c, ldc, accumulate);
  }

  /// One block's sums into buf (32 x 32, row-major): k-groups [g0, g1) with 64-byte tiles, or with a narrow
  /// block (block = 32) the half `half` of k-group g0.
  template <bool Rows2, bool Cols2>
  static void block_sums(std::ptrdiff_t g0, std::ptrdiff_t g1, int half, bool narrow, const AElem* a, const BElem* b,
                         std::int32_t* buf) {
    zero_c<Rows2, Cols2>();
    if (narrow)
      step<Rows2, Cols2>(a + g0 * a_group + 32 * half, b + g0 * b_group + 8 * b_stride * half);
    else
      for (std::ptrdiff_t g = g0; g < g1; ++g) step<Rows2, Cols2>(a + g * a_group, b + g * b_group);
    store_c<Rows2, Cols2>(buf, NR);
  }

  /// Block-wise scales (the optional hook of kernels/contract.hpp): `blocks` blocks of `block` k over `kgroups`
  /// groups of 64 (block 32: two blocks a group); each block's sums folded into acc by the path's fold_block
  /// (FloatAvx2's, FloatScalar's under the emulator: bit-identical by contract). A kernel without shift: corr
  /// is null.
  static void micro_blocked(int mr, int nr, std::ptrdiff_t kgroups, std::ptrdiff_t block, std::ptrdiff_t blocks,
                            const AElem* a, const BElem* b, float* acc, std::ptrdiff_t lda, const float* sx,
                            std::ptrdiff_t sx_ld, const float* sw, std::ptrdiff_t sw_ld, const std::int32_t*,
                            std::ptrdiff_t, bool first) {
    const bool narrow = block < KG;
    Session session(narrow ? 32 : KG);
    const std::ptrdiff_t bg = narrow ? 1 : block / KG;
    alignas(64) std::int32_t buf[MR * NR];
    for (std::ptrdiff_t q = 0; q < blocks; ++q) {
      const std::ptrdiff_t g0 = narrow ? q / 2 : q * bg, g1 = narrow ? g0 + 1 : (g0 + bg < kgroups ? g0 + bg : kgroups);
      const int half = narrow ? static_cast<int>(q % 2) : 0;
      if (mr > 16 && nr > 16) block_sums<true, true>(g0, g1, half, narrow, a, b, buf);
      else if (mr > 16) block_sums<true, false>(g0, g1, half, narrow, a, b, buf);
      else if (nr > 16) block_sums<false, true>(g0, g1, half, narrow, a, b, buf);
      else block_sums<false, false>(g0, g1, half, narrow, a, b, buf);
      if constexpr (T::emulated)
        FloatScalar::fold_block(acc, lda, buf, NR, mr, nr, sx + q * sx_ld, sw + q * sw_ld, nullptr, first && q == 0);
      else
        x86::FloatAvx2::fold_block(acc, lda, buf, NR, mr, nr, sx + q * sx_ld, sw + q * sw_ld, nullptr, first && q == 0);
    }
  }
};

}  // namespace amx

/// The AMX path's kernel: the hardware's tiles, or with OCTET_EMULATE_AMX their portable model.
struct Amx : amx::Kernel<
#if defined(OCTET_EMULATE_AMX)
                 amx::TileEmu
#else
                 amx::TileHw
#endif
                 > {
  static constexpr const char* name = "amx";
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
