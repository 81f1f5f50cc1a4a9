// octet — which instruction set the int8 kernels use, decided once at run time.
//
// The best path the CPU (and the OS, which must save the wide registers) supports is chosen on the first
// call; the environment variable OCTET_ISA caps that choice (for tests, benchmarks and reproducibility).
// Nothing here needs a -m compiler flag: the kernels carry their own target attributes.
#pragma once

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"

#if defined(OCTET_ARCH_X86)
#  include <cpuid.h>
#endif
#if defined(OCTET_ARCH_ARM64) && defined(__linux__)
#  include <sys/auxv.h>
#endif

namespace octet {

/// A family of int8 GEMM kernels. Within an architecture, a larger value is a faster path.
enum class Isa : int {
  scalar = 0,      ///< portable C++, every machine; the reference the others are tested against
  avx2 = 1,        ///< x86 AVX2: int16 `vpmaddwd` on pre-widened operands (exact, no saturation)
  avxvnni = 2,     ///< x86 AVX-VNNI: `vpdpbusd` on 256-bit registers
  avx512vnni = 3,  ///< x86 AVX-512 VNNI: `vpdpbusd` on 512-bit registers
  neon = 4,        ///< aarch64 NEON: `smull` + `sadalp` (exact)
  neondot = 5,     ///< aarch64 dot product extension (ARMv8.2 `sdot`)
};

/// The name used by OCTET_ISA and active_isa(): "scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot".
inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avxvnni: return "avxvnni";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::neon: return "neon";
    case Isa::neondot: return "neondot";
  }
  return "unknown";
}

namespace detail {

/// Every path of this build's architecture, slowest first (scalar always first).
inline std::vector<Isa> isa_family() {
#if defined(OCTET_ARCH_X86)
  return {Isa::scalar, Isa::avx2, Isa::avxvnni, Isa::avx512vnni};
#elif defined(OCTET_ARCH_ARM64)
  return {Isa::scalar, Isa::neon, Isa::neondot};
#else
  return {Isa::scalar};
#endif
}

#if defined(OCTET_ARCH_X86)
inline unsigned long long xgetbv0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

/// Whether this CPU and OS can run `isa`, asked of cpuid/xgetbv or getauxval (slow: cpuid can trap to a
/// hypervisor; use cpu_supports, which asks once).
inline bool cpu_query(Isa isa) {
  if (isa == Isa::scalar) return true;
#if defined(OCTET_ARCH_X86)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return false;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;      // SSE + AVX state saved by the OS
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;    // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool avx2 = (b >> 5) & 1;
  const bool avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  const bool avx512vnni = (c >> 11) & 1;
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  const bool avxvnni = __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) && ((a1 >> 4) & 1);
  switch (isa) {
    case Isa::avx2: return ymm_state && avx2;
    case Isa::avxvnni: return ymm_state && avx2 && avxvnni;
    case Isa::avx512vnni: return zmm_state && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni;
    default: return false;
  }
#elif defined(OCTET_ARCH_ARM64)
  switch (isa) {
    case Isa::neon: return true;  // Advanced SIMD is mandatory on aarch64
    case Isa::neondot:
#  if defined(__linux__)
#    ifndef HWCAP_ASIMDDP
#      define HWCAP_ASIMDDP (1 << 20)
#    endif
      return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#  else
      return false;
#  endif
    default: return false;
  }
#else
  return false;
#endif
}

/// Whether this CPU and OS can run `isa` (detected once, then a table look-up).
inline bool cpu_supports(Isa isa) {
  static const unsigned mask = [] {
    unsigned m = 0;
    for (int i = 0; i <= static_cast<int>(Isa::neondot); ++i)
      if (cpu_query(static_cast<Isa>(i))) m |= 1u << i;
    return m;
  }();
  const int i = static_cast<int>(isa);
  return i >= 0 && i < 32 && ((mask >> i) & 1u) != 0;
}

/// Parses an OCTET_ISA value; throws std::invalid_argument naming the valid choices.
inline Isa parse_isa(const char* text) {
  const std::vector<Isa> family = isa_family();
  std::string valid;
  for (Isa isa : family) {
    if (std::strcmp(text, isa_name(isa)) == 0) return isa;
    valid += valid.empty() ? "" : "|";
    valid += isa_name(isa);
  }
  throw std::invalid_argument(std::string("octet: OCTET_ISA='") + text + "' is not a kernel family of this build (" +
                              valid + ")");
}

/// The best supported path, capped by `cap`.
inline Isa best_isa(Isa cap) {
  Isa best = Isa::scalar;
  for (Isa isa : isa_family())
    if (static_cast<int>(isa) <= static_cast<int>(cap) && cpu_supports(isa)) best = isa;
  return best;
}

/// Decided once: the best supported path, capped by OCTET_ISA when it is set. An invalid OCTET_ISA is read once
/// too: every call then throws the same std::invalid_argument (nothing else depends on it: a path named
/// explicitly, as in PackedB(b, isa), still works).
inline Isa selected_isa() {
  struct Choice {
    Isa isa = Isa::scalar;
    std::string error;
  };
  static const Choice chosen = [] {
    Choice c;
    const char* env = std::getenv("OCTET_ISA");
    try {
      c.isa = best_isa(env && *env ? parse_isa(env) : isa_family().back());
    } catch (const std::invalid_argument& e) {
      c.error = e.what();
    }
    return c;
  }();
  if (!chosen.error.empty()) throw std::invalid_argument(chosen.error);
  return chosen.isa;
}

}  // namespace detail

/// The kernel family that gemm_i8 and everything built on it use on this machine.
inline Isa active_isa_id() { return detail::selected_isa(); }

/// Its name: "scalar", "avx2", "avxvnni", "avx512vnni", "neon" or "neondot".
inline const char* active_isa() { return isa_name(detail::selected_isa()); }

/// Every path this machine can run (scalar first), whatever OCTET_ISA says: what the tests iterate over.
inline std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : detail::isa_family())
    if (detail::cpu_supports(isa)) out.push_back(isa);
  return out;
}

}  // namespace octet
