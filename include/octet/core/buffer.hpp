// octet — a 64-byte aligned, uninitialised byte buffer (packed operands live in these).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

namespace octet {
namespace detail {

class AlignedBuffer {
 public:
  static constexpr std::size_t alignment = 64;
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
  AlignedBuffer(AlignedBuffer&& o) noexcept : ptr_(std::move(o.ptr_)), size_(o.size_) { o.size_ = 0; }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    ptr_ = std::move(o.ptr_);
    size_ = o.size_;
    o.size_ = 0;
    return *this;
  }
  /// Frees the memory.
  void release() noexcept {
    ptr_.reset();
    size_ = 0;
  }

  /// Makes room for `bytes` bytes; the old contents are lost when it grows.
  void resize(std::size_t bytes) {
    if (bytes <= size_) return;
    // round up so that a kernel may read a whole vector past the last packed element
    const std::size_t padded = (bytes + 2 * alignment - 1) / alignment * alignment;
    ptr_.reset(static_cast<unsigned char*>(::operator new(padded, std::align_val_t(alignment))));
    size_ = bytes;
  }
  void zero() {
    if (ptr_) std::memset(ptr_.get(), 0, size_);
  }
  std::size_t size() const { return size_; }
  template <class T> T* as() { return reinterpret_cast<T*>(ptr_.get()); }
  template <class T> const T* as() const { return reinterpret_cast<const T*>(ptr_.get()); }

 private:
  struct Free {
    void operator()(unsigned char* p) const { ::operator delete(p, std::align_val_t(alignment)); }
  };
  std::unique_ptr<unsigned char, Free> ptr_;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace octet
