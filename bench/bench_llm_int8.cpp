// The LLM.int8() benchmark: one LLMInt8Linear forward (float X in, float Y out), k = n = 4096, X with one
// outlier feature, side by side in one run with Eigen's float X * W and (when built with oneDNN,
// OCTET_HAVE_DNNL) oneDNN's s8 matmul on already-quantized activations.
//
//   bench_llm_int8                                     # everything (about 3-5 minutes on 2 cores)
//   bench_llm_int8 --benchmark_filter='m:128/'         # one batch size
//   bench_llm_int8 --benchmark_filter='threads:1'
//
// Names are llm_int8/<library>/m:<m>/threads:<t>. GOPS = 2 m n k per second (a counter in units of 10^9).
// Every case is repeated (3 times) and the median counts; the table printed at the end holds the medians and
// the ratios of octet's layer to Eigen float and to oneDNN.
//
// What is timed, per library:
//   octet_linear    LLMInt8Linear::operator()(X): find the outlier columns, quantize X's rows, int8 GEMM on the
//                   weights packed once, dequantize + float outlier product in the epilogue, a new MatrixXf Y.
//   octet_gemm_s8   octet's raw int8 GEMM on the same packed weights and activations quantized outside the
//                   loop, int32 out (gemm_i8): the part of octet_linear that is the kernel's.
//   eigen_f32       Y.noalias() = X * W on float matrices (Eigen's own threads set to the same count).
//   eigen_native    the same, from Eigen compiled with -march=native (bench/eigen_native.hpp): the
//                   baseline for users who build Eigen for their machine (eigen_f32 is SSE2-only).
//   onednn_s8       oneDNN's matmul s8 x s8 -> s32 on activations quantized outside the loop, weights declared
//                   with format_tag::any and reordered once: the raw int8 GEMM, no quantization, no outliers.
//   onednn_s8_f32   the same with f32 output and per-column output scales (dequantization folded in).
// Threads: "threads:1" really is one thread for all (octet::set_num_threads, Eigen::setNbThreads and, for
// oneDNN's OpenMP runtime, omp_set_num_threads). The kernels are whatever this build's headers hold.
//
// The outlier family (llm_int8_outliers/<variant>/outliers:<c>/m:<m>/threads:<t>; filter 'llm_int8_outliers'):
// LLMInt8Linear::forward into a preallocated Y with c = 0, 1, 8 or 32 outlier columns in X (|x| up to 60, the
// rest N(0, 1) clipped to 5), for each layer variant of the table kLayerVariants (options such as the outlier
// weights, later the block size: one row each). Every iteration runs the layer twice, on X with c outlier columns
// and on the same X without them (the order alternating), and times each call: GOPS is that of the call with c
// outliers, "GOPS_0" that of its paired call without, and "outlier_%" = 100 (t_c - t_0) / t_c, the share of the
// time that the outlier path (the scan finding them, their weight rows dequantized, the float product in the
// epilogue) takes. Pairing call by call keeps the machine's drift out of the difference; with c = 0 both calls
// are the same, so that row shows the noise floor.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <benchmark/benchmark.h>
#include "bench_common.hpp"
#include <Eigen/Core>

#if OCTET_HAVE_EIGEN_NATIVE
#include "eigen_native.hpp"
#endif
#include <octet/gemm.hpp>
#include <octet/llm_int8.hpp>
#include <octet/quantize.hpp>

#if defined(_OPENMP)
#  include <omp.h>
#endif
#if OCTET_HAVE_DNNL
#  include <dnnl.hpp>
#endif

namespace {

constexpr long K = 4096, N = 4096;
constexpr long kOutlierFeature = 1234;

double ops(long m) { return 2.0 * double(m) * double(N) * double(K); }

using octet_bench::set_all_threads;

Eigen::MatrixXf normal(long rows, long cols, unsigned seed, float sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  Eigen::MatrixXf x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = dist(gen);
  return x;
}

/// The weights (made once) and their prepared layer.
struct Weights {
  Eigen::MatrixXf w;
  std::unique_ptr<octet::LLMInt8Linear> layer;
};

const Weights& weights() {
  static const Weights ws = [] {
    Weights s;
    s.w = normal(K, N, 7, 0.02f);
    s.layer = std::make_unique<octet::LLMInt8Linear>(s.w);
    return s;
  }();
  return ws;
}

/// Activations of m tokens: standard normal with one outlier feature (x40, so |x| > 6 in most rows).
const Eigen::MatrixXf& activations(long m) {
  static std::map<long, Eigen::MatrixXf> cache;
  auto it = cache.find(m);
  if (it == cache.end()) {
    Eigen::MatrixXf x = normal(m, K, static_cast<unsigned>(100 + m), 1.0f);
    x.col(kOutlierFeature) *= 40.0f;
    x(0, kOutlierFeature) = 60.0f;  // at least one value above the threshold, even for m = 1
    it = cache.emplace(m, std::move(x)).first;
  }
  return it->second;
}

void set_gops(benchmark::State& state, long m) {
  state.counters["GOPS"] = benchmark::Counter(ops(m) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_octet(benchmark::State& state, long m, int threads) {
  set_all_threads(threads);
  const Weights& ws = weights();
  const Eigen::MatrixXf& x = activations(m);
  octet::LLMInt8Stats stats;
  Eigen::MatrixXf y = (*ws.layer)(x, &stats);  // warm up: buffers, thread pool
  if (stats.outlier_columns != std::vector<Eigen::Index>{kOutlierFeature}) state.SkipWithError("unexpected outliers");
  for (auto _ : state) {
    y = (*ws.layer)(x);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, m);
  state.counters["bytes/weight"] = double(ws.layer->bytes()) / double(K * N);
}

void bench_octet_gemm(benchmark::State& state, long m, int threads) {
  set_all_threads(threads);
  const Weights& ws = weights();
  const auto qx = octet::quantize<octet::AbsMax, octet::PerRow>(activations(m));
  const octet::PackedB& pb = ws.layer->packed_weights();
  octet::MatrixXi32 c = octet::gemm_i8(qx.codes, pb);
  for (auto _ : state) {
    c = octet::gemm_i8(qx.codes, pb);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, m);
}

void bench_eigen(benchmark::State& state, long m, int threads) {
  set_all_threads(threads);
  const Weights& ws = weights();
  const Eigen::MatrixXf& x = activations(m);
  Eigen::MatrixXf y(m, N);
  y.noalias() = x * ws.w;
  for (auto _ : state) {
    y.noalias() = x * ws.w;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, m);
}

#if OCTET_HAVE_EIGEN_NATIVE
void bench_eigen_native(benchmark::State& state, long m, int threads) {
  set_all_threads(threads);
  const Weights& ws = weights();
  const Eigen::MatrixXf& x = activations(m);
  Eigen::MatrixXf y(m, N);
  octet_bench_eigen_native_gemm(m, N, K, x.data(), ws.w.data(), y.data(), threads);
  for (auto _ : state) {
    octet_bench_eigen_native_gemm(m, N, K, x.data(), ws.w.data(), y.data(), threads);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, m);
}
#endif

#if OCTET_HAVE_DNNL
void bench_onednn(benchmark::State& state, long m, int threads, bool f32_out) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  set_all_threads(threads);
  const Weights& ws = weights();
  // Quantized outside the timed loop: X per row, W per column (AbsMax), as octet's layer does inside it.
  const auto qx = octet::quantize<octet::AbsMax, octet::PerRow>(activations(m));
  const auto qw = octet::quantize<octet::AbsMax, octet::PerColumn>(ws.w);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::desc a_md({m, K}, dt::s8, tag::ab);
  const memory::desc b_any({K, N}, dt::s8, tag::any);
  const memory::desc b_plain({K, N}, dt::s8, tag::ab);
  const memory::desc c_md({m, N}, f32_out ? dt::f32 : dt::s32, tag::ab);
  primitive_attr attr;
  if (f32_out) {
    std::vector<float> scales(static_cast<std::size_t>(N));
    for (long j = 0; j < N; ++j) scales[static_cast<std::size_t>(j)] = qw.step(j) * qx.step(0);  // one row's
    attr.set_output_scales(1 << 1, scales);
  }
  const matmul::primitive_desc pd(matmul::desc(a_md, b_any, c_md), attr, eng);
  const matmul prim(pd);

  std::vector<std::int8_t> a_rm(static_cast<std::size_t>(m * K)), b_rm(static_cast<std::size_t>(K * N));
  for (long i = 0; i < m; ++i)
    for (long p = 0; p < K; ++p) a_rm[static_cast<std::size_t>(i * K + p)] = qx.codes(i, p);
  for (long p = 0; p < K; ++p)
    for (long j = 0; j < N; ++j) b_rm[static_cast<std::size_t>(p * N + j)] = qw.codes(p, j);
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
  set_gops(state, m);
}
#endif

// --- The outlier family ------------------------------------------------------------------------------------

/// One row of the outlier table: a label and the options the layer is built with.
struct LayerVariant {
  const char* label;
  octet::LLMInt8Options (*options)();
};

/// The layer variants the outlier family measures: add a row for each option to compare (a block size, ...).
/// float32_weights keeps W in float for the outlier path: its outlier rows are copied from a row-major float
/// matrix instead of being read back out of the packed int8 layout and dequantized.
const std::vector<LayerVariant> kLayerVariants = {
    {"default", [] { return octet::LLMInt8Options(); }},
    {"float32_weights", [] {
       octet::LLMInt8Options o;
       o.outlier_weights = octet::OutlierWeights::float32;
       return o;
     }},
};
const std::vector<int> kOutlierCounts = {0, 1, 8, 32};
const std::vector<long> kOutlierMs = {1, 32, 128, 512};

const octet::LLMInt8Linear& variant_layer(const LayerVariant& v) {
  static std::map<std::string, std::unique_ptr<octet::LLMInt8Linear>> cache;
  auto& slot = cache[v.label];
  if (!slot) slot = std::make_unique<octet::LLMInt8Linear>(weights().w, 6.0f, v.options());
  return *slot;
}

/// The first `count` outlier features: spread over k, the same columns for every m.
std::vector<long> outlier_features(int count) {
  std::vector<long> cols;
  for (int q = 0; q < count; ++q) cols.push_back((q * (K / 32) + 7 * q + 3) % K);
  return cols;
}

/// X of m tokens, N(0, 1) clipped to 5 (no outlier by chance), with `count` outlier features (x40, and one
/// value of 60 in the first row, so that each is an outlier column even for m = 1).
const Eigen::MatrixXf& outlier_activations(long m, int count) {
  static std::map<std::pair<long, int>, Eigen::MatrixXf> cache;
  auto it = cache.find({m, count});
  if (it == cache.end()) {
    Eigen::MatrixXf x = normal(m, K, static_cast<unsigned>(500 + m), 1.0f).cwiseMax(-5.0f).cwiseMin(5.0f);
    for (long col : outlier_features(count)) {
      x.col(col) *= 40.0f;
      x(0, col) = 60.0f;
    }
    it = cache.emplace(std::make_pair(m, count), std::move(x)).first;
  }
  return it->second;
}

/// Times `a` and `b` once per iteration, the order alternating (so that the machine's drift falls on both), with
/// a's time as the iteration's time; returns the total seconds of each.
template <class A, class B>
std::pair<double, double> paired_times(benchmark::State& state, const A& a, const B& b) {
  using clock = std::chrono::steady_clock;
  const auto timed = [](const auto& call) {
    const auto t0 = clock::now();
    call();
    benchmark::ClobberMemory();
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  double sum_a = 0, sum_b = 0;
  bool a_first = true;
  for (auto _ : state) {
    double ta, tb;
    if (a_first) {
      ta = timed(a);
      tb = timed(b);
    } else {
      tb = timed(b);
      ta = timed(a);
    }
    a_first = !a_first;
    sum_a += ta;
    sum_b += tb;
    state.SetIterationTime(ta);
  }
  return {sum_a, sum_b};
}

void bench_outliers(benchmark::State& state, const LayerVariant& v, long m, int count, int threads) {
  set_all_threads(threads);
  const octet::LLMInt8Linear& layer = variant_layer(v);
  const Eigen::MatrixXf& xc = outlier_activations(m, count);
  const Eigen::MatrixXf& x0 = outlier_activations(m, 0);
  Eigen::MatrixXf y(m, N);
  octet::LLMInt8Stats stats;
  layer.forward(x0, y);  // warm up: buffers, thread pool
  layer.forward(xc, y, &stats);
  if (stats.outlier_columns.size() != static_cast<std::size_t>(count)) state.SkipWithError("unexpected outliers");
  const auto run = [&](const Eigen::MatrixXf& x) {
    layer.forward(x, y);
    benchmark::DoNotOptimize(y.data());
  };
  const auto [sum_c, sum_0] = paired_times(state, [&] { run(xc); }, [&] { run(x0); });
  set_gops(state, m);
  const double iters = static_cast<double>(state.iterations());
  state.counters["GOPS_0"] = sum_0 > 0 ? ops(m) * 1e-9 * iters / sum_0 : 0.0;
  state.counters["outlier_%"] = sum_c > 0 ? 100.0 * (sum_c - sum_0) / sum_c : 0.0;
}

std::string outlier_name(const LayerVariant& v, int count, long m, int threads) {
  return std::string("llm_int8_outliers/") + v.label + "/outliers:" + std::to_string(count) + "/m:" +
         std::to_string(m) + "/threads:" + std::to_string(threads);
}

void print_outlier_table(const octet_bench::TableReporter& rep, const std::vector<int>& thread_counts) {
  bool any = false;
  for (const LayerVariant& v : kLayerVariants)
    for (long m : kOutlierMs)
      for (int t : thread_counts)
        for (int c : kOutlierCounts) any = any || rep.counters.count(outlier_name(v, c, m, t)) > 0;
  if (!any) return;
  std::printf("\nLLMInt8Linear::forward with c outlier columns (k = n = %ld; kernels: %s), medians. GOPS_0: the paired\n"
              "call on the same X without outliers; outlier %%: 100 (t_c - t_0) / t_c, the outlier path's share\n",
              K, octet::active_isa());
  std::printf("%-16s %5s %3s %9s %9s %9s %10s\n", "variant", "m", "thr", "outliers", "GOPS", "GOPS_0", "outlier %");
  for (const LayerVariant& v : kLayerVariants)
    for (long m : kOutlierMs)
      for (int t : thread_counts)
        for (int c : kOutlierCounts) {
          const auto it = rep.counters.find(outlier_name(v, c, m, t));
          if (it == rep.counters.end()) continue;
          const auto get = [&](const char* key) {
            const auto f = it->second.find(key);
            return f == it->second.end() ? 0.0 : f->second;
          };
          std::printf("%-16s %5ld %3d %9d %9.1f %9.1f %9.1f%%\n", v.label, m, t, c, get("GOPS"), get("GOPS_0"),
                      get("outlier_%"));
        }
}

// ---------------------------------------------------------------------------------------------------------------
// The block family (llm_int8_blocks/block:<G>/m:<m>/threads:<t>; filter 'llm_int8_blocks'): LLMInt8Linear::forward
// into a preallocated row-major Y with LLMInt8Options::block_size = G (block-wise scales along k), threshold 6, X
// without outliers (N(0, 1) clipped to 5). Every iteration pairs the block-wise call with the vector-wise layer's
// call on the same X (order alternating): GOPS is the block-wise call's, "GOPS_vw" the paired vector-wise call's
// and "vs_vw" = t_vw / t_G, the block-wise speed as a fraction of vector-wise measured side by side.
const std::vector<long> kBlockSizes = {32, 64, 128, 256};

const octet::LLMInt8Linear& block_layer(long g) {
  static std::map<long, std::unique_ptr<octet::LLMInt8Linear>> cache;
  auto& slot = cache[g];
  if (!slot) {
    octet::LLMInt8Options o;
    o.block_size = g;
    slot = std::make_unique<octet::LLMInt8Linear>(weights().w, 6.0f, o);
  }
  return *slot;
}

void bench_blocks(benchmark::State& state, long g, long m, int threads) {
  set_all_threads(threads);
  const octet::LLMInt8Linear& blocked = block_layer(g);
  const octet::LLMInt8Linear& vectorwise = block_layer(0);
  const Eigen::MatrixXf& x = outlier_activations(m, 0);
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> y(m, N);
  blocked.forward(x, y);  // warm up: buffers, thread pool
  vectorwise.forward(x, y);
  const auto run = [&](const octet::LLMInt8Linear& layer) {
    layer.forward(x, y);
    benchmark::DoNotOptimize(y.data());
  };
  const auto [sum_g, sum_v] = paired_times(state, [&] { run(blocked); }, [&] { run(vectorwise); });
  set_gops(state, m);
  const double iters = static_cast<double>(state.iterations());
  state.counters["GOPS_vw"] = sum_v > 0 ? ops(m) * 1e-9 * iters / sum_v : 0.0;
  state.counters["vs_vw"] = sum_g > 0 ? sum_v / sum_g : 0.0;
}

std::string block_name(long g, long m, int threads) {
  return "llm_int8_blocks/block:" + std::to_string(g) + "/m:" + std::to_string(m) + "/threads:" + std::to_string(threads);
}

void print_block_table(const octet_bench::TableReporter& rep, const std::vector<int>& thread_counts) {
  bool any = false;
  for (long g : kBlockSizes)
    for (long m : kOutlierMs)
      for (int t : thread_counts) any = any || rep.counters.count(block_name(g, m, t)) > 0;
  if (!any) return;
  std::printf("\nLLMInt8Linear::forward with block-wise scales (k = n = %ld, threshold 6, no outliers; kernels: %s),\n"
              "medians. GOPS_vw: the paired vector-wise call on the same X; vs vw: block-wise speed / vector-wise\n",
              K, octet::active_isa());
  std::printf("%6s %5s %3s %9s %9s %7s\n", "block", "m", "thr", "GOPS", "GOPS_vw", "vs vw");
  for (long g : kBlockSizes)
    for (long m : kOutlierMs)
      for (int t : thread_counts) {
        const auto it = rep.counters.find(block_name(g, m, t));
        if (it == rep.counters.end()) continue;
        const auto get = [&](const char* key) {
          const auto f = it->second.find(key);
          return f == it->second.end() ? 0.0 : f->second;
        };
        std::printf("%6ld %5ld %3d %9.1f %9.1f %6.2fx\n", g, m, t, get("GOPS"), get("GOPS_vw"), get("vs_vw"));
      }
}

std::string name(const char* library, long m, int threads) {
  return std::string("llm_int8/") + library + "/m:" + std::to_string(m) + "/threads:" + std::to_string(threads);
}

/// Prints the usual console output, and keeps the median GOPS of every case for the closing table.
using octet_bench::TableReporter;

void print_table(const TableReporter& rep, const std::vector<long>& ms, const std::vector<int>& thread_counts) {
  bool any = false;
  for (long m : ms)
    for (int t : thread_counts)
      for (const char* lib : {"octet_linear", "octet_gemm_s8", "eigen_f32", "eigen_native", "onednn_s8", "onednn_s8_f32"})
        any = any || rep.medians.count(name(lib, m, t)) > 0;
  if (!any) return;
  std::printf("\nLLMInt8Linear, k = n = %ld, one outlier feature; kernels: %s. Median GOPS (2mnk/s / 1e9)\n", K,
              octet::active_isa());
  std::printf("%5s %3s %12s %13s %10s %12s %10s %14s %9s %10s %13s %11s\n", "m", "thr", "octet_linear",
              "octet_gemm_s8", "eigen_f32", "eigen_native", "onednn_s8", "onednn_s8_f32", "vs Eigen", "vs Eig nat",
              "vs oneDNN s8", "vs own GEMM");
  for (long m : ms)
    for (int t : thread_counts) {
      const auto get = [&](const char* lib) {
        const auto it = rep.medians.find(name(lib, m, t));
        return it == rep.medians.end() ? 0.0 : it->second;
      };
      const double oct = get("octet_linear"), raw = get("octet_gemm_s8"), eig = get("eigen_f32");
      const double dn = get("onednn_s8"), dnf = get("onednn_s8_f32");
      const double nat = get("eigen_native");
      std::printf("%5ld %3d %12.1f %13.1f %10.1f", m, t, oct, raw, eig);
      if (nat > 0) std::printf(" %12.1f", nat); else std::printf(" %12s", "-");
      if (dn > 0) std::printf(" %10.1f", dn); else std::printf(" %10s", "-");
      if (dnf > 0) std::printf(" %14.1f", dnf); else std::printf(" %14s", "-");
      if (eig > 0) std::printf(" %8.2fx", oct / eig); else std::printf(" %9s", "-");
      if (nat > 0) std::printf(" %9.2fx", oct / nat); else std::printf(" %10s", "-");
      if (dn > 0) std::printf(" %12.2fx", oct / dn); else std::printf(" %13s", "-");
      if (raw > 0) std::printf(" %10.2fx", oct / raw); else std::printf(" %11s", "-");
      std::printf("\n");
    }
  const octet::LLMInt8Linear& layer = *weights().layer;
  std::printf("prepared layer: %zu bytes = %.3f x k x n (packed %s layout; float weights not kept)\n", layer.bytes(),
              double(layer.bytes()) / double(K * N), octet::isa_name(layer.isa()));
}

}  // namespace

int main(int argc, char** argv) {
  bool user_repetitions = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--benchmark_repetitions", 23) == 0) user_repetitions = true;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const std::vector<long> ms = {1, 32, 128, 512};
  const int all = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<int> thread_counts = {1};
  if (all > 1) thread_counts.push_back(all);

  for (long m : ms)
    for (int t : thread_counts) {
      std::vector<benchmark::internal::Benchmark*> cases;
      cases.push_back(benchmark::RegisterBenchmark(name("octet_linear", m, t).c_str(),
                                                   [m, t](benchmark::State& st) { bench_octet(st, m, t); }));
      cases.push_back(benchmark::RegisterBenchmark(name("octet_gemm_s8", m, t).c_str(),
                                                   [m, t](benchmark::State& st) { bench_octet_gemm(st, m, t); }));
      cases.push_back(benchmark::RegisterBenchmark(name("eigen_f32", m, t).c_str(),
                                                   [m, t](benchmark::State& st) { bench_eigen(st, m, t); }));
#if OCTET_HAVE_EIGEN_NATIVE
      cases.push_back(benchmark::RegisterBenchmark(name("eigen_native", m, t).c_str(),
                                                   [m, t](benchmark::State& st) { bench_eigen_native(st, m, t); }));
#endif
#if OCTET_HAVE_DNNL
      cases.push_back(benchmark::RegisterBenchmark(name("onednn_s8", m, t).c_str(),
                                                   [m, t](benchmark::State& st) { bench_onednn(st, m, t, false); }));
      cases.push_back(benchmark::RegisterBenchmark(name("onednn_s8_f32", m, t).c_str(),
                                                   [m, t](benchmark::State& st) { bench_onednn(st, m, t, true); }));
#endif
      for (auto* c : cases) {
        c->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(m >= 128 ? 0.5 : 0.3);
        if (!user_repetitions) c->Repetitions(3)->DisplayAggregatesOnly(true);
      }
    }

  for (const LayerVariant& v : kLayerVariants)
    for (long m : kOutlierMs)
      for (int t : thread_counts)
        for (int c : kOutlierCounts) {
          auto* b = benchmark::RegisterBenchmark(outlier_name(v, c, m, t).c_str(), [&v, m, c, t](benchmark::State& st) {
            bench_outliers(st, v, m, c, t);
          });
          b->Unit(benchmark::kMicrosecond)->UseManualTime()->MinTime(m >= 128 ? 0.5 : 0.3);
          if (!user_repetitions) b->Repetitions(3)->DisplayAggregatesOnly(true);
        }

  for (long g : kBlockSizes)
    for (long m : kOutlierMs)
      for (int t : thread_counts) {
        auto* b = benchmark::RegisterBenchmark(block_name(g, m, t).c_str(),
                                               [g, m, t](benchmark::State& st) { bench_blocks(st, g, m, t); });
        b->Unit(benchmark::kMicrosecond)->UseManualTime()->MinTime(m >= 128 ? 0.5 : 0.3);
        if (!user_repetitions) b->Repetitions(3)->DisplayAggregatesOnly(true);
      }

  TableReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_table(reporter, ms, thread_counts);
  print_outlier_table(reporter, thread_counts);
  print_block_table(reporter, thread_counts);
  benchmark::Shutdown();
  return 0;
}
