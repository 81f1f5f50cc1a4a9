// octet — the thread count and a static parallel loop.
//
// OpenMP is used when the including translation unit is compiled with it (the CMake target links it when
// available); otherwise std::thread. Work is always split into the same independent tasks, whatever the
// number of threads, so results are bit-identical for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#  include <omp.h>
#endif

namespace octet {
namespace detail {

inline int default_num_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(env);  // OMP_NUM_THREADS may hold a list ("4,2"): its first entry counts
    if (n > 0) return n;
  }
#if defined(_OPENMP)
  return std::max(1, omp_get_max_threads());
#else
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#endif
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set by the user
  return n;
}

}  // namespace detail

/// Sets how many threads octet's kernels use (n <= 0 restores the default: OMP_NUM_THREADS, else all cores).
inline void set_num_threads(int n) { detail::thread_setting().store(n > 0 ? n : 0); }

/// The number of threads octet's kernels use.
inline int num_threads() {
  const int n = detail::thread_setting().load();
  return n > 0 ? n : detail::default_num_threads();
}

namespace detail {

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
#  pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (long t = 0; t < tasks; ++t) run(t);
#else
  std::atomic<long> next{0};
  auto worker = [&] {
    for (long t = next++; t < tasks; t = next++) run(t);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  try {
    for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  } catch (const std::system_error&) {
    // no more threads to be had: the ones already started and this one share the work
  }
  worker();
  for (auto& th : pool) th.join();
#endif
  if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace octet
