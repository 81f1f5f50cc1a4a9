// This machine's single-core peaks for the instructions octet's kernels are built on, so that the GEMM
// figures can be read as a fraction of what the hardware can do.
//
// Each loop issues 24 independent multiply-accumulates per iteration (inline assembly, so the compiler can
// neither merge identical accumulators nor drop them) into 24 separate registers: enough to cover the
// latency of every instruction measured here, so the figure is the instruction's throughput.
//   vpdpbusd zmm   AVX-512 VNNI: 64 int8 MACs = 128 ops      vpdpbusd ymm   AVX-VNNI: 64 ops
//   vpmaddwd ymm   AVX2 path: 16 int16 MACs = 32 ops (+ the vpaddd that accumulates them, as in the kernel)
//   vfmadd231ps zmm / ymm: fp32, 32 / 16 flops
// Run pinned to one core: taskset -c 1 bench_peak
#include <benchmark/benchmark.h>

#include <octet/octet.hpp>

#if defined(OCTET_ARCH_X86)
namespace {

constexpr long kIters = 1 << 20;

#define OCTET_R24(OP)                                                                                        \
  OP("0") OP("1") OP("2") OP("3") OP("4") OP("5") OP("6") OP("7") OP("8") OP("9") OP("10") OP("11")       \
  OP("12") OP("13") OP("14") OP("15") OP("16") OP("17") OP("18") OP("19") OP("20") OP("21") OP("22")      \
  OP("23")

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void loop_vnni512(long n) {
  __asm__ volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31" ::: "xmm30", "xmm31");
  for (long i = 0; i < n; ++i) {
#define OP(r) "vpdpbusd %%zmm30, %%zmm31, %%zmm" r "\n\t"
    __asm__ volatile(OCTET_R24(OP) ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                     "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",
                     "xmm19", "xmm20", "xmm21", "xmm22", "xmm23");
#undef OP
  }
}

__attribute__((target("avx2,avxvnni"))) void loop_vnni256(long n) {
  for (long i = 0; i < n; ++i) {
    // 12 accumulators (ymm0-11), ymm14/15 as inputs, twice: 24 instructions
#define OP(r) "%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm" r "\n\t"
    __asm__ volatile(OP("0") OP("1") OP("2") OP("3") OP("4") OP("5") OP("6") OP("7") OP("8") OP("9") OP("10")
                         OP("11") OP("0") OP("1") OP("2") OP("3") OP("4") OP("5") OP("6") OP("7") OP("8")
                             OP("9") OP("10") OP("11") ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                     "xmm7", "xmm8", "xmm9", "xmm10", "xmm11");
#undef OP
  }
}

__attribute__((target("avx2"))) void loop_avx2_madd(long n) {
  for (long i = 0; i < n; ++i) {
    // vpmaddwd into a temporary, vpaddd into an accumulator: the AVX2 kernel's inner step, 12 times
#define OP(r) "vpmaddwd %%ymm14, %%ymm15, %%ymm12\n\tvpaddd %%ymm12, %%ymm" r ", %%ymm" r "\n\t"
    __asm__ volatile(OP("0") OP("1") OP("2") OP("3") OP("4") OP("5") OP("6") OP("7") OP("8") OP("9") OP("10")
                         OP("11") ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                     "xmm9", "xmm10", "xmm11", "xmm12");
#undef OP
  }
}

__attribute__((target("avx512f"))) void loop_fma512(long n) {
  for (long i = 0; i < n; ++i) {
#define OP(r) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" r "\n\t"
    __asm__ volatile(OCTET_R24(OP) ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                     "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",
                     "xmm19", "xmm20", "xmm21", "xmm22", "xmm23");
#undef OP
  }
}

void run(benchmark::State& state, void (*loop)(long), double ops_per_iter, octet::Isa needs) {
  if (!octet::detail::cpu_supports(needs)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  for (auto _ : state) loop(kIters);
  // per iteration ops_per_iter * kIters operations; the counter divides by the time: GOPS
  state.counters["GOPS"] = benchmark::Counter(ops_per_iter * kIters / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(run, vpdpbusd_zmm_avx512vnni, loop_vnni512, 24 * 128.0, octet::Isa::avx512vnni)->UseRealTime();
BENCHMARK_CAPTURE(run, vpdpbusd_ymm_avxvnni, loop_vnni256, 24 * 64.0, octet::Isa::avxvnni)->UseRealTime();
BENCHMARK_CAPTURE(run, vpmaddwd_ymm_avx2, loop_avx2_madd, 12 * 32.0, octet::Isa::avx2)->UseRealTime();
BENCHMARK_CAPTURE(run, vfmadd231ps_zmm_fp32, loop_fma512, 24 * 32.0, octet::Isa::avx512vnni)->UseRealTime();
#endif

BENCHMARK_MAIN();
