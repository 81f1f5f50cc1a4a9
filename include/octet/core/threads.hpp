// octet — the thread count and a static parallel loop.
//
// OpenMP is used when the including translation unit is compiled with it (the CMake target links it when
// available); otherwise a persistent pool of std::threads. Work is always split into the same independent tasks, whatever the
// number of threads, so results are bit-identical for any thread count.
//
// The default thread count is the number of CPUs the process may run on: its affinity mask (taskset, numactl,
// sched_setaffinity, a container's cpuset) and, on Linux, its cgroup's CPU quota (docker --cpus, Kubernetes CPU
// limits: cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, rounded up to whole CPUs), read once, at
// the first call. hardware_concurrency() counts every CPU of the machine, which oversubscribes a process limited
// to a few of them: each extra thread then waits for a time slice in the middle of a parallel region.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#  include <omp.h>
#endif
#if defined(__unix__)
#  include <unistd.h>
#endif
#if defined(__linux__)
#  include <sched.h>
#endif

namespace octet {
namespace detail {

/// The CPUs a cgroup CPU quota allows: ceil(quota / period), at least 1; 0 for no limit (quota "max" or
/// negative) or a text that is not a number.
inline int cpus_from_quota(const char* quota, const char* period) {
  if (!quota || !period) return 0;
  char* end = nullptr;
  const long long q = std::strtoll(quota, &end, 10);
  if (end == quota || q <= 0) return 0;  // "max", "-1", empty or garbage: no limit
  const long long p = std::strtoll(period, &end, 10);
  if (end == period || p <= 0) return 0;
  const long long cpus = (q + p - 1) / p;
  return static_cast<int>(std::min<long long>(std::max<long long>(cpus, 1), 1 << 20));
}

/// The CPUs allowed by the text of a cgroup v2 cpu.max file ("<quota> <period>", or "max <period>" for no
/// limit): see cpus_from_quota.
inline int cpus_from_cpu_max(const char* text) {
  if (!text) return 0;
  const char* p = text;
  while (*p == ' ' || *p == '\t') ++p;
  const char* q = p;
  while (*q && *q != ' ' && *q != '\t' && *q != '\n') ++q;
  if (q == p || !*q || *q == '\n') return 0;  // one field only
  return cpus_from_quota(p, q);
}

/// The first line of a small file ("" when it cannot be read).
inline std::string read_first_line(const std::string& path) {
  std::string line;
  if (std::FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof buf, f)) line = buf;
    std::fclose(f);
  }
  return line;
}

/// The tightest CPU quota of the process's cgroup and its ancestors (Linux, cgroup v2 or v1 mounted at
/// /sys/fs/cgroup), in CPUs; 0 where there is none or it cannot be read. The two paths are parameters for the
/// tests, which give it a cgroup tree of their own.
inline int cgroup_cpu_limit(const char* self_cgroup = "/proc/self/cgroup", const char* mount = "/sys/fs/cgroup") {
#if defined(__linux__)
  int limit = 0;
  auto take = [&limit](int cpus) {
    if (cpus > 0) limit = limit > 0 ? std::min(limit, cpus) : cpus;
  };
  // Walks from <mount>/<path> (v2) or <mount>/cpu/<path> (v1) up to that root: a limit anywhere above applies
  // too. (In a container with its own cgroup namespace the path is "/", and the walk reads the container's root.)
  auto walk = [](std::string dir, const std::string& root, auto&& visit) {
    for (;;) {
      visit(dir);
      if (dir.size() <= root.size()) break;
      dir.erase(dir.find_last_of('/'));
    }
  };
  std::FILE* f = std::fopen(self_cgroup, "r");
  if (!f) return 0;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f)) {  // lines "<id>:<controllers>:<path>"
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    const std::size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path == "/") path.clear();
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {  // cgroup v2
      const std::string root = mount;
      walk(root + path, root, [&](const std::string& dir) {
        take(cpus_from_cpu_max(read_first_line(dir + "/cpu.max").c_str()));
      });
    } else if (("," + controllers + ",").find(",cpu,") != std::string::npos) {  // cgroup v1, the cpu controller
      for (const char* sub : {"/cpu,cpuacct", "/cpu"}) {
        const std::string root = std::string(mount) + sub;
        walk(root + path, root, [&](const std::string& dir) {
          take(cpus_from_quota(read_first_line(dir + "/cpu.cfs_quota_us").c_str(),
                               read_first_line(dir + "/cpu.cfs_period_us").c_str()));
        });
      }
    }
  }
  std::fclose(f);
  return limit;
#else
  (void)self_cgroup;
  (void)mount;
  return 0;
#endif
}

/// The CPUs in this process's affinity mask (0 where the system does not say).
inline int affinity_cpus() {
#if defined(__linux__) && defined(CPU_ALLOC)
  for (std::size_t cpus = 1024; cpus <= (std::size_t(1) << 16); cpus *= 2) {  // a fixed cpu_set_t holds 1024: larger machines need more
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (!set) return 0;
    const std::size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    const bool ok = sched_getaffinity(0, size, set) == 0;
    const int count = ok ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (ok) return count;
  }
#endif
  return 0;
}

/// The CPUs this process may use: its affinity mask, capped by its cgroup CPU quota (else
/// hardware_concurrency()); computed once.
inline int available_cpus() {
  static const int cpus = [] {
    int n = affinity_cpus();
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    const int quota = cgroup_cpu_limit();
    if (quota > 0) n = std::min(n, quota);
    return std::max(n, 1);
  }();
  return cpus;
}

inline int default_num_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(env);  // OMP_NUM_THREADS may hold a list ("4,2"): its first entry counts
    if (n > 0) return n;
  }
#if defined(_OPENMP)
  // OpenMP's own default follows the affinity mask but not a cgroup quota; omp_set_num_threads() lowers it.
  return std::max(1, std::min(omp_get_max_threads(), available_cpus()));
#else
  return available_cpus();
#endif
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set by the user
  return n;
}

}  // namespace detail

/// Sets how many threads octet's kernels use (n <= 0 restores the default: OMP_NUM_THREADS, else the CPUs
/// this process may use: its affinity mask and cgroup CPU quota).
inline void set_num_threads(int n) { detail::thread_setting().store(n > 0 ? n : 0); }

/// The number of threads octet's kernels use.
inline int num_threads() {
  const int n = detail::thread_setting().load();
  return n > 0 ? n : detail::default_num_threads();
}

namespace detail {

#if !defined(_OPENMP)
/// The threads of parallel_for without OpenMP: started on first use, then kept (blocked on a condition variable
/// between jobs) for the life of the process, so that a parallel region costs a wake-up, not a thread start.
/// One job at a time: a caller that finds the pool busy (another thread's job, or a parallel_for nested in a
/// task) runs its tasks itself, so concurrent callers do not wait for each other but only one of them gets the
/// helpers. The workers are started by the first caller and inherit its CPU affinity. A child process made by
/// fork() gets a new pool (the parent's threads do not exist there).
class ThreadPool {
 public:
  static ThreadPool& instance() {
    // Never destroyed: its detached threads may outlive static destructors.
    static std::atomic<ThreadPool*> pool{new ThreadPool};
    ThreadPool* p = pool.load();
#if defined(__unix__)
    if (p->pid_ != ::getpid()) {  // forked: the workers are gone and the mutexes may be held by no one alive
      ThreadPool* fresh = new ThreadPool;
      if (!pool.compare_exchange_strong(p, fresh)) delete fresh;
      p = pool.load();
    }
#endif
    return *p;
  }

  /// Runs body(t) for t in [0, tasks) on this thread and up to threads - 1 workers; false (nothing run) when
  /// the pool is busy or this thread is already inside one of its jobs. body must not throw.
  template <class Body>
  bool try_run(long tasks, int threads, Body& body) {
    if (in_job()) return false;
    std::unique_lock<std::mutex> owner(busy_, std::try_to_lock);
    if (!owner) return false;
    in_job() = true;
    struct Leave {
      ~Leave() { in_job() = false; }
    } leave;
    const int helpers = grow(threads - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = [](void* ctx, long t) { (*static_cast<Body*>(ctx))(t); };
      ctx_ = &body;
      tasks_ = tasks;
      next_.store(0);
      wanted_ = helpers;
      active_ = helpers;
      ++generation_;
    }
    work_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return active_ == 0; });
    return true;
  }

 private:
  /// Starts workers until there are `want` (or the system refuses more); returns how many there are.
  int grow(int want) {
    while (started_ < want) {
      try {
        std::thread(&ThreadPool::loop, this, started_).detach();
      } catch (const std::system_error&) {
        break;  // no more threads to be had: the ones there share the work
      }
      ++started_;
    }
    return std::min(started_, std::max(want, 0));
  }
  void drain() {
    for (long t = next_++; t < tasks_; t = next_++) fn_(ctx_, t);
  }
  /// Whether this thread is running a job of the pool (as its caller or as a worker).
  static bool& in_job() {
    thread_local bool inside = false;
    return inside;
  }
  void loop(int index) {
    in_job() = true;
    unsigned long seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= wanted_) continue;
      lock.unlock();
      drain();
      lock.lock();
      if (--active_ == 0) done_.notify_one();
    }
  }

  std::mutex busy_;   // held by the caller for a whole job
  std::mutex mutex_;  // guards the job description below
  std::condition_variable work_, done_;
  void (*fn_)(void*, long) = nullptr;
  void* ctx_ = nullptr;
  long tasks_ = 0;
  std::atomic<long> next_{0};
  int wanted_ = 0, active_ = 0, started_ = 0;
  unsigned long generation_ = 0;
#if defined(__unix__)
  const pid_t pid_ = ::getpid();
#endif
};
#endif

/// Runs body(task) for task in [0, tasks) on up to `threads` threads; each task runs on exactly one thread.
/// If a task throws (e.g. std::bad_alloc), the remaining tasks are skipped and the first exception is
/// rethrown on the calling thread once every thread has stopped.
template <class Body>
void parallel_for(long tasks, int threads, Body&& body) {
  if (tasks <= 0) return;
  threads = static_cast<int>(std::min<long>(std::max(threads, 1), tasks));
  if (threads == 1) {
    for (long t = 0; t < tasks; ++t) body(t);
    return;
  }
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto run = [&](long t) {
    if (failed.load(std::memory_order_relaxed)) return;
    try {
      body(t);
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
#if defined(_OPENMP)
  // Dynamic scheduling by hand: LLVM's libomp allocates in its schedule(dynamic) dispatch on every loop, and
  // octet's calls allocate nothing in steady state. Thread i runs task i first (so every thread of the team
  // runs at least one task per call, and has grown its scratch after the first call), then the tasks from
  // the team size up, from one counter.
  std::atomic<long> next{0};
#  pragma omp parallel num_threads(threads)
  {
    const long team = omp_get_num_threads();
    for (long t = omp_get_thread_num(); t < tasks; t = team + next.fetch_add(1, std::memory_order_relaxed)) run(t);
  }
#else
  if (!ThreadPool::instance().try_run(tasks, threads, run))  // the pool is busy (another caller, or nested)
    for (long t = 0; t < tasks; ++t) run(t);
#endif
  if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace octet
