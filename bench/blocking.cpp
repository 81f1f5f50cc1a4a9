// An x86 kernel under other cache blockings (MC, KC, NC), side by side in one process: the generic driver run with
// the kernel as it is and with its blocking constants overridden, prepacked int8 GEMM into a row-major int32 C,
// one thread. Each repetition runs every variant once, the order rotating; each figure is the median GOPS
// (2mnk / s) with the lowest and highest, and the ratio to the kernel as it is. The results are checked equal.
//   g++ -O2 -std=c++17 -fopenmp -Iinclude -I/usr/include/eigen3 bench/blocking.cpp -o blocking
//   OMP_NUM_THREADS=1 taskset -c 1 ./blocking ISA [m k n [repetitions]]
// ISA: amx, avx512vnni, avxvnni or avx2 (the CPU must have it); default 512 4096 4096 15.
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

using octet::detail::Index;

/// Kernel K with other blocking constants (the driver reads them from the kernel).
template <class K, long Mc, long Kc, long Nc>
struct Blocked : K {
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

using Fn = void (*)(const octet::detail::Int8View&, const octet::detail::PackedBData&, std::int32_t*);
struct Variant {
  const char* name;
  Fn f;
};

/// The variants compared for kernel K: the kernel as it is first. MC is a multiple of 96, so that every kernel's MR
/// (4, 6, 32) divides it.
template <class K>
std::vector<Variant> variants() {
  return {{"as it is", run<K>},
          {"MC 192 KC 256 NC 256", run<Blocked<K, 192, 256, 256>>},
          {"MC 192 KC 512 NC 256", run<Blocked<K, 192, 512, 256>>},
          {"MC 192 KC 1024 NC 256", run<Blocked<K, 192, 1024, 256>>},
          {"MC 192 KC 512 NC 512", run<Blocked<K, 192, 512, 512>>},
          {"MC 96 KC 512 NC 256", run<Blocked<K, 96, 512, 256>>},
          {"MC 288 KC 512 NC 512", run<Blocked<K, 288, 512, 512>>},
          {"MC 384 KC 512 NC 256", run<Blocked<K, 384, 512, 256>>},
          {"MC 480 KC 512 NC 512", run<Blocked<K, 480, 512, 512>>},
          {"MC 192 KC 256 NC 1024", run<Blocked<K, 192, 256, 1024>>}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s amx|avx512vnni|avxvnni|avx2 [m k n [repetitions]]\n", argv[0]);
    return 2;
  }
  const std::string isa_arg = argv[1];
  const long m = argc > 4 ? std::atol(argv[2]) : 512, k = argc > 4 ? std::atol(argv[3]) : 4096,
             n = argc > 4 ? std::atol(argv[4]) : 4096;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 15;
  namespace kn = octet::detail::kernels;
  octet::Isa isa;
  std::vector<Variant> vs;
  if (isa_arg == "amx") {
    isa = octet::Isa::amx;
    vs = variants<kn::Amx>();
  } else if (isa_arg == "avx512vnni") {
    isa = octet::Isa::avx512vnni;
    vs = variants<kn::Avx512Vnni>();
  } else if (isa_arg == "avxvnni") {
    isa = octet::Isa::avxvnni;
    vs = variants<kn::AvxVnni>();
  } else if (isa_arg == "avx2") {
    isa = octet::Isa::avx2;
    vs = variants<kn::Avx2>();
  } else {
    std::fprintf(stderr, "unknown path '%s'\n", argv[1]);
    return 2;
  }
  const auto isas = octet::supported_isas();
  if (std::find(isas.begin(), isas.end(), isa) == isas.end()) {
    std::printf("no %s path on this CPU\n", argv[1]);
    return 0;
  }
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> byte(-128, 127);
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a(m, k);
  octet::MatrixXi8 b(k, n);
  for (Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::int8_t>(byte(gen));
  for (Index i = 0; i < b.size(); ++i) b.data()[i] = static_cast<std::int8_t>(byte(gen));
  const octet::PackedB pb(b, isa);
  const octet::detail::Int8View av{a.data(), m, k, k, 1};
  const int nv = static_cast<int>(vs.size());
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
  std::printf("%s, %ld x %ld x %ld, 1 thread, %d repetitions: median GOPS (lowest-highest), ratio to the kernel as it is\n",
              argv[1], m, k, n, reps);
  double base = 0;
  for (int v = 0; v < nv; ++v) {
    std::vector<double>& x = gops[v];
    std::sort(x.begin(), x.end());
    const double med = x[x.size() / 2];
    if (v == 0) base = med;
    std::printf("%-24s %6.0f (%.0f-%.0f) %.2f\n", vs[v].name, med, x.front(), x.back(), med / base);
  }
}
