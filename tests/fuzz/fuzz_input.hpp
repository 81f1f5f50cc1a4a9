// What the fuzzers share: reading the fuzz input, and reporting a failed check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace octet_fuzz {

/// Reads the fuzz input front to back: small header fields first, then bulk data. Past the end every field is
/// 0; bulk data cycles through what is left (varied on each pass), so a short input still fills large matrices.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  /// An integer in [0, n) from one or two bytes (n <= 65536).
  int below(int n) {
    if (n <= 1) return 0;
    const int v = n <= 256 ? byte() : (byte() | (byte() << 8));
    return v % n;
  }

  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(byte()) << (8 * i);
    return v;
  }

  /// Marks the end of the header: what follows is bulk data.
  void start_bulk() { bulk_ = pos_; }

  /// Bulk byte number i (any i >= 0).
  std::uint8_t bulk(std::size_t i) const {
    const std::size_t n = size_ > bulk_ ? size_ - bulk_ : 0;
    if (n == 0) return static_cast<std::uint8_t>(i * 151u + 7u);
    return static_cast<std::uint8_t>(data_[bulk_ + i % n] + 37u * (i / n));
  }

  /// Four bulk bytes from byte number i on, as a float bit pattern (any value: NaN, Inf, subnormal...).
  float bulk_float(std::size_t i) const {
    const std::uint32_t bits = std::uint32_t(bulk(i)) | std::uint32_t(bulk(i + 1)) << 8 |
                               std::uint32_t(bulk(i + 2)) << 16 | std::uint32_t(bulk(i + 3)) << 24;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, pos_ = 0, bulk_ = 0;
};

/// Whether to run into the library bugs that tests/fuzz/findings/README.md lists. By default the fuzzers steer
/// around them, so that CI keeps finding new problems; OCTET_FUZZ_KNOWN_ISSUES=1 reproduces them.
inline bool report_known_issues() {
  static const bool on = [] {
    const char* v = std::getenv("OCTET_FUZZ_KNOWN_ISSUES");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

/// A failed check: prints what and where, then aborts (libFuzzer saves the input as a crash reproducer).
#define OCTET_FUZZ_CHECK(cond, ...)                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "\n%s:%d: check failed: %s\n  ", __FILE__, __LINE__, #cond);   \
      std::fprintf(stderr, __VA_ARGS__);                                                  \
      std::fprintf(stderr, "\n");                                                         \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

}  // namespace octet_fuzz
