// octet — the AVX-VNNI kernel: `vpdpbusd` on 256-bit registers (the VEX encoding, no AVX-512 needed).
//
// The arithmetic is that of x86/avx512vnni.hpp: `vpdpbusd` multiplies unsigned bytes of A by signed
// bytes of B and adds groups of four products exactly into int32 lanes; A is packed as a + 128 (a ^ 0x80)
// and the driver subtracts 128 * sum_p B(p, j) (shift_a), so every int8 value, -128 included, is exact.
//
// The register block is 6 rows x 16 columns: 12 ymm accumulators, 2 ymm of packed B per k-group of 4 and
// one broadcast of A, 15 of the 16 ymm registers. Per k-group: 12 `vpdpbusd` against 2 vector loads and 6
// broadcast loads. (4 x 24 has the same 12 accumulators and fewer loads, but needs all 16 registers and
// leaves the compiler none for the broadcast.) The loop itself is x86/micro.hpp's.
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

OCTET_TARGET_BEGIN("avx2,avxvnni")
namespace avxvnni {

struct Ops : x86::Acc256 {
  using AElem = std::uint8_t;
  using BElem = std::int8_t;
  static constexpr int MR = 6, NV = 2, KG = 4;
  static V madd(V acc, V a, V b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
};

#include "micro.hpp"

}  // namespace avxvnni
OCTET_TARGET_END()

struct AvxVnni : avxvnni::MicroKernel<avxvnni::Ops>, x86::ShiftedA<avxvnni::Ops::MR, avxvnni::Ops::NV * avxvnni::Ops::lanes> {
  static constexpr const char* name = "avxvnni";
  static constexpr std::ptrdiff_t MC = 192, KC = 1024, NC = 256;
};

}  // namespace kernels
}  // namespace detail
}  // namespace octet

#endif  // OCTET_ARCH_X86
