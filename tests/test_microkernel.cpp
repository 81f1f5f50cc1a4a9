// Every kernel's micro-kernel called directly, in the manner of XNNPACK's GemmMicrokernelTester: every live
// block mr x nr in 1..MR x 1..NR, several depths (odd and even numbers of k-groups: the few-row kernels split k
// over two accumulator sets), overwrite and accumulate, and guard bands around C that must stay untouched.
// Runs on every path this machine has; the expected block is computed in int64 from the unpacked values.
#include <cstdint>
#include <random>
#include <vector>

#include <octet/gemm.hpp>

#include "catch.hpp"

namespace {

using octet::detail::Index;

template <class K>
void check_micro_kernel() {
  using AE = typename K::AElem;
  using BE = typename K::BElem;
  constexpr int MR = K::MR, NR = K::NR, KG = K::KG;
  constexpr Index guard = 5;  // columns and rows of sentinels on every side of the block
  constexpr std::int32_t sentinel = 0x5A5A5A5A;
  std::mt19937 gen(1234);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (Index kgroups : {1, 2, 3, 5, 8, 33}) {
    const Index k = kgroups * KG;
    // A (MR x k) and B (k x NR): random, with the extremes -128 and 127 in every row and column.
    std::vector<int> a(static_cast<std::size_t>(MR * k)), b(static_cast<std::size_t>(k * NR));
    for (auto& v : a) v = byte(gen);
    for (auto& v : b) v = byte(gen);
    for (int r = 0; r < MR; ++r) a[static_cast<std::size_t>(r * k)] = -128, a[static_cast<std::size_t>(r * k + k - 1)] = 127;
    for (int j = 0; j < NR; ++j) b[static_cast<std::size_t>(j)] = -128, b[static_cast<std::size_t>((k - 1) * NR + j)] = -128;
    // Packed panels in the layouts of kernels/contract.hpp (B aligned as PackedB's buffer is; B's inner grouping KB
    // as gemm/pack.hpp's panel_offset says).
    octet::detail::AlignedBuffer ap(static_cast<std::size_t>(MR * k) * sizeof(AE)), bp(static_cast<std::size_t>(k * NR) * sizeof(BE));
    for (Index p = 0; p < k; ++p) {
      for (int r = 0; r < MR; ++r)
        ap.as<AE>()[(p / KG) * MR * KG + r * KG + p % KG] = K::pack_a(static_cast<std::int8_t>(a[static_cast<std::size_t>(r * k + p)]));
      for (int j = 0; j < NR; ++j)
        bp.as<BE>()[octet::detail::panel_offset<K>(p, j)] = K::pack_b(static_cast<std::int8_t>(b[static_cast<std::size_t>(p * NR + j)]));
    }
    const int shift = K::shift_a ? 128 : 0;  // what the kernel computes is (a + shift) x b; the driver corrects it
    for (int mr = 1; mr <= MR; ++mr)
      for (int nr = 1; nr <= NR; ++nr)
        for (bool accumulate : {false, true}) {
          const Index ldc = NR + 2 * guard + 3, rows = MR + 2 * guard;
          std::vector<std::int32_t> c(static_cast<std::size_t>(rows * ldc), sentinel);
          std::int32_t* block = c.data() + guard * ldc + guard;
          for (int r = 0; r < mr; ++r)
            for (int j = 0; j < nr; ++j) block[r * ldc + j] = accumulate ? 1000 * r - 7 * j : sentinel;
          K::micro(mr, nr, kgroups, ap.as<AE>(), bp.as<BE>(), block, ldc, accumulate);
          bool ok = true;
          for (Index i = 0; i < rows; ++i)
            for (Index j = 0; j < ldc; ++j) {
              const Index r = i - guard, q = j - guard;
              std::int64_t want = sentinel;
              if (r >= 0 && r < mr && q >= 0 && q < nr) {
                want = accumulate ? 1000 * r - 7 * q : 0;
                for (Index p = 0; p < k; ++p)
                  want += std::int64_t(a[static_cast<std::size_t>(r * k + p)] + shift) * b[static_cast<std::size_t>(p * NR + q)];
              }
              ok = ok && c[static_cast<std::size_t>(i * ldc + j)] == static_cast<std::int32_t>(want);
            }
          INFO(K::name << ": kgroups " << kgroups << ", mr " << mr << ", nr " << nr << (accumulate ? ", accumulate" : ""));
          REQUIRE(ok);
        }
  }
}

}  // namespace

TEST_CASE("microkernel: every block shape, depth and guard band on every path", "[microkernel]") {
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    octet::detail::with_path(isa, [](auto path) { check_micro_kernel<typename decltype(path)::Kernel>(); });
  }
}
