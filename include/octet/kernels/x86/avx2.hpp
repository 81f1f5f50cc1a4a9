// octet — the AVX2 kernel: `vpmaddwd` on operands widened to int16 when packed (exact, never saturates).
//
// Why not `vpmaddubsw`? It multiplies u8 x s8 and adds pairs into *saturating* int16: 255 * 127 * 2 does not
// fit, so it is wrong for full-range int8 (oneDNN #476, FBGEMM #199). Instead both operands are widened to
// int16 while packing (A per call, B once) and `vpmaddwd` multiplies int16 pairs and adds each pair into an
// int32 lane: |2 * 128 * 128| = 32768 fits easily, so every int8 value, -128 included, is exact, with no
// +128 shift and no correction. Per instruction that is 16 multiply-adds, the same as `vpmaddubsw` followed
// by the `vpmaddwd` it would need, at the cost of packed B twice as large (2 bytes per weight).
//
// The register block is 4 rows x 16 columns over k-groups of 2: 8 ymm accumulators, 2 ymm of packed B,
// broadcasts of A (a pair of int16 each) and the products. Per k-group: 8 `vpmaddwd` + 8 `vpaddd` against 2
// vector loads and 4 broadcast loads. A 6 x 16 block needs all 16 ymm registers (12 accumulators, 2 of B, a
// broadcast, a product) and GCC 12 then spills accumulators inside the loop: it measured about half of the
// `vpmaddwd` peak. The loop itself is x86/micro.hpp's.
#pragma once

#include "../../core/config.hpp"

// Empty on other architectures (and with OCTET_NO_SIMD), so that every header still compiles on its own.
#if defined(OCTET_ARCH_X86)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "common.hpp"

namespace octet {
namespace detail {
namespace kernels {

OCTET_TARGET_BEGIN("avx2")
namespace avx2 {

struct Ops : x86::Acc256 {
  using AElem = std::int16_t;
  using BElem = std::int16_t;
  static constexpr int MR = 4, NV = 2, KG = 2;
  static V madd(V acc, V a, V b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
};

#include "micro.hpp"

}  // namespace avx2
OCTET_TARGET_END()

struct Avx2 : avx2::MicroKernel<avx2::Ops> {
  static constexpr const char* name = "avx2";
  using AElem = std::int16_t;  // widened when packed
  using BElem = std::int16_t;
  static constexpr bool shift_a = false;
  static constexpr bool has_pack_a_rows8 = false;
  static constexpr std::ptrdiff_t MC = 192, KC = 512, NC = 256;
  static AElem pack_a(std::int8_t v) { return v; }
  static BElem pack_b(std::int8_t v) { return v; }
  static std::int8_t unpack_b(BElem v) { return static_cast<std::int8_t>(v); }
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
