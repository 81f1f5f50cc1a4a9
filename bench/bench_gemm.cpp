// The int8 GEMM benchmark: octet on every kernel path this CPU runs, side by side in one run with Eigen's
// float GEMM and (when built with oneDNN, OCTET_HAVE_DNNL) oneDNN's s8 x s8 -> s32 matmul.
//
//   bench_gemm                                   # everything (about 5-10 minutes)
//   bench_gemm --benchmark_filter='m:128/'       # one shape
//   bench_gemm --benchmark_filter='octet_avx512vnni/.*threads:1'
//
// Names are gemm/<library>/m:<m>/k:<k>/n:<n>/threads:<t>; packing the weights is pack/<isa>/<order>/k:<k>/n:<n>/
// threads:<t> (PackedB from an int8 matrix of that storage order, fresh memory every time as when a model loads;
// the "bytes_per_second" counter is input bytes, k n, per second). GOPS = 2 m n k per second (a counter; the console
// shows it as "<value>/s" in units of 10^9). Every case is repeated (3 or 5 times) and the median counts; the
// table printed at the end holds the medians and the ratios of octet's best path to oneDNN and to Eigen.
//
// What is timed, per library:
//   octet   gemm_i8(A, PackedB): A (column-major int8) packed per call, B packed once outside the loop,
//           the result written to a column-major int32 Eigen matrix.
//   oneDNN  a matmul primitive for exactly this shape, weights declared with format_tag::any and reordered
//           once outside the loop (as an inference engine does); A and C row-major.
//   Eigen   C.noalias() = A * B on float matrices, Eigen's own threads set to the same count.
//   Eigen native: the same product from Eigen compiled with -march=native (bench/eigen_native.hpp), the
//           baseline for users who build Eigen for their machine (the Eigen above is SSE2-only, like
//           every translation unit built without -m flags).
// Threads: "threads:1" really is one thread for all three (octet::set_num_threads, Eigen::setNbThreads and,
// for oneDNN's OpenMP runtime, omp_set_num_threads). Pin single-thread runs for stable figures:
//   taskset -c 1 bench_gemm --benchmark_filter='threads:1'
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include <benchmark/benchmark.h>
#include "bench_common.hpp"
#include <Eigen/Core>

#if OCTET_HAVE_EIGEN_NATIVE
#include "eigen_native.hpp"
#endif
#include <octet/gemm.hpp>

#if defined(_OPENMP)
#  include <omp.h>
#endif
#if OCTET_HAVE_DNNL
#  include <dnnl.hpp>
#endif

namespace {

struct Shape {
  long m, k, n;
};

double ops(const Shape& s) { return 2.0 * double(s.m) * double(s.n) * double(s.k); }

using octet_bench::set_all_threads;

octet::MatrixXi8 random_i8(long rows, long cols, unsigned seed) {
  std::mt19937 gen(seed);
  octet::MatrixXi8 x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<std::int8_t>(gen() & 0xFF);
  return x;
}

/// The operands of one shape, made once and shared by every library's benchmark of that shape.
struct Operands {
  octet::MatrixXi8 a, b;
};

const Operands& operands(const Shape& s) {
  static std::map<std::tuple<long, long, long>, std::unique_ptr<Operands>> cache;
  auto& slot = cache[{s.m, s.k, s.n}];
  if (!slot) {
    slot = std::make_unique<Operands>();
    slot->a = random_i8(s.m, s.k, static_cast<unsigned>(s.m * 31 + s.k));
    slot->b = random_i8(s.k, s.n, static_cast<unsigned>(s.k * 17 + s.n));
  }
  return *slot;
}

void set_gops(benchmark::State& state, const Shape& s) {
  state.counters["GOPS"] = benchmark::Counter(ops(s) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_octet(benchmark::State& state, Shape s, octet::Isa isa, int threads) {
  set_all_threads(threads);
  const Operands& in = operands(s);
  const octet::PackedB pb(in.b, isa);
  octet::MatrixXi32 c = octet::gemm_i8(in.a, pb);  // warm up: buffers, thread pool
  for (auto _ : state) {
    c = octet::gemm_i8(in.a, pb);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, s);
}

/// PackedB from a k x n int8 B of the given storage order (the weights of one layer, packed once).
template <int Order>
void bench_pack(benchmark::State& state, long k, long n, octet::Isa isa, int threads) {
  set_all_threads(threads);
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Order> b = operands(Shape{1, k, n}).b;
  { const octet::PackedB warm(b, isa); }  // the thread pool
  for (auto _ : state) {
    octet::PackedB pb(b, isa);
    benchmark::DoNotOptimize(pb.data().data.as<char>());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * k * n);
}

void bench_eigen(benchmark::State& state, Shape s, int threads) {
  set_all_threads(threads);
  const Operands& in = operands(s);
  const Eigen::MatrixXf a = in.a.cast<float>(), b = in.b.cast<float>();
  Eigen::MatrixXf c(s.m, s.n);
  c.noalias() = a * b;
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, s);
}

#if OCTET_HAVE_EIGEN_NATIVE
void bench_eigen_native(benchmark::State& state, Shape s, int threads) {
  set_all_threads(threads);
  const Operands& in = operands(s);
  const Eigen::MatrixXf a = in.a.cast<float>(), b = in.b.cast<float>();
  Eigen::MatrixXf c(s.m, s.n);
  octet_bench_eigen_native_gemm(s.m, s.n, s.k, a.data(), b.data(), c.data(), threads);
  for (auto _ : state) {
    octet_bench_eigen_native_gemm(s.m, s.n, s.k, a.data(), b.data(), c.data(), threads);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, s);
}
#endif

#if OCTET_HAVE_DNNL
void bench_onednn(benchmark::State& state, Shape s, int threads) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  set_all_threads(threads);
  const Operands& in = operands(s);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::desc a_md({s.m, s.k}, dt::s8, tag::ab);
  const memory::desc b_any({s.k, s.n}, dt::s8, tag::any);
  const memory::desc b_plain({s.k, s.n}, dt::s8, tag::ab);
  const memory::desc c_md({s.m, s.n}, dt::s32, tag::ab);
  const matmul::primitive_desc pd(matmul::desc(a_md, b_any, c_md), eng);
  const matmul prim(pd);

  // Row-major copies of the operands (Eigen's are column-major).
  std::vector<std::int8_t> a_rm(static_cast<std::size_t>(s.m * s.k)), b_rm(static_cast<std::size_t>(s.k * s.n));
  for (long i = 0; i < s.m; ++i)
    for (long p = 0; p < s.k; ++p) a_rm[static_cast<std::size_t>(i * s.k + p)] = in.a(i, p);
  for (long p = 0; p < s.k; ++p)
    for (long j = 0; j < s.n; ++j) b_rm[static_cast<std::size_t>(p * s.n + j)] = in.b(p, j);
  memory a_mem(a_md, eng, a_rm.data());
  memory b_user(b_plain, eng, b_rm.data());
  memory b_mem(pd.weights_desc(), eng);
  reorder(b_user, b_mem).execute(strm, b_user, b_mem);  // once, outside the timed loop
  memory c_mem(c_md, eng);
  const std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}};
  prim.execute(strm, args);
  strm.wait();
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
    benchmark::ClobberMemory();
  }
  set_gops(state, s);
}
#endif

std::string name(const char* library, const Shape& s, int threads) {
  return std::string("gemm/") + library + "/m:" + std::to_string(s.m) + "/k:" + std::to_string(s.k) +
         "/n:" + std::to_string(s.n) + "/threads:" + std::to_string(threads);
}

/// Prints the usual console output, and keeps the median GOPS of every case for the closing table.
using octet_bench::TableReporter;

void print_table(const TableReporter& rep, const std::vector<Shape>& shapes, const std::vector<int>& thread_counts,
                 const std::vector<octet::Isa>& isas) {
  std::printf("\nMedian GOPS (2mnk/s / 1e9); ratio = octet's best path / other library\n");
  std::printf("%-24s %3s", "shape m x k x n", "thr");
  for (octet::Isa isa : isas) std::printf(" %11s", octet::isa_name(isa));
  std::printf(" %9s %9s %9s %10s %10s %10s\n", "oneDNN", "Eigen f32", "Eigen nat", "vs oneDNN", "vs Eigen",
              "vs Eig nat");
  for (const Shape& s : shapes)
    for (int t : thread_counts) {
      const auto get = [&](const char* lib) {
        const auto it = rep.medians.find(name(lib, s, t));
        return it == rep.medians.end() ? 0.0 : it->second;
      };
      const std::string label = std::to_string(s.m) + " x " + std::to_string(s.k) + " x " + std::to_string(s.n);
      std::printf("%-24s %3d", label.c_str(), t);
      double best = 0;
      for (octet::Isa isa : isas) {
        const double g = get((std::string("octet_") + octet::isa_name(isa)).c_str());
        best = std::max(best, g);
        if (g > 0) std::printf(" %11.1f", g); else std::printf(" %11s", "-");
      }
      const double dnnl = get("onednn"), eig = get("eigen_f32"), nat = get("eigen_native");
      if (dnnl > 0) std::printf(" %9.1f", dnnl); else std::printf(" %9s", "-");
      if (eig > 0) std::printf(" %9.1f", eig); else std::printf(" %9s", "-");
      if (nat > 0) std::printf(" %9.1f", nat); else std::printf(" %9s", "-");
      if (dnnl > 0 && best > 0) std::printf(" %9.2fx", best / dnnl); else std::printf(" %10s", "-");
      if (eig > 0 && best > 0) std::printf(" %9.2fx", best / eig); else std::printf(" %10s", "-");
      if (nat > 0 && best > 0) std::printf(" %9.2fx", best / nat); else std::printf(" %10s", "-");
      std::printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv) {
  bool user_repetitions = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--benchmark_repetitions", 23) == 0) user_repetitions = true;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const std::vector<Shape> shapes = {{1, 4096, 4096},   {8, 4096, 4096},    {32, 4096, 4096}, {128, 4096, 4096},
                                     {512, 4096, 4096}, {1024, 1024, 1024}, {2048, 2048, 2048}};
  const int all = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<int> thread_counts = {1};
  if (all > 1) thread_counts.push_back(all);
  std::vector<octet::Isa> isas;
  for (octet::Isa isa : octet::supported_isas())
    if (isa != octet::Isa::scalar) isas.push_back(isa);
  if (isas.empty()) isas.push_back(octet::Isa::scalar);

  for (const Shape& s : shapes)
    for (int t : thread_counts) {
      std::vector<benchmark::internal::Benchmark*> cases;
      for (octet::Isa isa : isas)
        cases.push_back(benchmark::RegisterBenchmark(
            name((std::string("octet_") + octet::isa_name(isa)).c_str(), s, t).c_str(),
            [s, isa, t](benchmark::State& st) { bench_octet(st, s, isa, t); }));
#if OCTET_HAVE_DNNL
      cases.push_back(benchmark::RegisterBenchmark(name("onednn", s, t).c_str(),
                                                   [s, t](benchmark::State& st) { bench_onednn(st, s, t); }));
#endif
      cases.push_back(benchmark::RegisterBenchmark(name("eigen_f32", s, t).c_str(),
                                                   [s, t](benchmark::State& st) { bench_eigen(st, s, t); }));
#if OCTET_HAVE_EIGEN_NATIVE
      cases.push_back(benchmark::RegisterBenchmark(name("eigen_native", s, t).c_str(),
                                                   [s, t](benchmark::State& st) { bench_eigen_native(st, s, t); }));
#endif
      const bool big = ops(s) > 4e9;
      for (auto* c : cases) {
        c->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(big ? 0.5 : 0.3);
        if (!user_repetitions) c->Repetitions(big ? 3 : 5)->DisplayAggregatesOnly(true);
      }
    }

  for (const Shape s : {Shape{1, 4096, 4096}, Shape{1, 4096, 14336}})
    for (int t : thread_counts)
      for (octet::Isa isa : isas)
        for (const bool col_major : {true, false}) {
          const std::string label = std::string("pack/") + octet::isa_name(isa) + (col_major ? "/col_major" : "/row_major") +
                                    "/k:" + std::to_string(s.k) + "/n:" + std::to_string(s.n) + "/threads:" + std::to_string(t);
          auto* c = col_major ? benchmark::RegisterBenchmark(label.c_str(), [s, isa, t](benchmark::State& st) {
            bench_pack<Eigen::ColMajor>(st, s.k, s.n, isa, t);
          })
                              : benchmark::RegisterBenchmark(label.c_str(), [s, isa, t](benchmark::State& st) {
                                  bench_pack<Eigen::RowMajor>(st, s.k, s.n, isa, t);
                                });
          c->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
          if (!user_repetitions) c->Repetitions(5)->DisplayAggregatesOnly(true);
        }

  // Colours only on a terminal (the table is meant to be pasted).
  TableReporter reporter(isatty(fileno(stdout)) ? benchmark::ConsoleReporter::OO_Defaults
                                                : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_table(reporter, shapes, thread_counts, isas);
  benchmark::Shutdown();
  return 0;
}
