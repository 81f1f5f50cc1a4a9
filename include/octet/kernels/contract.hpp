// octet — what a kernel family provides: the contract between the generic code and the ISA-specific code.
//
// A path (one value of octet::Isa) is a pair of small structs, put together in gemm/dispatch.hpp:
//
// 1. The GEMM kernel (kernels/scalar.hpp, x86/avx2.hpp, x86/avxvnni.hpp, x86/avx512vnni.hpp, x86/amx.hpp,
//    arm/neon.hpp, arm/neondot.hpp). The generic driver (gemm/driver.hpp) is templated on it:
//      name            the path's name, as in isa_name()
//      AElem, BElem    element types of packed A and packed B
//      MR x NR         the register block of C that one micro-kernel call computes
//      KG              k is packed in groups of KG consecutive values (4 for a 4-way dot product)
//      shift_a         packed A holds a + 128 as uint8 (for u8 x s8 instructions); the driver then subtracts
//                      128 * (column sums of B), computed when B is packed
//      MC, KC, NC      cache blocking: rows of A, depth and columns of B per block
//      pack_a, pack_b  the value conversion applied while packing; unpack_b is pack_b's inverse (reading codes
//                      back out of a packed B)
//      micro(mr, nr, kgroups, a, b, c, ldc, accumulate)
//                      C[0:mr, 0:nr] (+)= A panel x B panel over `kgroups` groups of KG; C is a row-major
//                      int32 tile with leading dimension ldc; nothing outside C[0:mr, 0:nr] is read or written
//      pack_a_rows8(src, cs, k_begin, k_end, dst)   (optional, when has_pack_a_rows8 is true)
//                      packs one whole MR-row panel of column-major A (rows adjacent) over [k_begin, k_end),
//                      reading 8 bytes from each column at src
//      pack_b_panel(src, rs, cs, groups, dst)       (optional; gemm/pack.hpp calls it when the kernel has one)
//                      packs one whole NR-column panel of B, B(p, j) = src[p*rs + j*cs] with rs or cs 1, over
//                      `groups` whole k-groups into [group][NR][KG] at dst (x86: vector transposes)
//      KB              (optional) B's inner grouping of k within a k-group, when it differs from KG (AMX:
//                      KG = 64 contiguous bytes per A row, B in groups of 4)
//      micro_blocked(mr, nr, kgroups, block, blocks, a, b, acc, lda, sx, sx_ld, sw, sw_ld, corr, corr_ld, first)
//                      (optional) block-wise scales folded by the kernel itself: `blocks` blocks of `block` k over
//                      `kgroups` k-groups, each block's sums folded into the float accumulators acc as
//                      fold_block does (see BlockScales); without it the driver folds one block at a time
//                      through micro and the path's fold_block. A kernel with it may take blocks shorter than
//                      a k-group (a whole fraction of KG: AMX's blocks of 32)
//    Optional hooks are detected one way: a std::void_t trait on the member (has_pack_b_panel,
//    has_micro_blocked, b_subgroup).
//    Packed layouts (zero padded): an A panel of MR rows is [kgroup][MR][KG]; a B panel of NR columns is
//    [kgroup][KG/KB][NR][KB] ([kgroup][NR][KG] when KB = KG; gemm/pack.hpp owns them).
//
// 2. The float ops of the LLM.int8() passes (kernels/float_scalar.hpp, and kernels/float_passes.hpp compiled
//    for AVX2 in x86/float_avx2.hpp and for NEON in arm/float_neon.hpp). llm/passes.hpp is written over them:
//      scan_columns(v, c0, c1, colmax) -> bool       colmax[c] = max_i |v(i, c)|; false on NaN/Inf
//      quantize_row(row, mask, n, out, step)          AbsMax codes of one contiguous row, masked columns 0
//      quantize_block(v, g0, mb, mask, codes, ld, step)  the same for rows [g0, g0 + mb) of a column-major v
//      epilogue_tile(e, i0, j0, rows, cols, tile, ldt)    dequantize a finished int32 tile (DequantEpilogue)
//      store_tile(tile, ldt, rows, cols, out)             copy an int32 tile into an int32 matrix
//      fold_block(acc, lda, c, ldc, rows, cols, sx, sw, corr, first)
//                      acc[r*lda + j] = (first ? +0 : acc[..]) + dequant(c[r*ldc + j] - corr[j], sx[r], sw[j]):
//                      one block's int32 sums into the float accumulators (BlockScales); corr may be null
//      epilogue_tile also takes a float tile (block-wise scales): y = acc + outliers + bias
//    Every implementation performs the same float32 operations in the same order (no FMA contraction, round
//    half to even), so all paths give bit-identical results; float_scalar.hpp is the reference.
#pragma once

#include <cstddef>
#include <cmath>
#include <cstdint>
#include <limits>

#include "../core/views.hpp"

namespace octet {
namespace detail {

/// Which columns the row quantizers skip (outlier columns): `skip[c]` != 0, and the same as float bit masks,
/// `keep[c]` all ones for a kept column and 0 for a skipped one (for SIMD code). Both null: keep every column.
/// Skipped columns get code 0. A row's absmax is taken over the kept columns when `limit` is +inf (the paper's
/// LLM.int8()), else over every column's values below `limit` (bitsandbytes: outlier elements count as 0).
struct ColumnMask {
  const unsigned char* skip = nullptr;
  const float* keep = nullptr;
  float limit = std::numeric_limits<float>::infinity();
  bool skipped(Index c) const { return skip && skip[c]; }
  bool by_limit() const { return limit != std::numeric_limits<float>::infinity(); }
  /// The mask of columns [c0, ...): column c of the result is column c0 + c of this one.
  ColumnMask from(Index c0) const {
    ColumnMask m = *this;
    if (m.skip) m.skip += c0;
    if (m.keep) m.keep += c0;
    return m;
  }
  /// |x| as it counts towards its row's absmax in column c.
  float counted(Index c, float x) const {
    const float a = std::abs(x);
    return by_limit() ? (a < limit ? a : 0.0f) : (skipped(c) ? 0.0f : a);
  }
};

/// What the LLM.int8() epilogue computes for every element of a finished int32 tile C:
///   y(i, j) = (C(i, j) * sx(i)) * sw(j) + sum_q xo(i, q) * wo(q, j) + bias(j)
/// each operation rounded to float32 in that order (the outlier sum in ascending q, starting from 0); where
/// C(i, j) * sx(i) overflows, (C(i, j) * sw(j)) * sx(i) instead (FloatScalar::dequant). The float result is
/// stored as Out: float, or a 16-bit float type constructible from float that rounds to nearest even
/// (Eigen::bfloat16, Eigen::half).
template <class Out>
struct DequantEpilogueT {
  MutView<Out> y;          // m x n destination, any strides
  const float* sx;         // m row steps of X
  const float* sw;         // n column steps of W
  const float* xo;         // m x r row-major: the outlier columns of X
  const float* wo;         // r x n row-major, rows wo_ld apart: the weights they multiply
  Index r, n;
  const float* bias;       // n entries or null
  Index wo_ld;             // row stride of wo (llm::outlier_ld(n): padded, so that the r rows read for one
                           // output do not fall in one L1 set when n is a multiple of 1024)
};
using DequantEpilogue = DequantEpilogueT<float>;

/// Block-wise scales (LLMInt8Options::block_size): the depth is cut into blocks of `block` consecutive k (the
/// last one may be shorter); within a block the int8 products are summed exactly in int32, and each block sum
/// C_b(i, j) is folded into a float accumulator in ascending b, starting from +0:
///   acc(i, j) = acc(i, j) + dequant(C_b(i, j), sx(i, b), sw(b, j))     (FloatScalar::dequant, every product rounded)
/// The epilogue then adds the outlier product and the bias to acc as DequantEpilogueT does to (C * sx) * sw.
struct BlockScales {
  Index block = 0;                       // values of k per block: a multiple of every kernel's KG, 0 = no blocks
  const float* sx = nullptr;             // blocks x m, block-major: the step of row i of X in block b is sx[b * m + i]
  Index m = 0;
  const float* sw = nullptr;             // blocks x n, row-major: the step of column j of W in block b is sw[b * n + j]
  Index n = 0;
  const std::int32_t* corr = nullptr;    // kernels that shift A: 128 * (column sums of B per block), blocks x corr_ld
  Index corr_ld = 0;
};

namespace kernels {

/// The value conversions of a kernel that multiplies int8 by int8 as they are (scalar, NEON, NEON dotprod):
/// no shift, no widening, no fast packing path.
struct Int8Operands {
  using AElem = std::int8_t;
  using BElem = std::int8_t;
  static constexpr bool shift_a = false;
  static constexpr bool has_pack_a_rows8 = false;
  static AElem pack_a(std::int8_t v) { return v; }
  static BElem pack_b(std::int8_t v) { return v; }
  static std::int8_t unpack_b(BElem v) { return v; }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet
