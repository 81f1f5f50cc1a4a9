// amx against avx512vnni, side by side in one process: prepacked gemm_i8 into a preallocated int32 C and
// LLMInt8Linear::forward into a preallocated float Y, GOPS = 2mnk / s. The two paths alternate call by call
// (interleaved, so that a shared machine's load falls on both alike); each figure is the median of the
// repetitions, with the lowest and highest. Needs no Google Benchmark:
//   g++ -O2 -std=c++17 -fopenmp -Iinclude -I/usr/include/eigen3 bench/amx_compare.cpp -o amx_compare
//   ./amx_compare [threads...]      (default: 1 2; OCTET_COMPARE_M=1,8 keeps the shapes with those m)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <octet/octet.hpp>

namespace {

double seconds_of(const std::function<void()>& f, int calls) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < calls; ++c) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / calls;
}

struct Stat {
  double median, lo, hi;
};
Stat stat(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {1, 2};
  const octet::Isa isas[2] = {octet::Isa::avx512vnni, octet::Isa::amx};
  struct Shape {
    Eigen::Index m, k, n;
  };
  const Shape shapes[] = {{1, 4096, 4096},  {8, 4096, 4096},   {16, 4096, 4096},  {32, 4096, 4096},
                          {128, 4096, 4096}, {512, 4096, 4096}, {2048, 2048, 2048}};
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::printf("what,m,k,n,threads,vnni_gops,vnni_lo,vnni_hi,amx_gops,amx_lo,amx_hi,amx_over_vnni\n");
  const char* only_m = std::getenv("OCTET_COMPARE_M");
  for (const Shape& s : shapes) {
    if (only_m && ("," + std::string(only_m) + ",").find("," + std::to_string(s.m) + ",") == std::string::npos) continue;
    octet::MatrixXi8 a(s.m, s.k), b(s.k, s.n);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::int8_t>(byte(gen));
    for (Eigen::Index i = 0; i < b.size(); ++i) b.data()[i] = static_cast<std::int8_t>(byte(gen));
    Eigen::MatrixXf x(s.m, s.k), w(s.k, s.n);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(gen);
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = 0.05f * normal(gen);
    const double ops = 2.0 * s.m * s.n * s.k;
    for (int t : threads) {
      octet::set_num_threads(t);
      for (int what = 0; what < 2; ++what) {
        std::vector<octet::PackedB> pb;
        std::vector<octet::LLMInt8Linear> layers;
        for (octet::Isa isa : isas) {
          if (what == 0) pb.emplace_back(b, isa);
          else {
            octet::LLMInt8Options o;
            o.isa = isa;
            layers.emplace_back(w, 6.0f, o);
          }
        }
        octet::MatrixXi32 c(s.m, s.n);
        Eigen::MatrixXf y(s.m, s.n);
        std::function<void()> run[2];
        for (int p = 0; p < 2; ++p)
          run[p] = what == 0 ? std::function<void()>([&, p] { octet::gemm_i8(a, pb[static_cast<std::size_t>(p)], c); })
                             : std::function<void()>([&, p] { layers[static_cast<std::size_t>(p)].forward(x, y); });
        run[0]();
        run[1]();
        const double once = std::max(seconds_of(run[0], 1), 1e-6);
        const int calls = std::max(1, static_cast<int>(0.05 / once));
        std::vector<double> g[2];
        for (int rep = 0; rep < 9; ++rep)
          for (int p = 0; p < 2; ++p) g[p].push_back(ops / seconds_of(run[p], calls) / 1e9);
        const Stat v = stat(g[0]), x2 = stat(g[1]);
        std::printf("%s,%ld,%ld,%ld,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.2f\n", what == 0 ? "gemm_i8" : "forward",
                    static_cast<long>(s.m), static_cast<long>(s.k), static_cast<long>(s.n), t, v.median, v.lo, v.hi,
                    x2.median, x2.lo, x2.hi, x2.median / v.median);
        std::fflush(stdout);
      }
    }
  }
}
