// The Intel AMX path (kernels/x86/amx.hpp): exact products through tiles on shapes around the tile edges (16,
// 32, 64), worst-case values, and the LLM.int8() layer bit-identical to the scalar path. Runs on real AMX, or on
// any x86 machine with OCTET_EMULATE_AMX (the tile emulator); elsewhere the path must be refused.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <vector>

#include <octet/octet.hpp>

#include "catch.hpp"
#include "helpers.hpp"

namespace {

using Eigen::Index;
using octet::Isa;

bool amx_offered() {
  for (Isa isa : octet::supported_isas())
    if (isa == Isa::amx) return true;
  return false;
}

Eigen::MatrixXf random_f(Index rows, Index cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Eigen::MatrixXf m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = dist(gen);
  return m;
}

bool same_bits(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

}  // namespace

TEST_CASE("amx: the path is offered exactly where the CPU (or the emulator) has it", "[amx]") {
  const octet::MatrixXi8 b = octet_test::random_i8(8, 8, 1);
  if (amx_offered()) {
    CHECK(octet::PackedB(b, Isa::amx).isa() == Isa::amx);
    CHECK(std::string(octet::isa_name(Isa::amx)) == "amx");
    CHECK(octet::detail::parse_isa("amx") == Isa::amx);
  } else {
    CHECK_THROWS_AS(octet::PackedB(b, Isa::amx), std::invalid_argument);
  }
}

TEST_CASE("amx: gemm_i8 through PackedB equals the int64 reference around the tile edges", "[amx]") {
  if (!amx_offered()) return;  // the case above checks the refusal
  std::uint32_t seed = 1600;
  for (Index m : {1, 15, 16, 17, 31, 32, 33, 70})
    for (Index k : {1, 4, 63, 64, 65, 130})
      for (Index n : {1, 16, 17, 32, 33, 70}) {
        const octet::MatrixXi8 a = octet_test::random_i8(m, k, seed++), b = octet_test::random_i8(k, n, seed++);
        const octet::MatrixXi32 want = octet_test::reference_product(a, b);
        const octet::PackedB pb(b, Isa::amx);
        INFO("m=" << m << " k=" << k << " n=" << n);
        CHECK(octet::gemm_i8(a, pb) == want);
        octet::MatrixXi32 into(m, n);  // into the caller's matrix
        octet::gemm_i8(a, pb, into);
        CHECK(into == want);
        const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a_rm = a;  // row-major A
        CHECK(octet::gemm_i8(a_rm, pb) == want);
      }
}

TEST_CASE("amx: worst-case values, deep k, many rows, 1 and 2 threads", "[amx]") {
  if (!amx_offered()) return;
  // m = 200 > 6 panels of 32: the KC-blocked order; k = 1100 > KC = 1024: accumulation across depth blocks.
  const Index m = 200, k = 1100, n = 45;
  for (int pattern = 0; pattern < 4; ++pattern) {
    octet::MatrixXi8 a(m, k), b(k, n);
    for (Index j = 0; j < k; ++j)
      for (Index i = 0; i < m; ++i) a(i, j) = pattern == 1 ? 127 : pattern == 2 ? ((i + j) % 2 ? 127 : -128) : -128;
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < k; ++i) b(i, j) = pattern == 0 ? -128 : pattern == 3 ? 127 : ((i + j) % 2 ? -128 : 127);
    const octet::MatrixXi32 want = octet_test::reference_product(a, b);
    const octet::PackedB pb(b, Isa::amx);
    for (int threads : {1, 2}) {
      octet_test::ThreadScope scope(threads);
      INFO("pattern " << pattern << " threads " << threads);
      CHECK(octet::gemm_i8(a, pb) == want);
    }
  }
}

TEST_CASE("amx: LLMInt8Linear is bit-identical to the scalar path", "[amx]") {
  if (!amx_offered()) return;
  std::uint32_t seed = 1700;
  for (Index g : {0, 32, 64, 128})
    for (Index k : {63, 200, 1100}) {
      const Index n = 37;
      Eigen::MatrixXf x = random_f(200, k, seed++), w = random_f(k, n, seed++) * 0.05f;  // 200 rows: KC-blocked
      x.col(3) *= 30.0f;  // an outlier column
      octet::LLMInt8Options base;
      base.block_size = g;
      base.bias = random_f(n, 1, seed++);
      base.isa = Isa::scalar;
      octet::LLMInt8Options o = base;
      o.isa = Isa::amx;
      const octet::LLMInt8Linear want_layer(w, 6.0f, base), layer(w, 6.0f, o);
      CHECK(layer.isa() == Isa::amx);
      for (Index m : {1, 17, 200}) {
        const Eigen::MatrixXf want = want_layer(x.topRows(m));
        for (int threads : {1, 2}) {
          octet_test::ThreadScope scope(threads);
          INFO("g=" << g << " k=" << k << " m=" << m << " threads=" << threads);
          CHECK(same_bits(layer(x.topRows(m)), want));
          Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> y16(m, n), want16(m, n);
          layer.forward(x.topRows(m), y16);
          want_layer.forward(x.topRows(m), want16);
          CHECK(std::memcmp(y16.data(), want16.data(), sizeof(Eigen::bfloat16) * static_cast<std::size_t>(m * n)) == 0);
        }
      }
      // A file saved from the amx layer loads on the scalar path (and back) with the same results.
      std::stringstream file;
      layer.save(file);
      const octet::LLMInt8Linear loaded = octet::LLMInt8Linear::load(file, Isa::scalar);
      CHECK(same_bits(loaded(x), want_layer(x)));
      std::stringstream file2;
      want_layer.save(file2);
      CHECK(file2.str() == file.str());
      CHECK(same_bits(octet::LLMInt8Linear::load(file2, Isa::amx)(x), want_layer(x)));
    }
}
