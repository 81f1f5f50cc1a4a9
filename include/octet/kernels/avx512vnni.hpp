// octet — avx512vnni kernel (placeholder: the portable kernel until the SIMD one lands).
#pragma once
#include "scalar.hpp"
namespace octet { namespace detail { namespace kernels {
struct Avx512Vnni : Scalar {};
}}}
