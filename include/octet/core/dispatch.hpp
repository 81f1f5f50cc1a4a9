// octet — from a run-time Isa to the kernel type the driver is instantiated with.
#pragma once

#include <stdexcept>
#include <string>

#include "config.hpp"
#include "isa.hpp"
#include "../kernels/scalar.hpp"
#if defined(OCTET_ARCH_X86)
#  include "../kernels/avx2.hpp"
#  include "../kernels/avxvnni.hpp"
#  include "../kernels/avx512vnni.hpp"
#endif
#if defined(OCTET_ARCH_ARM64)
#  include "../kernels/neon.hpp"
#  include "../kernels/neondot.hpp"
#endif

namespace octet {
namespace detail {

/// Calls f(KernelTraits{}) for the kernel of `isa`; throws if this machine cannot run it.
template <class F>
decltype(auto) with_kernel(Isa isa, F&& f) {
  if (!cpu_supports(isa))
    throw std::invalid_argument(std::string("octet: this CPU cannot run the '") + isa_name(isa) + "' kernels");
  switch (isa) {
#if defined(OCTET_ARCH_X86)
    case Isa::avx2: return f(kernels::Avx2{});
    case Isa::avxvnni: return f(kernels::AvxVnni{});
    case Isa::avx512vnni: return f(kernels::Avx512Vnni{});
#endif
#if defined(OCTET_ARCH_ARM64)
    case Isa::neon: return f(kernels::Neon{});
    case Isa::neondot: return f(kernels::NeonDot{});
#endif
    default: return f(kernels::Scalar{});
  }
}

}  // namespace detail
}  // namespace octet
