// What octet's benchmarks share: one thread count for every library, and a reporter that keeps the median
// GOPS of each case for the summary table printed at the end of a run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include <octet/core/threads.hpp>

#if defined(_OPENMP)
#  include <omp.h>
#endif

namespace octet_bench {

/// "threads:N" means N for everyone: octet, Eigen and (through OpenMP) oneDNN.
inline void set_all_threads(int threads) {
  octet::set_num_threads(threads);
  Eigen::setNbThreads(threads);
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#endif
}

/// The console reporter, also keeping the median (or single-run) GOPS counter, and every other counter, of every
/// case by name.
class TableReporter : public benchmark::ConsoleReporter {
 public:
  explicit TableReporter(OutputOptions options = OO_Defaults) : benchmark::ConsoleReporter(options) {}
  bool ReportContext(const Context& context) override { return benchmark::ConsoleReporter::ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const bool single = run.repetitions <= 1 && run.run_type == Run::RT_Iteration;
      if (run.error_occurred || !(run.aggregate_name == "median" || single)) continue;
      const auto it = run.counters.find("GOPS");
      if (it != run.counters.end()) medians[run.run_name.function_name] = it->second.value;
      for (const auto& c : run.counters) counters[run.run_name.function_name][c.first] = c.second.value;
    }
    benchmark::ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> medians;
  /// Every counter of the same runs (median or single run), by case name and counter name.
  std::map<std::string, std::map<std::string, double>> counters;
};

}  // namespace octet_bench
