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
#  if defined(__linux__)
#    include <sys/syscall.h>
#    include <unistd.h>
#  endif
#endif
#if defined(OCTET_ARCH_ARM64) && defined(__linux__)
#  include <sys/auxv.h>
#endif

namespace octet {

/// Every path of every architecture, in one list from which the enum, the names, the detection loop and the
/// per-architecture families are generated: X(enumerator, architecture), architecture one of `any`, `x86`,
/// `arm64`. A new path is one line here (appended: the values are part of no file format, but keep them
/// stable), its detection in cpu_query and its case in gemm/dispatch.hpp. Within an architecture, a later
/// entry is a faster path.
///   scalar       portable C++, every machine; the reference the others are tested against
///   avx2         x86 AVX2: int16 `vpmaddwd` on pre-widened operands (exact, no saturation)
///   avxvnni      x86 AVX-VNNI: `vpdpbusd` on 256-bit registers
///   avx512vnni   x86 AVX-512 VNNI: `vpdpbusd` on 512-bit registers
///   neon         aarch64 NEON: `smull` + `sadalp` (exact)
///   neondot      aarch64 dot product extension (ARMv8.2 `sdot`)
///   amx          x86 Intel AMX: `tdpbssd` on 16 x 16 int32 tiles (kernels/x86/amx.hpp)
#define OCTET_ISA_LIST(X) \
  X(scalar, any)          \
  X(avx2, x86)            \
  X(avxvnni, x86)         \
  X(avx512vnni, x86)      \
  X(neon, arm64)          \
  X(neondot, arm64)       \
  X(amx, x86)

/// A family of int8 GEMM kernels (OCTET_ISA_LIST).
enum class Isa : int {
#define OCTET_ISA_ENUM(id, arch) id,
  OCTET_ISA_LIST(OCTET_ISA_ENUM)
#undef OCTET_ISA_ENUM
};

/// The name used by OCTET_ISA and active_isa(): "scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "amx".
inline const char* isa_name(Isa isa) {
  switch (isa) {
#define OCTET_ISA_NAME(id, arch) \
  case Isa::id: return #id;
    OCTET_ISA_LIST(OCTET_ISA_NAME)
#undef OCTET_ISA_NAME
  }
  return "unknown";
}

namespace detail {

/// How many paths OCTET_ISA_LIST has, on all architectures.
constexpr int isa_count = 0
#define OCTET_ISA_COUNT(id, arch) +1
    OCTET_ISA_LIST(OCTET_ISA_COUNT)
#undef OCTET_ISA_COUNT
    ;
static_assert(isa_count <= 32, "cpu_supports keeps one bit per path");

/// Whether a path of OCTET_ISA_LIST's architecture `arch` belongs to this build.
constexpr bool isa_arch_any = true;
#if defined(OCTET_ARCH_X86)
constexpr bool isa_arch_x86 = true;
#else
constexpr bool isa_arch_x86 = false;
#endif
#if defined(OCTET_ARCH_ARM64)
constexpr bool isa_arch_arm64 = true;
#else
constexpr bool isa_arch_arm64 = false;
#endif

/// Every path of this build's architecture, slowest first (scalar always first).
inline std::vector<Isa> isa_family() {
  std::vector<Isa> out;
#define OCTET_ISA_FAMILY(id, arch) \
  if (isa_arch_##arch) out.push_back(Isa::id);
  OCTET_ISA_LIST(OCTET_ISA_FAMILY)
#undef OCTET_ISA_FAMILY
  return out;
}

#if defined(OCTET_ARCH_X86)
inline unsigned long long xgetbv0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

/// Linux gives a process the AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM for
/// XFEATURE_XTILEDATA, Linux 5.16+); without it the first tile instruction raises SIGILL. Asked once for the
/// whole process (the permission covers every thread; the function-local static makes it thread-safe); other
/// systems: not offered.
inline bool amx_permitted() {
#  if defined(__linux__)
  static const bool granted = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
  return granted;
#  else
  return false;
#  endif
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
  const bool amx = ((d >> 24) & 1) && ((d >> 25) & 1) && (xcr0 & 0x60000) == 0x60000;  // AMX-TILE, AMX-INT8, XTILECFG/DATA
  switch (isa) {
    case Isa::avx2: return ymm_state && avx2;
    case Isa::avxvnni: return ymm_state && avx2 && avxvnni;
    case Isa::avx512vnni: return zmm_state && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni;
#  if defined(OCTET_EMULATE_AMX)
    case Isa::amx: return (void)amx, true;  // the tile emulator runs anywhere (kernels/x86/amx.hpp)
#  else
    case Isa::amx: return amx;  // and the Linux permission, asked by cpu_supports when amx is wanted
#  endif
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
    for (int i = 0; i < isa_count; ++i)
      if (cpu_query(static_cast<Isa>(i))) m |= 1u << i;
    return m;
  }();
  const int i = static_cast<int>(isa);
  const bool hardware = i >= 0 && i < 32 && ((mask >> i) & 1u) != 0;
#if defined(OCTET_ARCH_X86) && !defined(OCTET_EMULATE_AMX)
  // Asked only when the amx path is considered (OCTET_ISA=avx512vnni never asks): the grant enlarges the
  // process's signal frames by the 8 KiB of tile data, which is why Linux makes it opt-in.
  if (isa == Isa::amx && hardware) return amx_permitted();
#endif
  return hardware;
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
  for (Isa isa : isa_family()) {
#if defined(OCTET_EMULATE_AMX)
    if (isa == Isa::amx && cap != Isa::amx) continue;  // emulated (slow): only when named
#endif
    if (static_cast<int>(isa) <= static_cast<int>(cap) && cpu_supports(isa)) best = isa;
  }
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

/// Its name: "scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot" or "amx".
inline const char* active_isa() { return isa_name(detail::selected_isa()); }

/// Every path this machine can run (scalar first), whatever OCTET_ISA says: what the tests iterate over.
inline std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : detail::isa_family())
    if (detail::cpu_supports(isa)) out.push_back(isa);
  return out;
}

}  // namespace octet
