// A GGUF (version 3) reader for what a llama.cpp model file of a small Llama holds: the metadata (every value
// type), and tensors in F32, F16, Q8_0 and Q4_1, dequantized to float at load. Any other tensor type is an error
// that names the tensor and its type. The layout (ggml's docs/gguf.md): "GGUF", u32 version, u64 tensor count,
// u64 metadata count; the metadata as (string key, u32 type, value); per tensor (string name, u32 dims,
// u64 ne[dims], u32 type, u64 offset); then, aligned to general.alignment (default 32), the tensor data.
// ne[0] is the fastest-varying dimension: a linear layer's weight with ne = {in, out} is row-major out x in.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gguf {

/// One metadata value: numbers as double (and as integer), strings, and arrays of them.
struct Value {
  enum Kind { number, string, array } kind = number;
  double num = 0;
  std::int64_t integer = 0;
  std::string str;
  std::vector<Value> items;
};

struct Tensor {
  std::string name;
  std::vector<std::uint64_t> ne;  ///< dimensions, fastest first
  std::uint32_t type = 0;
  std::uint64_t offset = 0;       ///< from the start of the data section
  std::uint64_t elements() const {
    std::uint64_t n = 1;
    for (std::uint64_t d : ne) n *= d;
    return n;
  }
};

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: value = mant * 2^-24
      float f = float(mant) * (1.0f / 16777216.0f);
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

class File {
 public:
  explicit File(const std::string& path) : path_(path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("cannot open '" + path + "'");
    data_.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char*>(data_.data()), static_cast<std::streamsize>(data_.size())))
      throw std::runtime_error("reading '" + path + "' failed");
    if (data_.size() < 24 || std::memcmp(data_.data(), "GGUF", 4) != 0)
      throw std::runtime_error("'" + path + "' is not a GGUF file (no GGUF magic)");
    pos_ = 4;
    const auto version = u32();
    if (version != 3) throw std::runtime_error("'" + path + "': GGUF version " + std::to_string(version) + " (this reader knows 3)");
    const std::uint64_t n_tensors = u64(), n_kv = u64();
    if (n_tensors > data_.size() / 16 || n_kv > data_.size() / 16) fail("tensor or metadata count larger than the file");
    for (std::uint64_t i = 0; i < n_kv; ++i) {
      std::string key = str();
      meta_[key] = value(u32(), 0);
    }
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
      Tensor t;
      t.name = str();
      const auto dims = u32();
      if (dims > 4) fail("tensor '" + t.name + "' has " + std::to_string(dims) + " dimensions");
      for (std::uint32_t d = 0; d < dims; ++d) t.ne.push_back(u64());
      t.type = u32();
      t.offset = u64();
      tensors_[t.name] = t;
    }
    const std::uint64_t align = has("general.alignment") ? std::uint64_t(get("general.alignment").integer) : 32;
    if (align == 0) fail("general.alignment is 0");
    data_start_ = (pos_ + align - 1) / align * align;
  }

  bool has(const std::string& key) const { return meta_.count(key) != 0; }
  const Value& get(const std::string& key) const {
    auto it = meta_.find(key);
    if (it == meta_.end()) throw std::runtime_error("'" + path_ + "' has no metadata '" + key + "'");
    return it->second;
  }
  const std::map<std::string, Value>& metadata() const { return meta_; }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

  /// The tensor as floats (row-major in the order of ne: element i0 + ne0 * (i1 + ne1 * ...)), checked to have
  /// the expected dimensions.
  std::vector<float> floats(const std::string& name, const std::vector<std::uint64_t>& expect_ne) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::runtime_error("'" + path_ + "' has no tensor '" + name + "'");
    const Tensor& t = it->second;
    if (t.ne != expect_ne) throw std::runtime_error("tensor '" + name + "' has dimensions " + dims(t.ne) + ", expected " + dims(expect_ne));
    const std::uint64_t n = t.elements();
    std::uint64_t bytes = 0;
    switch (t.type) {
      case 0: bytes = 4 * n; break;                  // F32
      case 1: bytes = 2 * n; break;                  // F16
      case 3: bytes = n / 32 * 20; break;            // Q4_1: f16 d, f16 m, 16 bytes of nibbles per 32 values
      case 8: bytes = n / 32 * 34; break;            // Q8_0: f16 d, 32 int8 per 32 values
      default:
        throw std::runtime_error("tensor '" + name + "' has ggml type " + std::to_string(t.type) +
                                 ": this reader dequantizes F32 (0), F16 (1), Q4_1 (3) and Q8_0 (8) only");
    }
    if ((t.type == 3 || t.type == 8) && n % 32 != 0) throw std::runtime_error("tensor '" + name + "': not a whole number of 32-value blocks");
    if (data_start_ + t.offset + bytes > data_.size() || t.offset > data_.size())
      throw std::runtime_error("tensor '" + name + "' runs past the end of '" + path_ + "' (truncated file?)");
    const unsigned char* p = data_.data() + data_start_ + t.offset;
    std::vector<float> out(n);
    const auto h = [](const unsigned char* q) { std::uint16_t v; std::memcpy(&v, q, 2); return half_to_float(v); };
    if (t.type == 0) {
      std::memcpy(out.data(), p, bytes);
    } else if (t.type == 1) {
      for (std::uint64_t i = 0; i < n; ++i) out[i] = h(p + 2 * i);
    } else if (t.type == 3) {
      for (std::uint64_t b = 0; b < n / 32; ++b, p += 20) {
        const float d = h(p), m = h(p + 2);
        for (int j = 0; j < 16; ++j) {
          out[32 * b + j] = float(p[4 + j] & 0x0f) * d + m;
          out[32 * b + 16 + j] = float(p[4 + j] >> 4) * d + m;
        }
      }
    } else {
      for (std::uint64_t b = 0; b < n / 32; ++b, p += 34) {
        const float d = h(p);
        for (int j = 0; j < 32; ++j) out[32 * b + j] = float(static_cast<std::int8_t>(p[2 + j])) * d;
      }
    }
    return out;
  }

  static std::string dims(const std::vector<std::uint64_t>& ne) {
    std::string s = "[";
    for (std::size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("'" + path_ + "': " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  void need(std::uint64_t n) const {
    if (n > data_.size() - pos_) fail("truncated");
  }
  template <class T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::uint32_t u32() { return pod<std::uint32_t>(); }
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  std::string str() {
    const std::uint64_t n = u64();
    need(n);
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  Value value(std::uint32_t type, int depth) {
    Value v;
    switch (type) {
      case 0: v.integer = pod<std::uint8_t>(); break;
      case 1: v.integer = pod<std::int8_t>(); break;
      case 2: v.integer = pod<std::uint16_t>(); break;
      case 3: v.integer = pod<std::int16_t>(); break;
      case 4: v.integer = pod<std::uint32_t>(); break;
      case 5: v.integer = pod<std::int32_t>(); break;
      case 6: v.num = pod<float>(); v.integer = std::int64_t(v.num); return v;
      case 7: v.integer = pod<std::uint8_t>() != 0; break;
      case 8: v.kind = Value::string; v.str = str(); return v;
      case 9: {
        if (depth > 2) fail("arrays nested too deep");
        v.kind = Value::array;
        const std::uint32_t item_type = u32();
        const std::uint64_t n = u64();
        if (n > data_.size() - pos_) fail("array longer than the file");
        v.items.reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) v.items.push_back(value(item_type, depth + 1));
        return v;
      }
      case 10: v.integer = std::int64_t(pod<std::uint64_t>()); break;
      case 11: v.integer = pod<std::int64_t>(); break;
      case 12: v.num = pod<double>(); v.integer = std::int64_t(v.num); return v;
      default: fail("unknown metadata value type " + std::to_string(type));
    }
    v.num = double(v.integer);
    return v;
  }

  std::string path_;
  std::vector<unsigned char> data_;
  std::uint64_t pos_ = 0, data_start_ = 0;
  std::map<std::string, Value> meta_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace gguf
