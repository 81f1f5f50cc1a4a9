// octet — from a run-time Isa to the code that runs: the one dispatch mechanism, and the only file that
// includes kernels/.
//
// A path pairs the GEMM kernel of an Isa with the float ops of the LLM.int8() passes (kernels/contract.hpp):
//
//   Isa          Path::Kernel             Path::Float
//   scalar       kernels::Scalar          kernels::FloatScalar      (plain C++, every machine)
//   avx2         kernels::Avx2            kernels::x86::FloatAvx2
//   avxvnni      kernels::AvxVnni         kernels::x86::FloatAvx2
//   avx512vnni   kernels::Avx512Vnni      kernels::x86::FloatAvx2
//   neon         kernels::Neon            kernels::arm::FloatNeon
//   neondot      kernels::NeonDot         kernels::arm::FloatNeon
//   amx          kernels::Amx             kernels::x86::FloatAvx2
//
// with_path(isa, f) calls f(Path{}) once per public call; everything below it is a template on the path, so
// the choice is made once and the inner loops call the ISA's code directly (ruy's Path, Highway's table).
#pragma once

#include <stdexcept>
#include <string>

#include "../core/config.hpp"
#include "../core/isa.hpp"
#include "../kernels/float_scalar.hpp"
#include "../kernels/scalar.hpp"
#if defined(OCTET_ARCH_X86)
#  include "../kernels/x86/amx.hpp"
#  include "../kernels/x86/avx2.hpp"
#  include "../kernels/x86/avx512vnni.hpp"
#  include "../kernels/x86/avxvnni.hpp"
#  include "../kernels/x86/float_avx2.hpp"
#endif
#if defined(OCTET_ARCH_ARM64)
#  include "../kernels/arm/float_neon.hpp"
#  include "../kernels/arm/neon.hpp"
#  include "../kernels/arm/neondot.hpp"
#endif

namespace octet {
namespace detail {

/// One code path: the GEMM kernel and the float ops that run for one Isa.
template <Isa I, class K, class FloatOps>
struct Path {
  static constexpr Isa isa = I;
  using Kernel = K;
  using Float = FloatOps;
};

/// Calls f(Path<...>{}) for `isa`; throws std::invalid_argument if this machine cannot run it.
template <class F>
decltype(auto) with_path(Isa isa, F&& f) {
  if (!cpu_supports(isa))
    throw std::invalid_argument(std::string("octet: this CPU cannot run the '") + isa_name(isa) + "' kernels");
  switch (isa) {
#if defined(OCTET_ARCH_X86)
    case Isa::avx2: return f(Path<Isa::avx2, kernels::Avx2, kernels::x86::FloatAvx2>{});
    case Isa::avxvnni: return f(Path<Isa::avxvnni, kernels::AvxVnni, kernels::x86::FloatAvx2>{});
    case Isa::avx512vnni: return f(Path<Isa::avx512vnni, kernels::Avx512Vnni, kernels::x86::FloatAvx2>{});
#  if defined(OCTET_EMULATE_AMX)  // any x86 machine, AVX2 or not
    case Isa::amx: return f(Path<Isa::amx, kernels::Amx, kernels::FloatScalar>{});
#  else
    case Isa::amx: return f(Path<Isa::amx, kernels::Amx, kernels::x86::FloatAvx2>{});
#  endif
#endif
#if defined(OCTET_ARCH_ARM64)
    case Isa::neon: return f(Path<Isa::neon, kernels::Neon, kernels::arm::FloatNeon>{});
    case Isa::neondot: return f(Path<Isa::neondot, kernels::NeonDot, kernels::arm::FloatNeon>{});
#endif
    default: return f(Path<Isa::scalar, kernels::Scalar, kernels::FloatScalar>{});
  }
}

}  // namespace detail
}  // namespace octet
