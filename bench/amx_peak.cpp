// One core's `tdpbssd` throughput: four independent 16 x 16 int32 tiles, each += a 16 x K int8 tile times a
// K/4 x 16 x 4 one, K = 64 (the amx kernel's tiles) and K = 32 (its narrow tiles, for blocks of 32).
// GOPS = 2 * 16 * 16 * K per instruction. Standalone (no Google Benchmark, no octet), Linux x86 with AMX:
//   g++ -O2 bench/amx_peak.cpp -o amx_peak && taskset -c 0 ./amx_peak
// The tile configuration sits in static storage (a 64-byte-aligned local copy crashed a static binary in an
// earlier probe) and is loaded with ldtilecfg by inline assembly, as kernels/x86/amx.hpp does.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include <sys/syscall.h>
#include <unistd.h>

namespace {

struct alignas(64) TileConfig {
  std::uint8_t palette, start_row;
  std::uint8_t reserved[14];
  std::uint16_t colsb[16];
  std::uint8_t rows[16];
};
TileConfig config;
alignas(64) std::int8_t a_tile[16 * 64], b_tile[16 * 64];
alignas(64) std::int32_t c_tile[16 * 16];

double gops(int k, long iterations) {
  config = TileConfig{};
  config.palette = 1;
  for (int t = 0; t < 4; ++t) config.rows[t] = 16, config.colsb[t] = 64;                 // C0..C3
  for (int t = 4; t < 6; ++t) config.rows[t] = 16, config.colsb[t] = static_cast<std::uint16_t>(k);  // A
  for (int t = 6; t < 8; ++t) config.rows[t] = static_cast<std::uint8_t>(k / 4), config.colsb[t] = 64;  // B
  __asm__ volatile("ldtilecfg %0" : : "m"(config) : "memory");
  __asm__ volatile("tilezero %%tmm0\n\ttilezero %%tmm1\n\ttilezero %%tmm2\n\ttilezero %%tmm3" : : : "memory");
  const long stride = 64;
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm4\n\ttileloadd (%0,%1,1), %%tmm5" : : "r"(a_tile), "r"(stride) : "memory");
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm6\n\ttileloadd (%0,%1,1), %%tmm7" : : "r"(b_tile), "r"(stride) : "memory");
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i)
    __asm__ volatile(
        "tdpbssd %%tmm6, %%tmm4, %%tmm0\n\ttdpbssd %%tmm7, %%tmm4, %%tmm1\n\t"
        "tdpbssd %%tmm6, %%tmm5, %%tmm2\n\ttdpbssd %%tmm7, %%tmm5, %%tmm3" : : : "memory");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  __asm__ volatile("tilestored %%tmm0, (%0,%1,1)\n\ttilerelease" : : "r"(c_tile), "r"(stride) : "memory");
  return 4.0 * static_cast<double>(iterations) * 2 * 16 * 16 * k / s / 1e9;
}

}  // namespace

int main() {
  if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) != 0) {
    std::printf("the kernel does not grant the AMX tile state (no AMX, or Linux < 5.16)\n");
    return 1;
  }
  for (int rep = 0; rep < 5; ++rep)
    std::printf("tdpbssd K=64: %5.0f GOPS   K=32: %5.0f GOPS\n", gops(64, 20000000), gops(32, 20000000));
  return c_tile[0];  // 0: the tiles multiplied zeros
}
