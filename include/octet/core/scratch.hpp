// octet — per-thread scratch memory: the buffers a call reuses instead of allocating.
//
// One set per thread, whatever the kernel or the expression types (every instantiation shares it): packed A and
// the quantized codes of X on the calling thread, the int32 tile on each thread that computes tiles. A buffer
// grows to the largest size asked of it on its thread and stays, so that repeated calls of the same shape
// allocate nothing.
#pragma once

#include "buffer.hpp"

namespace octet {
namespace detail {

struct Scratch {
  AlignedBuffer pack_a;  ///< A packed into MR-row panels (gemm/driver.hpp)
  AlignedBuffer tile;    ///< one int32 tile of C (gemm/driver.hpp)
  AlignedBuffer codes;   ///< the int8 codes of X (llm/passes.hpp)
};

/// This thread's scratch.
inline Scratch& thread_scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace detail
}  // namespace octet
