// Packing B: every kernel's fast path (K::pack_b_panel) gives the generic element loops' bytes exactly, for both
// storage orders, strided inputs and every shape around the panel and k-group edges; unpack_b inverts pack_b.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <octet/octet.hpp>

#include "catch.hpp"
#include "helpers.hpp"

namespace {

using octet::detail::Index;
using octet::detail::Int8View;
using octet::detail::PackedBData;
using octet::detail::ceil_div;

/// B (k x n) in a buffer with `pad` unused bytes after every column (col_major) or row: a strided view.
struct Strided {
  std::vector<std::int8_t> bytes;
  Int8View view;
};

Strided strided(const octet::MatrixXi8& b, bool col_major, Index pad) {
  Strided s;
  const Index k = b.rows(), n = b.cols();
  const Index ld = (col_major ? k : n) + pad;
  s.bytes.assign(static_cast<std::size_t>(ld * (col_major ? n : k) + 1), 99);
  for (Index p = 0; p < k; ++p)
    for (Index j = 0; j < n; ++j) s.bytes[static_cast<std::size_t>(col_major ? j * ld + p : p * ld + j)] = b(p, j);
  s.view = col_major ? Int8View{s.bytes.data(), k, n, 1, ld} : Int8View{s.bytes.data(), k, n, ld, 1};
  return s;
}

/// B with random full-range values and the extremes -128 and 127 in its first and last positions.
octet::MatrixXi8 weights(Index k, Index n, std::uint32_t seed) {
  octet::MatrixXi8 b = octet_test::random_i8(k, n, seed);
  if (b.size() > 0) {
    b(0, 0) = -128;
    b(k - 1, n - 1) = 127;
    b(k - 1, 0) = -128;
    b(0, n - 1) = 127;
  }
  return b;
}

template <class K>
void check_kernel(const char* name) {
  using BE = typename K::BElem;
  const Index KG = K::KG, NR = K::NR;
  std::vector<Index> ks = {1, KG - 1, KG, KG + 1, 15, 16, 17, 63, 64, 65, 200};
  std::vector<Index> ns = {1, 15, 16, 17, 33, 100, NR - 1, NR, NR + 1, 2 * NR + 3};
  std::uint32_t seed = 1;
  for (Index k : ks)
    for (Index n : ns)
      for (bool col_major : {true, false})
        for (Index pad : {0, 5}) {
          if (k <= 0) continue;
          INFO(name << ": k=" << k << " n=" << n << (col_major ? " column-major" : " row-major") << " pad " << pad);
          const octet::MatrixXi8 b = weights(k, n, seed++);
          const Strided s = strided(b, col_major, pad);
          PackedBData fast, generic;
          octet::detail::pack_b<K>(s.view, fast);
          octet::detail::pack_b<K, false>(s.view, generic);
          REQUIRE(fast.data.size() == generic.data.size());
          CHECK(fast.kgroups == generic.kgroups);
          CHECK(fast.panel_elems == generic.panel_elems);
          CHECK(std::memcmp(fast.data.template as<char>(), generic.data.template as<char>(), fast.data.size()) == 0);
          CHECK(fast.correction == generic.correction);
          // The generic layout is the documented one: every element where packed_b_offset says, padding 0.
          std::vector<BE> expect(static_cast<std::size_t>(ceil_div(n, NR) * generic.panel_elems), BE(0));
          for (Index p = 0; p < k; ++p)
            for (Index j = 0; j < n; ++j)
              expect[static_cast<std::size_t>(octet::detail::packed_b_offset<K>(generic, p, j))] = K::pack_b(b(p, j));
          CHECK(std::memcmp(expect.data(), generic.data.template as<char>(), expect.size() * sizeof(BE)) == 0);
          if (K::shift_a)
            for (Index j = 0; j < n; ++j) CHECK(fast.correction[static_cast<std::size_t>(j)] == 128 * b.col(j).cast<int>().sum());
          octet::MatrixXi8 back(k, n);
          octet::detail::unpack_b<K>(fast, back.data());
          CHECK(back == b);
        }
  // Large enough to be shared among threads (k n >= 2^20), with partial panels and k-groups at the edges.
  for (int threads : {1, 2}) {
    octet_test::ThreadScope scope(threads);
    const Index k = 1027, n = 1029;
    const octet::MatrixXi8 b = weights(k, n, 77);
    for (bool col_major : {true, false}) {
      INFO(name << ": k=" << k << " n=" << n << (col_major ? " column-major" : " row-major") << ", threads " << threads);
      const Strided s = strided(b, col_major, 3);
      PackedBData fast, generic;
      octet::detail::pack_b<K>(s.view, fast);
      octet::detail::pack_b<K, false>(s.view, generic);
      CHECK(std::memcmp(fast.data.template as<char>(), generic.data.template as<char>(), fast.data.size()) == 0);
      CHECK(fast.correction == generic.correction);
      octet::MatrixXi8 back(k, n);
      octet::detail::unpack_b<K>(fast, back.data());
      CHECK(back == b);
    }
  }
}

}  // namespace

TEST_CASE("pack: fast packing equals the generic packing byte for byte, and unpack_b inverts it", "[pack]") {
  check_kernel<octet::detail::kernels::Scalar>("scalar");
#if defined(OCTET_ARCH_X86)
  // The x86 packers need AVX2 only (byte and word unpacks), so every x86 layout is checked where AVX2 runs, even
  // on a CPU that cannot run the VNNI kernels themselves.
  if (octet::detail::cpu_supports(octet::Isa::avx2)) {
    STATIC_REQUIRE(octet::detail::has_pack_b_panel<octet::detail::kernels::Avx2>::value);
    STATIC_REQUIRE(octet::detail::has_pack_b_panel<octet::detail::kernels::AvxVnni>::value);
    STATIC_REQUIRE(octet::detail::has_pack_b_panel<octet::detail::kernels::Avx512Vnni>::value);
    check_kernel<octet::detail::kernels::Avx2>("avx2");
    check_kernel<octet::detail::kernels::AvxVnni>("avxvnni");
    check_kernel<octet::detail::kernels::Avx512Vnni>("avx512vnni");
  }
#endif
#if defined(OCTET_ARCH_ARM64)
  check_kernel<octet::detail::kernels::Neon>("neon");
  if (octet::detail::cpu_supports(octet::Isa::neondot)) check_kernel<octet::detail::kernels::NeonDot>("neondot");
#endif
}

TEST_CASE("pack: PackedB from either storage order gives the same layout on every path", "[pack]") {
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    const octet::MatrixXi8 b = weights(300, 70, 5);
    const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> b_rm = b;
    const octet::PackedB col(b, isa), row(b_rm, isa);
    REQUIRE(col.bytes() == row.bytes());
    CHECK(std::memcmp(col.data().data.as<char>(), row.data().data.as<char>(), col.data().data.size()) == 0);
    CHECK(col.data().correction == row.data().correction);
    octet::MatrixXi32 c;
    octet::gemm_i8(b.transpose(), row, c);
    CHECK(c == octet_test::reference_product(b.transpose(), b));
  }
}

TEST_CASE("pack: LLMInt8Linear quantizes W a slice of columns at a time into the packed layout", "[pack]") {
  // n spans several slices of about 256 columns and ends in a partial panel; k ends in a partial k-group.
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(301, 1100);
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w_rm = w;
  const auto q = octet::quantize<octet::AbsMax, octet::PerColumn>(w);
  for (octet::Isa isa : octet::supported_isas())
    for (int threads : {1, 2}) {
      INFO("isa " << octet::isa_name(isa) << ", threads " << threads);
      octet_test::ThreadScope scope(threads);
      octet::LLMInt8Options o;
      o.isa = isa;
      const octet::LLMInt8Linear col(w, 6.0f, o), row(w_rm, 6.0f, o);
      CHECK(col.weight_codes() == q.codes);
      CHECK(row.weight_codes() == q.codes);
      CHECK(col.weight_step() == row.weight_step());
      CHECK(col.weight_step().isApprox(q.step));
      CHECK(std::memcmp(col.packed_weights().data().data.as<char>(), row.packed_weights().data().data.as<char>(),
                        col.packed_weights().data().data.size()) == 0);
    }
}

namespace {

/// A stream that cannot tell its size (tellg fails) and delivers its bytes in short reads of 4093, as a pipe
/// does: load reads the codes whole then, in chunks of its own.
struct PipeBuf : std::streambuf {
  explicit PipeBuf(std::string s) : bytes(std::move(s)) {}
  int_type underflow() override {
    if (at >= bytes.size()) return traits_type::eof();
    const std::size_t n = std::min<std::size_t>(4093, bytes.size() - at);
    setg(&bytes[at], &bytes[at], &bytes[at] + n);
    at += n;
    return traits_type::to_int_type(*gptr());
  }
  std::string bytes;
  std::size_t at = 0;
};

}  // namespace

TEST_CASE("pack: load packs the codes as it reads them, a slice at a time, bit for bit on every path", "[pack]") {
  // k n > 1 MiB: several slices, the last one partial and ending in a partial panel.
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(1100, 1003);
  const octet::LLMInt8Linear layer(w);
  std::stringstream saved;
  layer.save(saved);
  const std::string bytes = saved.str();
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(5, 1100);
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    std::istringstream in(bytes);
    const octet::LLMInt8Linear back = octet::LLMInt8Linear::load(in, isa);
    CHECK(back.isa() == isa);
    CHECK(back.weight_codes() == layer.weight_codes());
    CHECK(back.weight_step() == layer.weight_step());
    octet::LLMInt8Options o;
    o.isa = isa;
    const octet::LLMInt8Linear rebuilt(w, 6.0f, o);
    CHECK(std::memcmp(back.packed_weights().data().data.as<char>(), rebuilt.packed_weights().data().data.as<char>(),
                      back.packed_weights().bytes() - back.packed_weights().data().correction.size() * 4) == 0);
    CHECK(back.packed_weights().data().correction == rebuilt.packed_weights().data().correction);
    const Eigen::MatrixXf y = back(x), y_ref = rebuilt(x);
    CHECK(std::memcmp(y.data(), y_ref.data(), sizeof(float) * static_cast<std::size_t>(y.size())) == 0);
    PipeBuf pipe(bytes);
    std::istream piped(&pipe);
    const octet::LLMInt8Linear from_pipe = octet::LLMInt8Linear::load(piped, isa);
    CHECK(from_pipe.weight_codes() == layer.weight_codes());
  }
  // Truncated in the middle of the codes: a stream that tells its size is refused from the header, one that
  // cannot (read whole) says where it ends; a flipped code byte fails the checksum.
  const std::size_t cut = 48 + 4 * 1003 + 1100 * 1003 * 3 / 4;
  std::istringstream truncated(bytes.substr(0, cut));
  CHECK_THROWS_WITH(octet::LLMInt8Linear::load(truncated), Catch::Contains("need"));
  PipeBuf truncated_pipe(bytes.substr(0, cut));
  std::istream piped(&truncated_pipe);
  // The codes are read in chunks; the message names where the field ends, not where the chunk did.
  const std::size_t codes_end = 48 + 4 * 1003 + 1100 * 1003;
  CHECK_THROWS_WITH(octet::LLMInt8Linear::load(piped),
                    Catch::Contains("truncated at byte " + std::to_string(cut) + " (reading the codes, which ends at byte " +
                                    std::to_string(codes_end) + ")"));
  std::string flipped = bytes;
  flipped[cut] ^= 0x01;
  std::istringstream bad(flipped);
  CHECK_THROWS_WITH(octet::LLMInt8Linear::load(bad), Catch::Contains("checksum mismatch"));
}
