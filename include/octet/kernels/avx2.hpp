// octet — avx2 kernel (placeholder: the portable kernel until the SIMD one lands).
#pragma once
#include "scalar.hpp"
namespace octet { namespace detail { namespace kernels {
struct Avx2 : Scalar {};
}}}
