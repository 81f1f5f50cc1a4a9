// octet — the saved-layer format of LLMInt8Linear (docs/format.md): little-endian, versioned, checksummed.
//
// This file reads and writes the bytes; llm_int8.hpp's save() and load() put a layer in and take one out. A
// stream may hold several layers one after the other: load() reads exactly one.
// Reading never trusts the header: the sizes it announces are checked against what the stream holds before
// anything is allocated for them (when the stream can tell its size; otherwise memory grows only with the
// bytes actually read), and every error is a std::runtime_error that says what is wrong and where.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/checks.hpp"

namespace octet {
namespace detail {
namespace format {

constexpr char magic[8] = {'O', 'C', 'T', 'E', 'T', 'L', 'I', 'N'};
// Version 1: vector-wise layers; version 2 (written only for block-wise layers, so that version-1 files stay
// as they were): the last header field is the block size and the steps are blocks x n.
constexpr std::uint32_t version = 2;
constexpr std::size_t header_bytes = 48;
constexpr std::uint32_t flag_bias = 1u, flag_float_weights = 2u, known_flags = 3u;

/// The checksum: FNV-1a (64-bit offset basis and prime) applied to 8-byte little-endian words instead of single
/// bytes (8x faster), over every byte before the checksum; a last partial word is padded with zero bytes.
struct Checksum {
  std::uint64_t h = 0xcbf29ce484222325ull;
  unsigned char carry[8] = {};
  std::size_t carried = 0;
  void word(const unsigned char* p) {
    std::uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    std::memcpy(&v, p, 8);  // one load: the loop below is not recognised as one, and cost 60 instructions a word
#else
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
#endif
    h = (h ^ v) * 0x100000001b3ull;
  }
  void add(const unsigned char* p, std::size_t n) {
    if (n == 0) return;  // p may be null then (an empty layer's codes)
    if (carried > 0) {  // complete the partial word of the previous call first
      const std::size_t take = n < 8 - carried ? n : 8 - carried;
      std::memcpy(carry + carried, p, take);
      carried += take;
      p += take;
      n -= take;
      if (carried < 8) return;
      word(carry);
      carried = 0;
    }
    for (; n >= 8; p += 8, n -= 8) word(p);
    std::memcpy(carry, p, n);  // n < 8
    carried = n;
  }
  std::uint64_t value() const {
    Checksum c = *this;
    if (c.carried) {
      for (std::size_t i = c.carried; i < 8; ++i) c.carry[i] = 0;
      c.word(c.carry);
    }
    return c.h;
  }
};

/// The fixed-size header.
struct Header {
  std::uint32_t version = format::version;
  std::uint32_t flags = 0;
  std::uint64_t k = 0, n = 0;
  float threshold = 0.0f;
  std::uint32_t outlier_weights = 0;  // 0 dequantized_int8, 1 float32
  std::uint32_t semantics = 0;        // 0 paper, 1 bitsandbytes
  std::uint32_t block_size = 0;       // version 2: 32, 64, 128 or 256; version 1: 0 (the field was reserved)

  /// Rows of steps: 1, or ceil(k / block_size) (1 when k = 0).
  std::uint64_t blocks() const { return block_size == 0 || k == 0 ? 1 : (k + block_size - 1) / block_size; }

  /// Bytes after the header: steps, codes, bias, float weights, checksum.
  std::uint64_t payload_bytes() const {
    std::uint64_t b = 4 * blocks() * n + k * n + 8;
    if (flags & flag_bias) b += 4 * n;
    if (flags & flag_float_weights) b += 4 * k * n;
    return b;
  }
};

inline void put_u32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Writes bytes and keeps the checksum of everything written.
class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}
  void bytes(const void* p, std::size_t n) {
    if (n == 0) return;
    sum_.add(static_cast<const unsigned char*>(p), n);
    out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  }
  void header(const Header& h) {
    unsigned char b[header_bytes] = {};
    std::memcpy(b, magic, 8);
    put_u32(b + 8, h.version);
    put_u32(b + 12, h.flags);
    put_u64(b + 16, h.k);
    put_u64(b + 24, h.n);
    put_u32(b + 32, float_bits(h.threshold));
    put_u32(b + 36, h.outlier_weights);
    put_u32(b + 40, h.semantics);
    put_u32(b + 44, h.block_size);
    bytes(b, header_bytes);
  }
  void floats(const float* p, std::size_t n) {
    unsigned char b[4 * 256];
    for (std::size_t i = 0; i < n; i += 256) {
      const std::size_t c = std::min<std::size_t>(256, n - i);
      for (std::size_t t = 0; t < c; ++t) put_u32(b + 4 * t, float_bits(p[i + t]));
      bytes(b, 4 * c);
    }
  }
  void finish(const char* who) {
    unsigned char b[8];
    put_u64(b, sum_.value());
    out_.write(reinterpret_cast<const char*>(b), 8);
    out_.flush();
    if (!out_) throw std::runtime_error(std::string(who) + ": writing the layer failed");
  }

 private:
  std::ostream& out_;
  Checksum sum_;
};

/// Reads bytes, counting them (for "truncated at byte N") and keeping the checksum.
class Reader {
 public:
  Reader(std::istream& in, const char* who) : in_(in), who_(who) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(std::string(who_) + ": " + what);
  }
  /// Reads n bytes of the field `what`, which ends at byte field_end (0: with these n bytes; a field read in
  /// chunks passes its own end, so that a truncation names where the field ends, not the chunk).
  void bytes(void* p, std::size_t n, const char* what, std::size_t field_end = 0) {
    in_.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    const auto got = static_cast<std::size_t>(in_.gcount());
    if (got != n)
      fail("truncated at byte " + std::to_string(pos_ + got) + " (reading the " + what + ", which ends at byte " +
           std::to_string(field_end ? field_end : pos_ + n) + ")");
    sum_.add(static_cast<const unsigned char*>(p), n);
    pos_ += n;
  }
  Header header() {
    unsigned char b[header_bytes];
    in_.read(reinterpret_cast<char*>(b), 8);
    if (in_.gcount() != 8 || std::memcmp(b, magic, 8) != 0) fail("not an octet layer file (no OCTETLIN magic)");
    sum_.add(b, 8);
    pos_ = 8;
    bytes(b + 8, header_bytes - 8, "header");
    Header h;
    h.version = get_u32(b + 8);
    if (h.version != 1 && h.version != 2)
      fail("unsupported version " + std::to_string(h.version) + " (this octet reads versions 1 and 2)");
    h.flags = get_u32(b + 12);
    h.k = get_u64(b + 16);
    h.n = get_u64(b + 24);
    h.threshold = bits_float(get_u32(b + 32));
    h.outlier_weights = get_u32(b + 36);
    h.semantics = get_u32(b + 40);
    h.block_size = get_u32(b + 44);
    if (h.flags & ~known_flags) fail("unknown flags " + std::to_string(h.flags));
    if (h.outlier_weights > 1) fail("unknown outlier_weights " + std::to_string(h.outlier_weights));
    if (h.semantics > 1) fail("unknown semantics " + std::to_string(h.semantics));
    if (((h.flags & flag_float_weights) != 0) != (h.outlier_weights == 1))
      fail("the float-weights flag disagrees with outlier_weights");
    if (h.version == 1 && h.block_size != 0) fail("reserved field is " + std::to_string(h.block_size) + ", not 0");
    if (h.version == 2 && h.block_size != 32 && h.block_size != 64 && h.block_size != 128 && h.block_size != 256)
      fail("block size " + std::to_string(h.block_size) + " (32, 64, 128 or 256)");
    if ((h.flags & flag_bias) && h.n == 0) fail("a bias flag for a layer with no outputs (n = 0)");
    // Shapes: small enough that every size below is exact in 64 bits, and consistent with the stream.
    const std::uint64_t limit = std::uint64_t(1) << 31;
    if (h.k > limit || h.n > limit || h.k * h.n > (std::uint64_t(1) << 40))
      fail("shape fields k = " + std::to_string(h.k) + ", n = " + std::to_string(h.n) + " are out of range");
    if (h.k > static_cast<std::uint64_t>(max_depth))
      fail("k = " + std::to_string(h.k) + " is deeper than exact int32 accumulation allows (at most " +
           std::to_string(max_depth) + ")");
    const std::uint64_t need = h.payload_bytes();
    const std::uint64_t have = remaining();  // a stream may hold more after the layer (another layer, say)
    sized_ = have != unknown;
    if (have != unknown && have < need)
      fail("shape fields k = " + std::to_string(h.k) + ", n = " + std::to_string(h.n) + " need " +
           std::to_string(header_bytes + need) + " bytes, the stream holds " + std::to_string(header_bytes + have));
    return h;
  }
  /// n floats; memory grows with the bytes actually read, never ahead of them (the int8s too, unless the stream
  /// told its size).
  std::vector<float> floats(std::uint64_t n, const char* what) {
    std::vector<float> out;
    unsigned char b[4 * 1024];
    const std::size_t end = pos_ + static_cast<std::size_t>(4 * n);
    for (std::uint64_t i = 0; i < n; i += 1024) {
      const std::size_t c = static_cast<std::size_t>(std::min<std::uint64_t>(1024, n - i));
      bytes(b, 4 * c, what, end);
      for (std::size_t t = 0; t < c; ++t) out.push_back(bits_float(get_u32(b + 4 * t)));
    }
    return out;
  }
  std::vector<std::int8_t> int8s(std::uint64_t n, const char* what) {
    std::vector<std::int8_t> out;
    if (sized_) out.reserve(static_cast<std::size_t>(n));  // the stream holds them: no regrowth, no copies
    const std::size_t chunk = std::size_t(1) << 20;
    const std::size_t end = pos_ + static_cast<std::size_t>(n);
    for (std::uint64_t i = 0; i < n; i += chunk) {
      const std::size_t c = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, n - i));
      const std::size_t at = out.size();
      out.resize(at + c);
      bytes(out.data() + at, c, what, end);
    }
    return out;
  }
  /// Whether the header's sizes were checked against the bytes the stream holds (it told its size).
  bool sized() const { return sized_; }
  /// Bytes read so far (the header included).
  std::size_t pos() const { return pos_; }
  void checksum() {
    unsigned char b[8];
    in_.read(reinterpret_cast<char*>(b), 8);
    if (in_.gcount() != 8) fail("truncated at byte " + std::to_string(pos_ + static_cast<std::size_t>(in_.gcount())) + " (reading the checksum)");
    const std::uint64_t stored = get_u64(b);
    const std::uint64_t computed = sum_.value();
    if (stored != computed)
      fail("checksum mismatch: the file says " + std::to_string(stored) + ", its content gives " + std::to_string(computed));
  }

 private:
  static constexpr std::uint64_t unknown = std::numeric_limits<std::uint64_t>::max();
  /// Bytes left in the stream when it can tell (a file, a string), else `unknown`.
  std::uint64_t remaining() {
    const std::istream::pos_type here = in_.tellg();
    if (here == std::istream::pos_type(-1)) return unknown;
    in_.seekg(0, std::ios::end);
    const std::istream::pos_type end = in_.tellg();
    in_.seekg(here);
    if (end == std::istream::pos_type(-1) || !in_) {
      in_.clear();
      return unknown;
    }
    return static_cast<std::uint64_t>(end - here);
  }

  std::istream& in_;
  const char* who_;
  Checksum sum_;
  std::size_t pos_ = 0;
  bool sized_ = false;  // the header's sizes were checked against the bytes the stream holds
};

}  // namespace format
}  // namespace detail
}  // namespace octet
