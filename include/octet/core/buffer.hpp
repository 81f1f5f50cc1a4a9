// octet — a 64-byte aligned, uninitialised byte buffer (packed operands and scratch live in these).
//
// Large buffers (4 MiB and more) are aligned to 2 MiB, so that a system with transparent huge pages set to
// "always" can back them with huge pages: first touching fresh memory is then one page fault per 2 MiB instead of
// one per 4 KiB (measured on the development VM: 20 ms for 32 MiB in 4 KiB pages, 3 ms in huge pages). octet does
// not madvise() by itself: with the common "madvise" defrag setting that made the kernel compact memory on the
// spot, and single allocations stalled for 60-120 ms.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace octet {
namespace detail {

class AlignedBuffer {
 public:
  static constexpr std::size_t alignment = 64;
  static constexpr std::size_t huge_page = std::size_t(2) << 20;
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes) { resize(bytes); }
  /// A deep copy.
  AlignedBuffer(const AlignedBuffer& o) {
    resize(o.size_);
    if (o.size_) std::memcpy(ptr_.get(), o.ptr_.get(), o.size_);
  }
  AlignedBuffer& operator=(const AlignedBuffer& o) {
    if (this != &o) *this = AlignedBuffer(o);
    return *this;
  }
  /// Moving leaves the source empty (size 0), never a size without memory.
  AlignedBuffer(AlignedBuffer&& o) noexcept : ptr_(std::move(o.ptr_)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    ptr_ = std::move(o.ptr_);
    size_ = std::exchange(o.size_, 0);
    return *this;
  }

  /// Makes room for `bytes` bytes; the old contents are lost when it grows.
  void resize(std::size_t bytes) {
    if (bytes <= size_) return;
    // round up so that a kernel may read a whole vector past the last packed element
    const std::size_t padded = (bytes + 2 * alignment - 1) / alignment * alignment;
    const std::size_t align = padded >= 2 * huge_page ? huge_page : alignment;
    ptr_.reset();
    size_ = 0;
    ptr_ = Ptr(static_cast<unsigned char*>(::operator new(padded, std::align_val_t(align))), Free{align});
    size_ = bytes;
  }
  void zero() {
    if (ptr_) std::memset(ptr_.get(), 0, size_);
  }
  /// Frees the memory.
  void release() noexcept {
    ptr_.reset();
    size_ = 0;
  }
  std::size_t size() const { return size_; }
  template <class T> T* as() { return reinterpret_cast<T*>(ptr_.get()); }
  template <class T> const T* as() const { return reinterpret_cast<const T*>(ptr_.get()); }

 private:
  struct Free {
    std::size_t align = alignment;
    void operator()(unsigned char* p) const { ::operator delete(p, std::align_val_t(align)); }
  };
  using Ptr = std::unique_ptr<unsigned char, Free>;
  Ptr ptr_{nullptr, Free{}};
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace octet
