// octet — the thread count and a static parallel loop.
//
// OpenMP is used when the including translation unit is compiled with it (the CMake target links it when
// available); otherwise a persistent pool of std::threads. Work is always split into the same independent tasks, whatever the
// number of threads, so results are bit-identical for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#  include <omp.h>
#endif
#if defined(__unix__)
#  include <unistd.h>
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
#  pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (long t = 0; t < tasks; ++t) run(t);
#else
  if (!ThreadPool::instance().try_run(tasks, threads, run))  // the pool is busy (another caller, or nested)
    for (long t = 0; t < tasks; ++t) run(t);
#endif
  if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace octet
