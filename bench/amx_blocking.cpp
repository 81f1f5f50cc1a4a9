// The AMX kernel under other cache blockings (MC, KC, NC), side by side in one process: the generic driver run with
// the amx kernel as it is and with its blocking constants overridden, prepacked int8 GEMM into a row-major int32
// C, one thread. Each repetition runs every variant once, the order rotating; each figure is the median GOPS
// (2mnk / s) with the lowest and highest, and the ratio to the kernel as it is. The results are checked equal.
//   g++ -O2 -std=c++17 -fopenmp -Iinclude -I/usr/include/eigen3 bench/amx_blocking.cpp -o amx_blocking
//   ./amx_blocking [m k n [repetitions]]      (default 512 4096 4096 15; needs a CPU with AMX)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <octet/octet.hpp>

namespace {

using octet::detail::Index;
using Amx = octet::detail::kernels::Amx;

/// The kernel with other blocking constants (the driver reads them from the kernel).
template <long Mc, long Kc, long Nc>
struct Blocked : Amx {
  static constexpr std::ptrdiff_t MC = Mc, KC = Kc, NC = Nc;
};

template <class K>
void run(const octet::detail::Int8View& a, const octet::detail::PackedBData& b, std::int32_t* c) {
  octet::detail::gemm_driver<K>(
      a, b,
      [&](Index i0, Index j0, Index rows, Index cols, const std::int32_t* tile, Index ldt) {
        for (Index r = 0; r < rows; ++r)
          std::memcpy(c + (i0 + r) * b.n + j0, tile + r * ldt, static_cast<std::size_t>(cols) * sizeof(std::int32_t));
      },
      1);
}

}  // namespace

int main(int argc, char** argv) {
  const long m = argc > 3 ? std::atol(argv[1]) : 512, k = argc > 3 ? std::atol(argv[2]) : 4096,
             n = argc > 3 ? std::atol(argv[3]) : 4096;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 15;
  const auto isas = octet::supported_isas();
  if (std::find(isas.begin(), isas.end(), octet::Isa::amx) == isas.end()) {
    std::printf("no amx path on this CPU\n");
    return 0;
  }
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> byte(-128, 127);
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a(m, k);
  octet::MatrixXi8 b(k, n);
  for (Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::int8_t>(byte(gen));
  for (Index i = 0; i < b.size(); ++i) b.data()[i] = static_cast<std::int8_t>(byte(gen));
  const octet::PackedB pb(b, octet::Isa::amx);
  const octet::detail::Int8View av{a.data(), m, k, k, 1};
  using Fn = void (*)(const octet::detail::Int8View&, const octet::detail::PackedBData&, std::int32_t*);
  struct Variant {
    const char* name;
    Fn f;
  };
  const Variant vs[] = {{"as it is", run<Amx>},
                        {"MC 256 KC 512 NC 256", run<Blocked<256, 512, 256>>},
                        {"MC 256 KC 1024 NC 256", run<Blocked<256, 1024, 256>>},
                        {"MC 512 KC 512 NC 512", run<Blocked<512, 512, 512>>},
                        {"MC 128 (whole depth)", run<Blocked<128, 512, 512>>}};
  const int nv = static_cast<int>(sizeof vs / sizeof vs[0]);
  std::vector<std::vector<std::int32_t>> c(nv, std::vector<std::int32_t>(static_cast<std::size_t>(m * n)));
  std::vector<std::vector<double>> gops(nv);
  for (int v = 0; v < nv; ++v) vs[v].f(av, pb.data(), c[v].data());
  for (int v = 1; v < nv; ++v)
    if (c[v] != c[0]) std::printf("%s: results differ\n", vs[v].name);
  for (int r = 0; r < reps; ++r)
    for (int i = 0; i < nv; ++i) {
      const int v = (i + r) % nv;
      const auto t0 = std::chrono::steady_clock::now();
      vs[v].f(av, pb.data(), c[v].data());
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      gops[v].push_back(2.0 * m * n * k / s / 1e9);
    }
  std::printf("%ld x %ld x %ld, 1 thread, %d repetitions: median GOPS (lowest-highest), ratio to the kernel as it is\n",
              m, k, n, reps);
  double base = 0;
  for (int v = 0; v < nv; ++v) {
    std::vector<double>& x = gops[v];
    std::sort(x.begin(), x.end());
    const double med = x[x.size() / 2];
    if (v == 0) base = med;
    std::printf("%-24s %6.0f (%.0f-%.0f) %.2f\n", vs[v].name, med, x.front(), x.back(), med / base);
  }
}
