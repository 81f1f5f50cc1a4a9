// How close LLMInt8Linear::forward comes to octet's own gemm_i8 on the same shape, and where the rest goes.
//
// For each m (x 4096 x 4096 by default) and thread count: forward on row-major float X into a row-major float Y
// (no outlier column: X uniform in [-1, 1], threshold 6), and gemm_i8 of row-major int8 codes with the layer's
// packed B into a row-major int32 C, timed alternately in one process; also the passes around the GEMM on their
// own (the scan of X, the row quantization). Each sample is the median of a few calls; the report gives the
// median over rounds and the spread (min-max) of the per-round ratios. Kernel path: the active one (OCTET_ISA
// caps it).
//   bench_layer_vs_gemm [--rounds R] [--k K] [--n N] [--threads 1,2] [m ...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <octet/octet.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorI8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorI32 = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class F>
double seconds_per_call(F&& f, int calls) {
  std::vector<double> t(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    f();
    t[static_cast<std::size_t>(i)] = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::nth_element(t.begin(), t.begin() + calls / 2, t.end());
  return t[static_cast<std::size_t>(calls / 2)];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p;) {
    out.push_back(std::atoi(p));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 15;
  Eigen::Index k = 4096, n = 4096;
  std::vector<int> threads = {1, 2};
  std::vector<Eigen::Index> ms;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (a == "--k" && i + 1 < argc) k = std::atol(argv[++i]);
    else if (a == "--n" && i + 1 < argc) n = std::atol(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = parse_list(argv[++i]);
    else ms.push_back(std::atol(argv[i]));
  }
  if (ms.empty()) ms = {8, 32, 128, 512};

  std::mt19937 gen(1);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  RowMajorF w(n, k);  // out x in, as engines hold it
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = uni(gen);
  const octet::LLMInt8Linear layer(w.transpose());
  const octet::PackedB pb(layer.weight_codes(), layer.isa());
  std::printf("path %s, k %ld, n %ld, default threads %d, %d rounds\n", octet::isa_name(layer.isa()), long(k),
              long(n), octet::num_threads(), rounds);
  std::printf("%6s %3s | %10s %10s %8s [%6s %6s] | %9s %9s | %8s %8s\n", "m", "thr", "forward us", "gemm us",
              "fwd/gemm", "min", "max", "scan us", "quant us", "fwd GOPS", "gemm GOPS");

  for (Eigen::Index m : ms) {
    RowMajorF x(m, k);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = uni(gen);
    RowMajorF y(m, n);
    RowMajorI32 c(m, n);
    RowMajorI8 a(m, k);
    std::vector<std::int8_t> codes(static_cast<std::size_t>(m * k));
    std::vector<float> steps(static_cast<std::size_t>(m));
    std::uniform_int_distribution<int> code(-127, 127);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::int8_t>(code(gen));
    const double ops = 2.0 * double(m) * double(k) * double(n);
    const int calls = std::max(3, static_cast<int>(4e9 / ops));  // a sample of a few ms at least

    const octet::detail::FloatView xv{x.data(), m, k, k, 1};
    auto scan = [&] {
      octet::detail::with_path(layer.isa(), [&](auto path) {
        using P = decltype(path);
        const float threshold = 6.0f;
        std::vector<Eigen::Index>& out = octet::detail::thread_scratch().outliers;
        octet::detail::llm::scan<P, float>(xv, &threshold, "bench", "X", false, out);
      });
    };
    auto quant = [&] {
      octet::detail::with_path(layer.isa(), [&](auto path) {
        using P = decltype(path);
        octet::detail::llm::quantize_rows<P, float>(xv, nullptr, codes.data(), steps.data());
      });
    };
    const std::size_t nt = threads.size();
    std::vector<std::vector<double>> fwd(nt), gemm(nt), ratio(nt), sc(nt), qu(nt);
    for (int t : threads) {  // warm: scratch, pool, caches
      octet::set_num_threads(t);
      layer.forward(x, y);
      octet::gemm_i8(a, pb, c);
    }
    for (int r = 0; r < rounds; ++r)
      for (std::size_t ti = 0; ti < nt; ++ti) {  // thread counts interleaved too, for the speedup
        octet::set_num_threads(threads[ti]);
        double f, g;
        if (r % 2) {
          g = seconds_per_call([&] { octet::gemm_i8(a, pb, c); }, calls);
          f = seconds_per_call([&] { layer.forward(x, y); }, calls);
        } else {
          f = seconds_per_call([&] { layer.forward(x, y); }, calls);
          g = seconds_per_call([&] { octet::gemm_i8(a, pb, c); }, calls);
        }
        fwd[ti].push_back(f);
        gemm[ti].push_back(g);
        ratio[ti].push_back(f / g);
        sc[ti].push_back(seconds_per_call(scan, calls));
        qu[ti].push_back(seconds_per_call(quant, calls));
      }
    for (std::size_t ti = 0; ti < nt; ++ti) {
      const double fm = median(fwd[ti]), gm = median(gemm[ti]);
      std::printf("%6ld %3d | %10.1f %10.1f %8.3f [%6.3f %6.3f] | %9.1f %9.1f | %8.0f %8.0f", long(m), threads[ti],
                  fm * 1e6, gm * 1e6, median(ratio[ti]), *std::min_element(ratio[ti].begin(), ratio[ti].end()),
                  *std::max_element(ratio[ti].begin(), ratio[ti].end()), median(sc[ti]) * 1e6, median(qu[ti]) * 1e6,
                  ops / fm * 1e-9, ops / gm * 1e-9);
      if (ti > 0) {  // speedup over the first thread count, per round
        std::vector<double> sf, sg;
        for (int r = 0; r < rounds; ++r) {
          sf.push_back(fwd[0][static_cast<std::size_t>(r)] / fwd[ti][static_cast<std::size_t>(r)]);
          sg.push_back(gemm[0][static_cast<std::size_t>(r)] / gemm[ti][static_cast<std::size_t>(r)]);
        }
        std::printf(" | speedup fwd %.2f [%.2f %.2f] gemm %.2f", median(sf), *std::min_element(sf.begin(), sf.end()),
                    *std::max_element(sf.begin(), sf.end()), median(sg));
      }
      std::printf("\n");
    }
    std::fflush(stdout);
  }
  octet::set_num_threads(0);
  return 0;
}
