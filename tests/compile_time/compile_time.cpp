// Measures the CPU time (user + system, the compiler's children included) of compiling the probe
// (compile_time_tu.cpp) three ways: with Eigen alone, with header-only octet, and with octet's compiled mode
// (OCTET_COMPILED_LIB: the heavy bodies are in octet::compiled), and prints the ratios. It asserts nothing about
// the times (they depend on the machine and its load); it fails only when a compile fails.
//   octet_compile_time <compiler command, ending before the source file> -- <probe.cpp> <object file>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

double children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  const auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

/// Runs the command and returns its CPU seconds, or -1 when it failed.
double cpu_seconds(const std::string& command) {
  const double before = children_cpu_seconds();
  const int rc = std::system(command.c_str());
  const double after = children_cpu_seconds();
  if (rc != 0) {
    std::fprintf(stderr, "failed (%d): %s\n", rc, command.c_str());
    return -1.0;
  }
  return after - before;
}

}  // namespace

int main(int argc, char** argv) {
  std::string compiler;
  int i = 1;
  for (; i < argc && std::string(argv[i]) != "--"; ++i) compiler += std::string(compiler.empty() ? "" : " ") + "'" + argv[i] + "'";
  if (i + 2 >= argc) {
    std::fprintf(stderr, "usage: %s <compiler and flags> -- <probe.cpp> <object>\n", argv[0]);
    return 2;
  }
  const std::string tail = std::string(" -c '") + argv[i + 1] + "' -o '" + argv[i + 2] + "'";
  const double eigen = cpu_seconds(compiler + " -DOCTET_PROBE_EIGEN_ONLY" + tail);
  const double header_only = cpu_seconds(compiler + tail);
  const double compiled = cpu_seconds(compiler + " -DOCTET_COMPILED_LIB" + tail);
  if (eigen <= 0 || header_only < 0 || compiled < 0) return 1;
  std::printf("compile time of one translation unit (layer, forward on row-major float and bf16, gemm_i8), CPU s:\n");
  std::printf("  Eigen alone           %6.2f s\n", eigen);
  std::printf("  octet, header-only    %6.2f s  (%.2fx Eigen alone)\n", header_only, header_only / eigen);
  std::printf("  octet, compiled mode  %6.2f s  (%.2fx Eigen alone)\n", compiled, compiled / eigen);
  return 0;
}
