// libFuzzer target for LLMInt8Linear::load (docs/format.md): any byte string either loads or is a
// std::runtime_error; nothing else may escape, crash or trip a sanitizer. A layer that loads must save back to
// exactly the bytes it was read from. Half the inputs get a correct checksum patched in, so that mutations reach
// the checks behind it (shapes, flags, values) instead of stopping at the checksum.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

#include <octet/octet.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size > 8 && (data[size - 1] & 1)) {
    octet::detail::format::Checksum sum;
    sum.add(reinterpret_cast<const unsigned char*>(bytes.data()), size - 8);
    octet::detail::format::put_u64(reinterpret_cast<unsigned char*>(&bytes[size - 8]), sum.value());
  }
  std::stringstream in(bytes);
  octet::LLMInt8Linear layer;
  try {
    layer = octet::LLMInt8Linear::load(in, octet::Isa::scalar);
  } catch (const std::runtime_error&) {
    return 0;  // a bad file, reported as documented
  }
  std::stringstream out;
  layer.save(out);
  const auto consumed = static_cast<std::size_t>(in.tellg() == std::streampos(-1) ? bytes.size() : std::size_t(in.tellg()));
  if (out.str() != bytes.substr(0, consumed)) {  // load reads one layer; the rest of the stream is not its
    std::fprintf(stderr, "fuzz_load: a loaded layer does not save back to its own bytes\n");
    std::abort();
  }
  const Eigen::MatrixXf x = Eigen::MatrixXf::Ones(2, layer.in_features());
  const Eigen::MatrixXf y = layer(x);
  if (y.rows() != 2 || y.cols() != layer.out_features()) std::abort();
  return 0;
}
