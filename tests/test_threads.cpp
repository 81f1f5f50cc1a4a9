// The default thread count: the process's affinity mask and cgroup CPU quota, then OMP_NUM_THREADS and
// set_num_threads on top.
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#if defined(__linux__)
#  include <filesystem>
#  include <unistd.h>
#endif

#include <octet/core/threads.hpp>

#include "catch.hpp"

using octet::detail::cpus_from_cpu_max;
using octet::detail::cpus_from_quota;

TEST_CASE("threads: cgroup v2 cpu.max text", "[threads]") {
  CHECK(cpus_from_cpu_max("max 100000\n") == 0);  // no limit
  CHECK(cpus_from_cpu_max("max") == 0);
  CHECK(cpus_from_cpu_max("200000 100000\n") == 2);
  CHECK(cpus_from_cpu_max("150000 100000\n") == 2);  // 1.5 CPUs: rounded up
  CHECK(cpus_from_cpu_max("50000 100000") == 1);     // half a CPU: still one thread
  CHECK(cpus_from_cpu_max("1 100000") == 1);
  CHECK(cpus_from_cpu_max("400000 50000\n") == 8);
  CHECK(cpus_from_cpu_max("  300000\t100000") == 3);
  CHECK(cpus_from_cpu_max("") == 0);  // unreadable file
  CHECK(cpus_from_cpu_max("200000") == 0);  // one field
  CHECK(cpus_from_cpu_max("200000\n") == 0);
  CHECK(cpus_from_cpu_max("200000 0") == 0);
  CHECK(cpus_from_cpu_max("abc def") == 0);
  CHECK(cpus_from_cpu_max(nullptr) == 0);
}

TEST_CASE("threads: cgroup v1 quota and period texts", "[threads]") {
  CHECK(cpus_from_quota("-1\n", "100000\n") == 0);  // no limit
  CHECK(cpus_from_quota("300000\n", "100000\n") == 3);
  CHECK(cpus_from_quota("250000", "100000") == 3);
  CHECK(cpus_from_quota("100000", "100000") == 1);
  CHECK(cpus_from_quota("10000", "100000") == 1);
  CHECK(cpus_from_quota("", "100000") == 0);
  CHECK(cpus_from_quota("300000", "") == 0);
  CHECK(cpus_from_quota("300000", "-5") == 0);
  CHECK(cpus_from_quota(nullptr, "100000") == 0);
}

#if defined(__linux__)
namespace {
/// A cgroup tree of the test's own under the temporary directory: write(path, text) creates the file.
struct FakeCgroups {
  std::filesystem::path root;
  explicit FakeCgroups(const std::string& name)
      : root(std::filesystem::temp_directory_path() / ("octet_cgroups_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(root);
  }
  ~FakeCgroups() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
  void write(const std::string& path, const std::string& text) const {
    const std::filesystem::path p = root / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  int limit() const {
    return octet::detail::cgroup_cpu_limit((root / "self_cgroup").c_str(), (root / "fs").c_str());
  }
};
}  // namespace

TEST_CASE("threads: the cgroup CPU quota of a cgroup tree (v2, v1, none)", "[threads]") {
  {
    FakeCgroups t("v2");  // the tightest limit on the way up counts
    t.write("self_cgroup", "0::/user.slice/app.scope\n");
    t.write("fs/user.slice/app.scope/cpu.max", "max 100000\n");
    t.write("fs/user.slice/cpu.max", "300000 100000\n");
    CHECK(t.limit() == 3);
    t.write("fs/user.slice/app.scope/cpu.max", "150000 100000\n");
    CHECK(t.limit() == 2);
  }
  {
    FakeCgroups t("ns");  // a container's own namespace: the path is "/", the limit sits at the root
    t.write("self_cgroup", "0::/\n");
    t.write("fs/cpu.max", "200000 100000\n");
    CHECK(t.limit() == 2);
  }
  {
    FakeCgroups t("v1");  // cgroup v1 (the cpu controller beside others), with a v2 line of a hybrid system
    t.write("self_cgroup", "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n");
    t.write("fs/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "400000\n");
    t.write("fs/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    t.write("fs/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    t.write("fs/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    CHECK(t.limit() == 4);
  }
  {
    FakeCgroups t("cpuacct");  // "cpuacct" alone is not the cpu controller
    t.write("self_cgroup", "2:cpuacct:/a\n");
    t.write("fs/cpu/a/cpu.cfs_quota_us", "100000\n");
    t.write("fs/cpu/a/cpu.cfs_period_us", "100000\n");
    CHECK(t.limit() == 0);
  }
  {
    FakeCgroups t("none");  // no limit anywhere, or no file at all
    t.write("self_cgroup", "0::/a/b\n");
    t.write("fs/a/b/cpu.max", "max 100000\n");
    CHECK(t.limit() == 0);
    CHECK(octet::detail::cgroup_cpu_limit((t.root / "missing").c_str(), "/nonexistent") == 0);
  }
}
#endif

TEST_CASE("threads: the default is between 1 and the machine's CPUs, and set_num_threads wins", "[threads]") {
  const int cpus = octet::detail::available_cpus();
  CHECK(cpus >= 1);
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw > 0) CHECK(cpus <= static_cast<int>(hw));
  CHECK(octet::detail::available_cpus() == cpus);  // computed once
  const int affinity = octet::detail::affinity_cpus();
  if (affinity > 0) CHECK(cpus <= affinity);
  const int quota = octet::detail::cgroup_cpu_limit();
  if (quota > 0) CHECK(cpus <= quota);
  if (!std::getenv("OMP_NUM_THREADS")) CHECK(octet::num_threads() <= cpus);
  octet::set_num_threads(cpus + 3);  // more than the CPUs: the user's word counts
  CHECK(octet::num_threads() == cpus + 3);
  octet::set_num_threads(0);
  CHECK(octet::num_threads() >= 1);
}

// Run by CTest under `taskset -c 0` (tests/CMakeLists.txt), with OCTET_EXPECT_THREADS the count that
// num_threads() must report there: 1 from the mask alone, or OMP_NUM_THREADS when that is set.
TEST_CASE("threads: the default follows the affinity mask", "[.affinity]") {
  const char* expect = std::getenv("OCTET_EXPECT_THREADS");
  REQUIRE(expect != nullptr);
  CHECK(octet::detail::affinity_cpus() == 1);
  CHECK(octet::num_threads() == std::atoi(expect));
  octet::set_num_threads(2);  // set_num_threads still wins
  CHECK(octet::num_threads() == 2);
  octet::set_num_threads(0);
  CHECK(octet::num_threads() == std::atoi(expect));
}
