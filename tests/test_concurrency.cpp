// Concurrency: several user threads calling octet at once, each also using octet's own threads inside.
// Run under ThreadSanitizer by the tsan preset (CMakePresets.json), which selects the tests named
// "concurrency: ..."; they also run in every other preset. Public API only.
//
// Checks run on the main thread after the workers have joined (Catch2's assertions are not thread-safe).
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <octet/kernels/reference.hpp>
#include <octet/octet.hpp>

#include "catch.hpp"

namespace {

using Eigen::Index;
using Eigen::MatrixXf;

MatrixXf normal_matrix(Index rows, Index cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  MatrixXf m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = dist(gen);
  return m;
}

octet::MatrixXi8 int8_matrix(Index rows, Index cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  octet::MatrixXi8 m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<std::int8_t>(dist(gen));
  return m;
}

bool bit_identical(const MatrixXf& a, const MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0);
}

/// Activations with a few outlier columns that differ between callers.
MatrixXf activations(Index m, Index k, std::uint32_t seed) {
  MatrixXf x = normal_matrix(m, k, seed);
  x.col(static_cast<Index>(seed % static_cast<std::uint32_t>(k))) *= 20.0f;
  x.col(static_cast<Index>((seed * 7 + 3) % static_cast<std::uint32_t>(k))) *= 9.0f;
  return x;
}

/// Starts `n` threads running body(t) together (each waits until all have started) and joins them.
/// Exceptions thrown by a body are returned as messages, one per thread (empty when none).
template <class Body>
std::vector<std::string> run_together(int n, Body body) {
  std::atomic<int> waiting{n};
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      waiting.fetch_sub(1);
      while (waiting.load() > 0) std::this_thread::yield();
      try {
        body(t);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  return errors;
}

void check_no_errors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) CHECK(e.empty());
}

struct ThreadCount {  // restores the default thread count when the test ends
  explicit ThreadCount(int n) { octet::set_num_threads(n); }
  ~ThreadCount() { octet::set_num_threads(0); }
};

}  // namespace

TEST_CASE("concurrency: const calls of one LLMInt8Linear from several threads equal single-threaded calls",
          "[concurrency]") {
  constexpr int callers = 4;
  const Index k = 160, n = 72;
  const MatrixXf w = normal_matrix(k, n, 11);
  for (octet::Isa isa : octet::supported_isas()) {
    CAPTURE(static_cast<int>(isa));
    for (octet::OutlierWeights ow : {octet::OutlierWeights::dequantized_int8, octet::OutlierWeights::float32}) {
      octet::LLMInt8Options options;
      options.isa = isa;
      options.outlier_weights = ow;
      const octet::LLMInt8Linear layer(w, 6.0f, options);
      std::vector<MatrixXf> xs, expect;
      {
        ThreadCount one(1);
        for (int t = 0; t < callers; ++t) {
          xs.push_back(activations(17 + 23 * t, k, 100 + static_cast<std::uint32_t>(t)));  // m from 17 to 86
          expect.push_back(layer(xs.back()));
        }
      }
      std::vector<std::vector<MatrixXf>> got(callers);
      check_no_errors(run_together(callers, [&](int t) {
        const auto u = static_cast<std::size_t>(t);
        octet::set_num_threads(2);  // octet's own threads inside each caller
        for (int rep = 0; rep < 3; ++rep) got[u].push_back(layer(xs[u]));
      }));
      octet::set_num_threads(0);
      for (std::size_t t = 0; t < callers; ++t) {
        REQUIRE(got[t].size() == 3);
        for (const MatrixXf& y : got[t]) CHECK(bit_identical(y, expect[t]));
      }
    }
  }
}

TEST_CASE("concurrency: gemm_i8 on one PackedB and the pure functions from several threads", "[concurrency]") {
  constexpr int callers = 3;
  const octet::MatrixXi8 b = int8_matrix(300, 70, 21);
  const MatrixXf w = normal_matrix(96, 40, 22);
  std::vector<octet::MatrixXi8> as;
  std::vector<MatrixXf> xs;
  for (int t = 0; t < callers; ++t) {
    as.push_back(int8_matrix(5 + 40 * t, 300, 30 + static_cast<std::uint32_t>(t)));
    xs.push_back(activations(9 + 13 * t, 96, 40 + static_cast<std::uint32_t>(t)));
  }
  for (octet::Isa isa : octet::supported_isas()) {
    CAPTURE(static_cast<int>(isa));
    const octet::PackedB pb(b, isa);
    std::vector<octet::MatrixXi32> expect_c;
    std::vector<MatrixXf> expect_llm, expect_vw;
    {
      ThreadCount one(1);
      for (int t = 0; t < callers; ++t) {
        expect_c.push_back(octet::gemm_i8(as[static_cast<std::size_t>(t)], pb));
        expect_llm.push_back(octet::matmul_llm_int8(xs[static_cast<std::size_t>(t)], w));
        expect_vw.push_back(octet::matmul_vectorwise(xs[static_cast<std::size_t>(t)], w));
      }
    }
    std::vector<octet::MatrixXi32> got_c(callers);
    std::vector<MatrixXf> got_llm(callers), got_vw(callers), got_q(callers);
    check_no_errors(run_together(callers, [&](int t) {
      const auto u = static_cast<std::size_t>(t);
      octet::set_num_threads(2);
      got_c[u] = octet::gemm_i8(as[u], pb);
      got_llm[u] = octet::matmul_llm_int8(xs[u], w);
      got_vw[u] = octet::matmul_vectorwise(xs[u], w);
      got_q[u] = octet::quantize<octet::ZeroPoint, octet::PerRow>(xs[u]).dequantize();
    }));
    octet::set_num_threads(0);
    for (std::size_t t = 0; t < callers; ++t) {
      CHECK(got_c[t] == expect_c[t]);
      CHECK(bit_identical(got_llm[t], expect_llm[t]));
      CHECK(bit_identical(got_vw[t], expect_vw[t]));
      CHECK(bit_identical(got_q[t], octet::quantize<octet::ZeroPoint, octet::PerRow>(xs[t]).dequantize()));
    }
  }
}

TEST_CASE("concurrency: const calls on one layer, different outlier columns per caller, repeated", "[concurrency]") {
  const MatrixXf w = normal_matrix(512, 200, 1201);
  const octet::LLMInt8Linear layer(w);
  std::vector<MatrixXf> xs, expect, got(6);
  for (std::uint32_t t = 0; t < 6; ++t) {
    MatrixXf x = normal_matrix(40 + 7 * Index(t), 512, 1300 + t);
    x.col(Index(t) * 50) *= 30.0f;  // different outlier columns per caller
    xs.push_back(x);
    expect.push_back(layer(x));
  }
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < 6; ++t)
    pool.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) got[t] = layer(xs[t]);
    });
  for (auto& th : pool) th.join();
  for (std::size_t t = 0; t < 6; ++t) CHECK(bit_identical(got[t], expect[t]));
}

// Large enough that every pass of a call (outlier scan, row quantization, packing of A, GEMM tiles) is split
// between octet's threads, while two callers do this at once.
TEST_CASE("concurrency: large calls with every pass threaded from two threads at once", "[concurrency]") {
  constexpr int callers = 2;
  const Index m = 1024, k = 1024, n = 40;
  const MatrixXf w = normal_matrix(k, n, 61);
  const octet::LLMInt8Linear layer(w);
  std::vector<MatrixXf> xs, expect;
  {
    ThreadCount one(1);
    for (int t = 0; t < callers; ++t) {
      xs.push_back(activations(m, k, 70 + static_cast<std::uint32_t>(t)));
      expect.push_back(layer(xs.back()));
    }
  }
  std::vector<MatrixXf> got(callers);
  check_no_errors(run_together(callers, [&](int t) {
    octet::set_num_threads(2);
    got[static_cast<std::size_t>(t)] = layer(xs[static_cast<std::size_t>(t)]);
  }));
  octet::set_num_threads(0);
  for (std::size_t t = 0; t < callers; ++t) CHECK(bit_identical(got[t], expect[t]));
}

// CTest runs every test case in a process of its own, so this is the process's first use of octet: the ISA
// detection, the OCTET_ISA lookup and every other lazily initialised state are reached by several threads at once.
TEST_CASE("concurrency: first use from several threads at once", "[concurrency]") {
  constexpr int callers = 4;
  const octet::MatrixXi8 a = int8_matrix(33, 200, 51), b = int8_matrix(200, 45, 52);
  const MatrixXf x = activations(20, 64, 53), w = normal_matrix(64, 30, 54);
  std::vector<std::string> isa(callers);
  std::vector<std::size_t> paths(callers);
  std::vector<octet::MatrixXi32> c(callers);
  std::vector<MatrixXf> y(callers), z(callers);
  check_no_errors(run_together(callers, [&](int t) {
    const auto u = static_cast<std::size_t>(t);
    octet::set_num_threads(2);
    switch (t % 4) {  // each thread reaches octet through a different first call
      case 0: isa[u] = octet::active_isa(); break;
      case 1: paths[u] = octet::supported_isas().size(); break;
      case 2: c[u] = octet::gemm_i8(a, b); break;
      default: y[u] = octet::LLMInt8Linear(w)(x); break;
    }
    if (isa[u].empty()) isa[u] = octet::active_isa();
    if (paths[u] == 0) paths[u] = octet::supported_isas().size();
    if (c[u].size() == 0) c[u] = octet::gemm_i8(a, b);
    if (y[u].size() == 0) y[u] = octet::LLMInt8Linear(w)(x);
    z[u] = octet::matmul_llm_int8(x, w);
  }));
  octet::set_num_threads(0);
  octet::MatrixXi32 expect_c(a.rows(), b.cols());
  octet::reference::gemm_i8(a.rows(), b.cols(), a.cols(), a.data(), 1, a.rows(), b.data(), 1, b.rows(),
                            expect_c.data(), 1, expect_c.rows());
  const MatrixXf expect_y = octet::LLMInt8Linear(w)(x), expect_z = octet::matmul_llm_int8(x, w);
  for (std::size_t t = 0; t < callers; ++t) {
    CHECK(isa[t] == octet::active_isa());
    CHECK(paths[t] == octet::supported_isas().size());
    CHECK(c[t] == expect_c);
    CHECK(bit_identical(y[t], expect_y));
    CHECK(bit_identical(z[t], expect_z));
  }
}
