// octet — per-thread scratch memory: the buffers a call reuses instead of allocating, and how to free them.
//
// One set per thread, whatever the kernel or the expression types (every instantiation shares it): packed A and
// the quantized codes of X on the calling thread, the int32 tile on each thread that computes tiles. A buffer
// grows to the largest size asked of it on its thread and stays, so that repeated calls of the same shape
// allocate nothing; octet::release_scratch() gives it all back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "buffer.hpp"

namespace octet {
namespace detail {

struct Scratch;

/// Every live thread's Scratch (leaked on purpose: threads may outlive static destructors).
struct ScratchRegistry {
  std::mutex mutex;
  std::vector<Scratch*> all;
  static ScratchRegistry& get() {
    static ScratchRegistry* r = new ScratchRegistry;
    return *r;
  }
};

struct Scratch {
  AlignedBuffer pack_a;  ///< A packed into MR-row panels (gemm/driver.hpp)
  AlignedBuffer tile;    ///< one int32 tile of C (gemm/driver.hpp)
  AlignedBuffer codes;   ///< the int8 codes of X (llm/passes.hpp)
  // The small per-call arrays of the LLM.int8() passes (llm/passes.hpp, llm_int8.hpp): kept, so that a call of a
  // shape seen before on this thread allocates nothing.
  std::vector<float> colmax, keep, sx, xo, wo, converted;
  std::vector<unsigned char> ok, skip;
  std::vector<std::ptrdiff_t> outliers;

  Scratch() {
    ScratchRegistry& r = ScratchRegistry::get();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.all.push_back(this);
  }
  ~Scratch() {
    ScratchRegistry& r = ScratchRegistry::get();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.all.erase(std::find(r.all.begin(), r.all.end(), this));
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::size_t bytes() const {
    const std::size_t floats = colmax.capacity() + keep.capacity() + sx.capacity() + xo.capacity() + wo.capacity() +
                               converted.capacity();
    return pack_a.size() + tile.size() + codes.size() + floats * sizeof(float) + ok.capacity() + skip.capacity() +
           outliers.capacity() * sizeof(std::ptrdiff_t);
  }
  void release() {
    pack_a.release();
    tile.release();
    codes.release();
    for (auto* v : {&colmax, &keep, &sx, &xo, &wo, &converted}) std::vector<float>().swap(*v);
    std::vector<unsigned char>().swap(ok);
    std::vector<unsigned char>().swap(skip);
    std::vector<std::ptrdiff_t>().swap(outliers);
  }
};

/// This thread's scratch.
inline Scratch& thread_scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace detail

/// Frees the scratch memory that octet's calls keep on every thread (packed activations, int32 tiles, codes:
/// about m x k + a few hundred KiB per thread after a call with m x k activations). The next call allocates
/// again. Call it while no octet call is running on any thread.
inline void release_scratch() {
  detail::ScratchRegistry& r = detail::ScratchRegistry::get();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (detail::Scratch* s : r.all) s->release();
}

/// The bytes of scratch memory octet holds on all threads (see release_scratch).
inline std::size_t scratch_bytes() {
  detail::ScratchRegistry& r = detail::ScratchRegistry::get();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::size_t total = 0;
  for (const detail::Scratch* s : r.all) total += s->bytes();
  return total;
}

}  // namespace octet
