// A tiny C ABI over octet (and, for side-by-side runs, oneDNN and Eigen) for benchmarks driven from another
// language in the same process: bench/peers_onnxruntime.py loads it with ctypes and times octet, oneDNN, Eigen
// and onnxruntime on the same data, interleaved. Not part of octet's API: a benchmark harness.
//
// Every matrix is a dense row-major buffer owned by the caller (as NumPy and onnxruntime hold them):
//   W  k x n  float (octet_capi_linear_create) or int8 (octet_capi_gemm_create, octet_capi_onednn_create)
//   X  m x k  float,  Y m x n float;   A m x k int8,  C m x n int32.
// Functions returning int return 0 on success and -1 on an error (octet_capi_last_error() says which);
// create functions return NULL on an error.
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include <Eigen/Core>

#include <octet/gemm.hpp>
#include <octet/llm_int8.hpp>

#if defined(_OPENMP)
#  include <omp.h>
#endif
#if OCTET_HAVE_DNNL
#  include <dnnl.hpp>
#endif
#if OCTET_HAVE_EIGEN_NATIVE
#  include "eigen_native.hpp"
#endif

#define OCTET_CAPI extern "C" __attribute__((visibility("default")))

namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMajorI8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

thread_local std::string last_error;
int threads_setting = 1;

template <class F>
int guarded(F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown exception";
  }
  return -1;
}

template <class T, class F>
T* guarded_create(F&& f) {
  T* out = nullptr;
  guarded([&] { out = f(); });
  return out;
}

struct Gemm {
  long k, n;
  octet::PackedB packed;
};

#if OCTET_HAVE_DNNL
struct OneDnn {
  long m, k, n;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul prim;
  dnnl::memory a_mem, b_mem, c_mem;
};
#endif

}  // namespace

OCTET_CAPI const char* octet_capi_last_error() { return last_error.c_str(); }

/// The kernel path octet runs ("avx2", "avx512vnni", ...).
OCTET_CAPI const char* octet_capi_isa() { return octet::active_isa(); }

/// 1 when this library was built with oneDNN / with the -march=native Eigen.
#if OCTET_HAVE_DNNL
OCTET_CAPI int octet_capi_have_onednn() { return 1; }
#else
OCTET_CAPI int octet_capi_have_onednn() { return 0; }
#endif
#if OCTET_HAVE_EIGEN_NATIVE
OCTET_CAPI int octet_capi_have_eigen_native() { return 1; }
#else
OCTET_CAPI int octet_capi_have_eigen_native() { return 0; }
#endif

/// One thread count for everyone in this library: octet (octet::set_num_threads), Eigen (setNbThreads) and
/// oneDNN (its OpenMP runtime: omp_set_num_threads, which holds for the calling thread).
OCTET_CAPI void octet_capi_set_threads(int n) {
  threads_setting = n > 0 ? n : 1;
  octet::set_num_threads(n);
  Eigen::setNbThreads(threads_setting);
#if defined(_OPENMP)
  omp_set_num_threads(threads_setting);
#endif
}

// --- octet::LLMInt8Linear: float X in, float Y out --------------------------------------------------------

OCTET_CAPI void* octet_capi_linear_create(const float* w, long k, long n, float threshold) {
  return guarded_create<octet::LLMInt8Linear>(
      [&] { return new octet::LLMInt8Linear(Eigen::Map<const RowMajorF>(w, k, n), threshold); });
}

OCTET_CAPI int octet_capi_linear_forward(const void* layer, const float* x, long m, float* y) {
  return guarded([&] {
    const auto& l = *static_cast<const octet::LLMInt8Linear*>(layer);
    l.forward(Eigen::Map<const RowMajorF>(x, m, l.in_features()), Eigen::Map<RowMajorF>(y, m, l.out_features()));
  });
}

/// How many columns of X the layer would compute in float (|x| > threshold), or -1 on an error.
OCTET_CAPI long octet_capi_linear_outliers(const void* layer, const float* x, long m) {
  long count = -1;
  guarded([&] {
    const auto& l = *static_cast<const octet::LLMInt8Linear*>(layer);
    count = static_cast<long>(octet::outlier_columns(Eigen::Map<const RowMajorF>(x, m, l.in_features()), l.threshold()).size());
  });
  return count;
}

OCTET_CAPI void octet_capi_linear_free(void* layer) { delete static_cast<octet::LLMInt8Linear*>(layer); }

// --- octet::gemm_i8 on weights packed once: int8 A in, int32 C out --------------------------------------

OCTET_CAPI void* octet_capi_gemm_create(const std::int8_t* b, long k, long n) {
  return guarded_create<Gemm>([&] { return new Gemm{k, n, octet::PackedB(Eigen::Map<const RowMajorI8>(b, k, n))}; });
}

/// C = A B into the caller's row-major C: each finished int32 tile of the driver is copied row by row (octet's
/// tiles are row-major), as gemm_i8 stores them into its column-major result.
OCTET_CAPI int octet_capi_gemm(const void* gemm, const std::int8_t* a, long m, std::int32_t* c) {
  return guarded([&] {
    const auto& g = *static_cast<const Gemm*>(gemm);
    octet::detail::gemm_i8_tiles(
        Eigen::Map<const RowMajorI8>(a, m, g.k), g.packed,
        [&](Eigen::Index i0, Eigen::Index j0, Eigen::Index rows, Eigen::Index cols, const std::int32_t* tile,
            Eigen::Index ldt) {
          for (Eigen::Index i = 0; i < rows; ++i)
            std::memcpy(c + (i0 + i) * g.n + j0, tile + i * ldt, sizeof(std::int32_t) * static_cast<std::size_t>(cols));
        },
        "octet_capi_gemm");
  });
}

OCTET_CAPI void octet_capi_gemm_free(void* gemm) { delete static_cast<Gemm*>(gemm); }

// --- oneDNN matmul s8 x s8 -> s32, weights reordered once (as bench_gemm) ------------------------------------

/// A primitive for exactly m x k x n (oneDNN's primitives are made per shape); NULL without oneDNN.
OCTET_CAPI void* octet_capi_onednn_create(const std::int8_t* b, long m, long k, long n) {
#if OCTET_HAVE_DNNL
  return guarded_create<OneDnn>([&] {
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    auto d = std::make_unique<OneDnn>();
    d->m = m;
    d->k = k;
    d->n = n;
    const memory::desc a_md({m, k}, dt::s8, tag::ab);
    const memory::desc b_any({k, n}, dt::s8, tag::any);
    const memory::desc b_plain({k, n}, dt::s8, tag::ab);
    const memory::desc c_md({m, n}, dt::s32, tag::ab);
    const matmul::primitive_desc pd(matmul::desc(a_md, b_any, c_md), d->eng);
    d->prim = matmul(pd);
    memory b_user(b_plain, d->eng, const_cast<std::int8_t*>(b));
    d->b_mem = memory(pd.weights_desc(), d->eng);
    reorder(b_user, d->b_mem).execute(d->strm, b_user, d->b_mem);  // once, as an inference engine does
    d->strm.wait();
    d->a_mem = memory(a_md, d->eng, DNNL_MEMORY_NONE);
    d->c_mem = memory(c_md, d->eng, DNNL_MEMORY_NONE);
    return d.release();
  });
#else
  (void)b, (void)m, (void)k, (void)n;
  last_error = "built without oneDNN";
  return nullptr;
#endif
}

OCTET_CAPI int octet_capi_onednn(void* h, const std::int8_t* a, std::int32_t* c) {
#if OCTET_HAVE_DNNL
  return guarded([&] {
    auto& d = *static_cast<OneDnn*>(h);
    d.a_mem.set_data_handle(const_cast<std::int8_t*>(a));
    d.c_mem.set_data_handle(c);
    d.prim.execute(d.strm, {{DNNL_ARG_SRC, d.a_mem}, {DNNL_ARG_WEIGHTS, d.b_mem}, {DNNL_ARG_DST, d.c_mem}});
    d.strm.wait();
  });
#else
  (void)h, (void)a, (void)c;
  last_error = "built without oneDNN";
  return -1;
#endif
}

OCTET_CAPI void octet_capi_onednn_free(void* h) {
#if OCTET_HAVE_DNNL
  delete static_cast<OneDnn*>(h);
#else
  (void)h;
#endif
}

// --- Eigen float: Y = X W ------------------------------------------------------------------------------------

/// Eigen's float GEMM. native = 0: the Eigen of this library (built without -m flags: SSE2, as octet's users
/// build it); native = 1: Eigen compiled with -march=native (bench/eigen_native.hpp), -1 when not built.
OCTET_CAPI int octet_capi_eigen(int native, const float* x, const float* w, float* y, long m, long k, long n) {
  // Row-major Y = X W is column-major Y^T = W^T X^T: the same buffers, no copy.
  if (native) {
#if OCTET_HAVE_EIGEN_NATIVE
    octet_bench_eigen_native_gemm(n, m, k, w, x, y, threads_setting);
    return 0;
#else
    last_error = "built without the -march=native Eigen";
    return -1;
#endif
  }
  return guarded([&] {
    Eigen::Map<RowMajorF>(y, m, n).noalias() = Eigen::Map<const RowMajorF>(x, m, k) * Eigen::Map<const RowMajorF>(w, k, n);
  });
}
