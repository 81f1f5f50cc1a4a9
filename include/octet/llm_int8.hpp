// octet — LLM.int8(): vector-wise int8 matmul, the mixed-precision outlier decomposition and prepared weights
// (the integer-domain product of two Quantized matrices is in quantized_matmul.hpp).
//
// What is LLM.int8()?
//
// Y = X W with X (m x k) float activations and W (k x n) float weights. Vector-wise int8 quantizes every row
// of X and every column of W by its own absolute maximum (codes in [-127, 127]), multiplies the codes in int8
// with exact int32 accumulation, and rescales each result by its row's and column's steps:
//
//     Y(i, j) ~ C(i, j) * step_x(i) * step_w(j),   step = max|v| / 127,   C = int8 GEMM of the codes.
//
// In large language models a few feature dimensions (columns of X) carry values 20-60x larger than the rest
// (Dettmers et al., 2022). One such value sets the scale of its whole row and crushes the other values of the
// row to a handful of codes. LLM.int8() routes every column of X that holds a value with |x| > threshold
// (strictly, default 6) to a float product with the matching rows of W, and multiplies the rest vector-wise;
// the two are summed. The scales of the int8 part are then taken over the non-outlier columns only.
//
// How it runs here: this file is the Eigen face; llm/passes.hpp has the passes (outlier scan, fused row
// quantization, int8 GEMM with a dequantizing epilogue), written once over each path's float ops (plain C++,
// AVX2 or NEON), which perform the same float operations in the same order (no FMA contraction, round half to
// even): every path — and every thread count — gives bit-identical results. docs/llm_int8.md has the full
// reference: semantics, options, guarantees and measured figures.
#pragma once

#include <cstddef>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "core/checks.hpp"
#include "core/config.hpp"
#include "core/isa.hpp"
#include "core/eigen_views.hpp"
#include "gemm.hpp"
#include "llm/format.hpp"
#include "llm/passes.hpp"
// Code written against octet 0.1 found matmul(qa, qb) and the quantizers here: they stay reachable.
#include "quantized_matmul.hpp"

namespace octet {

/// What the float outlier path of LLMInt8Linear multiplies the outlier columns of X by.
enum class OutlierWeights {
  /// The int8 weights dequantized (code * column step), as bitsandbytes does. Nothing beyond the int8 weights
  /// is stored: a prepared layer takes about k x n bytes (2 k x n on the AVX2 path, whose packed layout is int16).
  dequantized_int8,
  /// The original float32 weights, as the LLM.int8() paper does: exact outlier products, but the layer also
  /// keeps a float copy of W (4 k x n bytes more), because the outlier columns are known only per call.
  float32,
};

/// Which rules LLMInt8Linear follows (docs/llm_int8.md lists them side by side with bitsandbytes').
enum class Semantics {
  /// The LLM.int8() paper: outlier columns hold some |x| > threshold; a row's scale is taken over its
  /// non-outlier columns; threshold 0 sends every column holding a non-zero value to float (slow: keep it
  /// for experiments).
  paper,
  /// bitsandbytes' Linear8bitLt: outlier columns hold some |x| >= threshold; a threshold of 0 turns the
  /// decomposition off (pure vector-wise, Linear8bitLt's default); a row's scale is taken over all its values
  /// with the outlier elements (|x| >= threshold) counted as 0, so the other values of an outlier column still
  /// count; outlier columns are code 0 in the int8 operand, as in the paper.
  bitsandbytes,
};

/// Options of LLMInt8Linear (all optional).
struct LLMInt8Options {
  /// The rules for outliers and row scales. Default: the paper's (octet 0.1's behaviour).
  Semantics semantics = Semantics::paper;
  /// Weights used by the outlier path. Default: dequantized_int8 (bitsandbytes), the memory-lean choice.
  OutlierWeights outlier_weights = OutlierWeights::dequantized_int8;
  /// Kernel family the weights are packed for; empty (the default): the active one, octet::active_isa_id(),
  /// asked when the layer is built (so that merely declaring options never reads OCTET_ISA). It also selects the
  /// float ops of the passes: plain C++ for Isa::scalar, AVX2 for the other x86 families, NEON for aarch64.
  std::optional<Isa> isa;
  /// Optional bias, added to every row of the result: empty (none) or n entries.
  Eigen::VectorXf bias;
  /// Block-wise scales along k: 0 (the default) is LLM.int8()'s vector-wise scaling, one step per row of X and
  /// one per column of W; 32, 64, 128 or 256 cut k into blocks of that many values (the last one may be
  /// shorter), with one step per row of X and block, and one per column of W and block. Within a block the int8
  /// products are summed exactly in int32; each block sum is scaled by step_x(i, b) * step_w(b, j) in float and
  /// accumulated, block after block, inside the GEMM. Outlier columns (the threshold) work on top of it. Any other
  /// value is std::invalid_argument.
  Eigen::Index block_size = 0;
};

/// What one LLMInt8Linear call did (pass a pointer to receive it).
struct LLMInt8Stats {
  std::vector<Eigen::Index> outlier_columns;  ///< columns of X computed in float, ascending
};

namespace detail {
namespace llm {

/// The body of matmul_vectorwise / matmul_llm_int8 on views (compiled once in octet::compiled).
template <class T>
Eigen::MatrixXf matmul_llm_int8(const ConstView<T>& x, const ConstView<T>& w, const float* threshold, const char* who);
/// The body of outlier_columns on a view.
template <class T>
std::vector<Eigen::Index> outlier_columns(const ConstView<T>& x, float threshold);

template <class DX, class DW>
Eigen::MatrixXf matmul_llm_int8(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DW>& w, const float* threshold,
                                const char* who) {
  check_inner(who, "X", x.rows(), x.cols(), "W", w.rows(), w.cols(),
              "W looks transposed: W is [in x out] here (pass w.transpose() for [out x in] weights)");
  if (threshold) check_threshold(*threshold, who);
  check_depth(x.cols(), who);
  return with_float_view(x, who, "X", [&](const FloatView& xv) {
    return with_float_view(w, who, "W", [&](const FloatView& wv) { return matmul_llm_int8(xv, wv, threshold, who); });
  });
}

}  // namespace llm
}  // namespace detail

/// X * W by vector-wise int8: X AbsMax-quantized per row, W per column, int8 GEMM with exact int32
/// accumulation, result C(i, j) * step_x(i) * step_w(j) (= C / (s_x(i) s_w(j)) with s = 127 / absmax).
/// An all-zero row or column gives 0. Throws std::invalid_argument on a shape mismatch (naming both shapes),
/// std::domain_error on NaN/Inf in X or W (naming the position), std::overflow_error when k > 131071.
template <class DX, class DW>
Eigen::MatrixXf matmul_vectorwise(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DW>& w) {
  return detail::llm::matmul_llm_int8(x, w, nullptr, "octet::matmul_vectorwise");
}

/// X * W by LLM.int8(): the columns of X holding some |x| > threshold (strictly) are multiplied in float by
/// the matching (float) rows of W; the rest vector-wise in int8, X's row scales over the non-outlier columns and
/// W's column scales over the non-outlier rows; the two are summed. With a threshold at or above every |x| the
/// result is bit-identical to matmul_vectorwise. Errors as matmul_vectorwise; a NaN threshold is
/// std::invalid_argument.
template <class DX, class DW>
Eigen::MatrixXf matmul_llm_int8(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DW>& w, float threshold = 6.0f) {
  return detail::llm::matmul_llm_int8(x, w, &threshold, "octet::matmul_llm_int8");
}

/// The columns of X that LLM.int8() computes in float: those with some |X(i, j)| > threshold, ascending.
/// Throws std::domain_error on NaN/Inf.
template <class D>
std::vector<Eigen::Index> outlier_columns(const Eigen::MatrixBase<D>& x, float threshold = 6.0f) {
  detail::check_threshold(threshold, "octet::outlier_columns");
  return detail::with_float_view(x, "octet::outlier_columns", "X",
                                 [&](const detail::FloatView& v) { return detail::llm::outlier_columns(v, threshold); });
}

/// A linear layer Y = X W (+ bias) with W prepared once for LLM.int8() inference.
///
/// The constructor quantizes W per column by AbsMax over ALL its rows (the outlier columns of X are not known
/// yet; matmul_llm_int8 scales over the non-outlier rows only — the one semantic difference) and packs the
/// codes for the int8 GEMM. Each call finds the outlier columns of X, quantizes X's rows in one fused pass
/// (outlier columns are code 0 in the int8 operand), runs the int8 GEMM and, in its epilogue, dequantizes and
/// adds the float outlier product (see OutlierWeights) and the bias. operator() is const and keeps no state:
/// it is safe to call from several threads at once (per-call buffers are local or per thread).
class LLMInt8Linear {
 public:
  /// An empty layer (0 x 0), as a moved-from one is.
  LLMInt8Linear() = default;
  /// Copies are deep (the packed weights too), as Eigen's matrices'.
  LLMInt8Linear(const LLMInt8Linear&) = default;
  LLMInt8Linear& operator=(const LLMInt8Linear&) = default;
  /// Moving leaves the source an empty (0 x 0) layer.
  LLMInt8Linear(LLMInt8Linear&& o) noexcept { swap(o); }
  LLMInt8Linear& operator=(LLMInt8Linear&& o) noexcept {
    if (this == &o) return *this;  // self-move keeps the layer
    LLMInt8Linear empty;
    swap(o);
    o.swap(empty);
    return *this;
  }

  /// Prepares W given as [in x out] (k x n: Y = X W), any real Eigen expression. For weights stored as
  /// [out x in] (torch.nn.Linear.weight, Hugging Face, bitsandbytes) use from_torch. Throws std::domain_error on
  /// NaN/Inf in W or in the bias, std::invalid_argument on a NaN threshold or a bias that is neither empty nor n
  /// long, std::overflow_error when k > 131071.
  template <class D>
  explicit LLMInt8Linear(const Eigen::MatrixBase<D>& w, float threshold = 6.0f, LLMInt8Options options = LLMInt8Options()) {
    build(w, threshold, std::move(options), "octet::LLMInt8Linear", "W", Layout::in_out);
  }

  /// A layer from W given as [out x in] (n x k), as torch.nn.Linear.weight, Hugging Face state dicts and
  /// bitsandbytes keep it: any real Eigen expression (a row-major buffer as a Map, a block). W's transpose is
  /// read in place and packed: no copy beyond what the packing of an expression needs. Results are bit for bit
  /// those of LLMInt8Linear(weight.transpose(), threshold, options). Errors as the constructor (positions in W
  /// are named as in its transpose, "W^T").
  template <class D>
  static LLMInt8Linear from_torch(const Eigen::MatrixBase<D>& weight, float threshold = 6.0f,
                                  LLMInt8Options options = LLMInt8Options()) {
    LLMInt8Linear layer;
    layer.build(weight.transpose(), threshold, std::move(options), "octet::LLMInt8Linear::from_torch", "W^T",
                Layout::torch);
    return layer;
  }

  /// A layer from bitsandbytes' int8 weights exactly as its state dict holds them: CB (int8, [out x in], any
  /// Eigen expression; read in place through its transpose) and SCB (the absolute maximum of each row of W,
  /// `out` floats: a vector, or a 1 x out / out x 1 matrix). The steps are SCB / 127 (not SCB itself: passing
  /// SCB as steps would scale every result by 127). Results are bit for bit those of
  /// from_quantized(CB.transpose(), SCB / 127, threshold, options). bitsandbytes' int8 weights are vector-wise:
  /// options.block_size must be 0. Throws std::invalid_argument on a block size, an SCB of the wrong shape, or
  /// OutlierWeights::float32; std::domain_error on a negative or non-finite SCB entry.
  template <class DC, class DS>
  static LLMInt8Linear from_bitsandbytes(const Eigen::MatrixBase<DC>& cb, const Eigen::MatrixBase<DS>& scb,
                                         float threshold = 6.0f, LLMInt8Options options = LLMInt8Options()) {
    const char* who = "octet::LLMInt8Linear::from_bitsandbytes";
    if (options.block_size != 0)
      throw std::invalid_argument(std::string(who) + ": block_size is " + std::to_string(options.block_size) +
                                  "; bitsandbytes' CB and SCB are vector-wise (one scale per output), so it must be 0");
    const Eigen::Index out = cb.rows();
    if ((scb.rows() != 1 && scb.cols() != 1) || scb.size() != out)
      throw std::invalid_argument(
          std::string(who) + ": SCB is " + detail::shape(scb.rows(), scb.cols()) + ", CB is " +
          detail::shape(cb.rows(), cb.cols()) + " (SCB holds one absmax per row of CB: " + std::to_string(out) +
          " entries)" +
          (scb.size() == cb.cols() && cb.rows() != cb.cols()
               ? "; CB looks transposed: from_bitsandbytes takes CB as [out x in], as bitsandbytes stores it"
               : ""));
    Eigen::VectorXf steps(out);
    for (Eigen::Index j = 0; j < out; ++j) {
      const float a = static_cast<float>(scb.rows() == 1 ? scb(0, j) : scb(j, 0));
      if (!(a >= 0.0f) || !std::isfinite(a))
        throw std::domain_error(std::string(who) + ": SCB entry " + std::to_string(j) + " is " + detail::to_text(a) +
                                " (absolute maxima are finite and >= 0)");
      steps(j) = a / 127.0f;
    }
    return quantized(cb.transpose(), steps, threshold, std::move(options), who, Layout::bitsandbytes);
  }

  /// Y = X W (+ bias) for X (m x k, any real Eigen expression; float, Eigen::bfloat16 and Eigen::half are read
  /// in place). Throws std::invalid_argument on a shape mismatch (naming both shapes), std::domain_error on
  /// NaN/Inf in X. m = 0 gives a 0 x n result.
  template <class D>
  Eigen::MatrixXf operator()(const Eigen::MatrixBase<D>& x) const {
    return (*this)(x, nullptr);
  }

  /// As above, and reports what the call did in *stats (when not null).
  template <class D>
  Eigen::MatrixXf operator()(const Eigen::MatrixBase<D>& x, LLMInt8Stats* stats) const {
    Eigen::MatrixXf y;
    forward(x, y, stats);
    return y;
  }

  /// Writes layer(X) into y: a float, Eigen::bfloat16 or Eigen::half Eigen expression with direct access (a
  /// matrix of either storage order, a Map, a block; temporaries such as m.block(...) too). A resizable matrix
  /// is resized to m x n; anything else must be m x n (else std::invalid_argument). 16-bit results are the float
  /// results rounded to nearest even. Other errors as operator().
  template <class DX, class DY>
  void forward(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y_out, LLMInt8Stats* stats = nullptr) const {
    using TY = typename DY::Scalar;
    static_assert(std::is_same<TY, float>::value || detail::is_float16<TY>::value,
                  "octet::LLMInt8Linear::forward: y holds float, Eigen::bfloat16 or Eigen::half");
    const char* who = "octet::LLMInt8Linear";
    detail::check_inner(who, "X", x.rows(), x.cols(), "W", k_, n_, transposed_hint(layout_));
    // Eigen's pattern for output parameters: a const reference, so that temporaries (blocks) bind to it.
    DY& y = const_cast<DY&>(y_out.derived());
    // X first (a strided or converted X is copied here), then y: checked before it is resized or written.
    detail::with_activation_view(x, who, "X", [&](const auto& xv) {
      detail::check_no_alias(xv, y, who, "X");
      detail::fit_destination(y, x.rows(), n_, who);
      forward_view(xv, detail::mut_view_of(y), stats);
    });
  }

  /// A layer from weights quantized elsewhere: `codes` (k x n int8, [in x out], any Eigen expression; for
  /// bitsandbytes' CB and SCB use from_bitsandbytes) and `column_steps` (n floats, step = absmax / 127; with
  /// options.block_size > 0, the ceil(k / block_size) x n block steps as weight_steps() gives them, or as a
  /// vector of blocks * n entries, block after block, as weight_step() gives them). The codes are packed as they
  /// are. Throws std::invalid_argument when column_steps has the wrong size or options.outlier_weights is float32
  /// (there are no float weights), std::domain_error on a negative or non-finite step, and as the constructor for
  /// the rest.
  template <class DC, class DS>
  static LLMInt8Linear from_quantized(const Eigen::MatrixBase<DC>& codes, const Eigen::MatrixBase<DS>& column_steps,
                                     float threshold = 6.0f, LLMInt8Options options = LLMInt8Options()) {
    return quantized(codes, column_steps, threshold, std::move(options), "octet::LLMInt8Linear::from_quantized",
                     Layout::in_out_codes);
  }

  /// The k x n int8 codes of W, read back out of the packed layout: from_quantized(weight_codes(), weight_step(),
  /// threshold(), options) rebuilds a layer with bit-identical results, vector-wise or block-wise (options with
  /// the layer's block_size(), semantics() and bias()).
  MatrixXi8 weight_codes() const {
    MatrixXi8 out(k_, n_);
    if (k_ == 0 || n_ == 0) return out;
    detail::with_path(isa_, [&](auto path) { detail::unpack_b<typename decltype(path)::Kernel>(packed_.data(), out.data()); });
    return out;
  }

  /// Writes the layer in octet's saved-layer format (docs/format.md): shapes, threshold, options, column steps,
  /// the k x n codes, the bias and (OutlierWeights::float32 only) the float weights, with a checksum. The file
  /// does not depend on the kernel family: load() packs for the machine that reads it. Throws
  /// std::runtime_error when writing fails.
  void save(std::ostream& out) const {
    namespace f = detail::format;
    f::Header h;
    h.flags = (bias_.size() ? f::flag_bias : 0u) | (outlier_weights_ == OutlierWeights::float32 ? f::flag_float_weights : 0u);
    h.k = static_cast<std::uint64_t>(k_);
    h.n = static_cast<std::uint64_t>(n_);
    h.threshold = threshold_;
    h.outlier_weights = outlier_weights_ == OutlierWeights::float32 ? 1u : 0u;
    h.semantics = semantics_ == Semantics::bitsandbytes ? 1u : 0u;
    h.block_size = static_cast<std::uint32_t>(block_);
    h.version = block_ > 0 ? 2u : 1u;
    f::Writer w(out);
    w.header(h);
    w.floats(step_.data(), static_cast<std::size_t>(step_.size()));
    const MatrixXi8 codes = weight_codes();  // column-major: column j of W (its k codes) after column j - 1
    w.bytes(codes.data(), static_cast<std::size_t>(codes.size()));
    if (bias_.size()) w.floats(bias_.data(), static_cast<std::size_t>(n_));
    if (outlier_weights_ == OutlierWeights::float32) {
      const Eigen::MatrixXf wf = weights_f32_;  // column-major, as the codes
      w.floats(wf.data(), static_cast<std::size_t>(wf.size()));
    }
    w.finish("octet::LLMInt8Linear::save");
  }

  /// save() to a file (created or truncated).
  void save(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("octet::LLMInt8Linear::save: cannot open '" + path + "' for writing");
    save(out);
  }

  /// Reads a layer written by save() and packs it for `isa` (default: the active path), so that a file written
  /// on one machine loads on any other with the same results. It reads exactly one layer: a stream may hold
  /// several, one after the other. A bad file is a std::runtime_error saying what is
  /// wrong (not an octet file, unsupported version, truncated at byte N, shape fields that disagree with the
  /// size, invalid values, checksum mismatch); nothing is allocated for sizes the stream does not hold.
  static LLMInt8Linear load(std::istream& in, std::optional<Isa> isa = std::nullopt) {
    namespace f = detail::format;
    f::Reader r(in, "octet::LLMInt8Linear::load");
    const f::Header h = r.header();
    const std::vector<float> steps = r.floats(h.blocks() * h.n, "column steps");
    // The codes: packed as they are read when the stream told its size (no k x n buffer); else, and for float
    // weights (compared with the codes below), read whole first.
    const Isa target = isa ? *isa : active_isa_id();
    const bool stream_pack = r.sized() && !(h.flags & f::flag_float_weights);
    detail::PackedBData packed;
    if (stream_pack)
      packed = read_packed_codes(r, static_cast<Eigen::Index>(h.k), static_cast<Eigen::Index>(h.n), target,
                                 static_cast<Eigen::Index>(h.block_size));
    const std::vector<std::int8_t> codes = stream_pack ? std::vector<std::int8_t>() : r.int8s(h.k * h.n, "codes");
    const std::vector<float> bias = (h.flags & f::flag_bias) ? r.floats(h.n, "bias") : std::vector<float>();
    const std::vector<float> wf = (h.flags & f::flag_float_weights) ? r.floats(h.k * h.n, "float weights") : std::vector<float>();
    r.checksum();
    if (!(h.threshold >= 0.0f)) r.fail("the threshold is " + detail::to_text(h.threshold));
    for (std::size_t j = 0; j < steps.size(); ++j)
      if (!(steps[j] >= 0.0f) || !std::isfinite(steps[j])) r.fail("column step " + std::to_string(j) + " is " + detail::to_text(steps[j]));
    for (std::size_t j = 0; j < bias.size(); ++j)
      if (!std::isfinite(bias[j])) r.fail("bias entry " + std::to_string(j) + " is " + detail::to_text(bias[j]));
    for (std::size_t e = 0; e < wf.size(); ++e)
      if (!std::isfinite(wf[e])) r.fail("float weight " + std::to_string(e) + " is " + detail::to_text(wf[e]));
    const auto k = static_cast<Eigen::Index>(h.k), n = static_cast<Eigen::Index>(h.n);
    LLMInt8Options o;
    o.outlier_weights = h.outlier_weights == 1 ? OutlierWeights::float32 : OutlierWeights::dequantized_int8;
    o.semantics = h.semantics == 1 ? Semantics::bitsandbytes : Semantics::paper;
    o.isa = target;
    o.block_size = static_cast<Eigen::Index>(h.block_size);
    if (!bias.empty()) o.bias = Eigen::Map<const Eigen::VectorXf>(bias.data(), n);
    const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> st(
        steps.data(), static_cast<Eigen::Index>(h.blocks()), n);
    if (stream_pack) {  // the steps are checked above
      LLMInt8Linear layer;
      layer.init(k, n, h.threshold, std::move(o), "octet::LLMInt8Linear::load", Layout::in_out);
      layer.step_ = Eigen::Map<const Eigen::VectorXf>(steps.data(), static_cast<Eigen::Index>(steps.size()));
      layer.packed_ = PackedB(std::move(packed));
      return layer;
    }
    const Eigen::Map<const MatrixXi8> c(codes.data(), k, n);
    if (o.outlier_weights == OutlierWeights::float32) {
      // The codes and steps are a function of the float weights: rebuilding from them gives the saved layer.
      LLMInt8Linear layer(Eigen::Map<const Eigen::MatrixXf>(wf.data(), k, n), h.threshold, std::move(o));
      if ((n > 0 && std::memcmp(layer.step_.data(), st.data(), sizeof(float) * steps.size()) != 0) ||
          layer.weight_codes() != c)
        r.fail("the codes or steps disagree with the float weights");
      return layer;
    }
    return quantized(c, st, h.threshold, std::move(o), "octet::LLMInt8Linear::load", Layout::in_out);
  }

  /// load() from a file.
  static LLMInt8Linear load(const std::string& path, std::optional<Isa> isa = std::nullopt) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("octet::LLMInt8Linear::load: cannot open '" + path + "'");
    return load(in, isa);
  }

  Eigen::Index in_features() const { return k_; }    ///< k, the rows of W
  Eigen::Index out_features() const { return n_; }   ///< n, the columns of W
  float threshold() const { return threshold_; }     ///< the outlier threshold
  OutlierWeights outlier_weights() const { return outlier_weights_; }
  Semantics semantics() const { return semantics_; }
  Isa isa() const { return isa_; }                    ///< the kernel family the weights are packed for
  /// Per column of W: max|W(:, j)| / 127. With block-wise scales, the blocks x n steps of weight_steps(), block
  /// after block (entry b * n + j).
  const Eigen::VectorXf& weight_step() const { return step_; }
  /// The steps of W as a matrix: 1 x n, or with block-wise scales blocks x n (step of column j in block b:
  /// max |W(p, j)| / 127 over the block's rows p; the shape of PerColumnBlock's steps).
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> weight_steps() const {
    return {step_.data(), weight_blocks(), n_};
  }
  Eigen::Index block_size() const { return block_; }  ///< 0 (vector-wise) or the block of k with its own scales
  const Eigen::VectorXf& bias() const { return bias_; }         ///< empty when there is none
  const PackedB& packed_weights() const { return packed_; }     ///< the packed int8 codes of W

  /// Bytes held by the layer: packed codes and their corrections, column steps, bias, and the float copy of W
  /// (OutlierWeights::float32 only).
  std::size_t bytes() const {
    return packed_.bytes() + static_cast<std::size_t>(step_.size() + bias_.size()) * sizeof(float) +
           static_cast<std::size_t>(weights_f32_.size()) * sizeof(float);
  }

 private:
  /// How the weights were given, for the hint of a shape error that looks like a transposed W.
  enum class Layout : unsigned char { in_out, torch, in_out_codes, bitsandbytes };
  static const char* transposed_hint(Layout layout) {
    switch (layout) {
      case Layout::torch: return "W looks transposed: from_torch takes W as [out x in] (the constructor as [in x out])";
      case Layout::in_out_codes: return "the codes look transposed: for [out x in] codes (bitsandbytes' CB) use from_bitsandbytes";
      case Layout::bitsandbytes: return "CB looks transposed: from_bitsandbytes takes CB as [out x in] (from_quantized as [in x out])";
      case Layout::in_out: break;
    }
    return "W looks transposed: for [out x in] weights use from_torch";
  }

  /// The constructor's and from_torch's body: W as k x n (from_torch passes its transpose).
  template <class D>
  void build(const Eigen::MatrixBase<D>& w, float threshold, LLMInt8Options options, const char* who, const char* name,
             Layout layout) {
    init(w.rows(), w.cols(), threshold, std::move(options), who, layout);
    detail::with_float_view(w, who, name, [&](const detail::FloatView& wv) { prepare(wv, who, name); });
  }

  /// from_quantized's and from_bitsandbytes' body: k x n codes.
  template <class DC, class DS>
  static LLMInt8Linear quantized(const Eigen::MatrixBase<DC>& codes, const Eigen::MatrixBase<DS>& column_steps,
                                 float threshold, LLMInt8Options options, const char* who, Layout layout) {
    LLMInt8Linear layer;
    layer.init(codes.rows(), codes.cols(), threshold, std::move(options), who, layout);
    const Eigen::Index blocks = layer.weight_blocks(), k = codes.rows(), n = codes.cols();
    const bool vector = column_steps.rows() == 1 || column_steps.cols() == 1;
    // Block-wise: a blocks x n matrix, or a vector of blocks * n entries, block-major (as weight_step()). The two
    // agree whenever a blocks x n matrix is itself a vector (one block, or one column).
    const bool as_matrix = column_steps.rows() == blocks && column_steps.cols() == n;
    if (layer.block_ == 0 ? column_steps.size() != n : !as_matrix && !(vector && column_steps.size() == blocks * n))
      throw std::invalid_argument(
          std::string(who) + ": " +
          (layer.block_ == 0 ? std::to_string(column_steps.size()) + " column steps"
                             : "block steps of " + detail::shape(column_steps.rows(), column_steps.cols())) +
          " for " + detail::shape(k, n) + " codes" +
          (layer.block_ == 0 ? "" : " in blocks of " + std::to_string(layer.block_) + " (" + detail::shape(blocks, n) +
                                        " or " + std::to_string(blocks * n) + " block-major entries expected)") +
          (layer.block_ == 0 && column_steps.size() == k && k != n ? std::string("; ") + transposed_hint(layout) : ""));
    if (layer.outlier_weights_ == OutlierWeights::float32)
      throw std::invalid_argument(std::string(who) + ": OutlierWeights::float32 needs float weights; use dequantized_int8");
    layer.step_.resize(blocks * n);  // block-major: entry b * n + j
    if (layer.block_ == 0 || !as_matrix)
      layer.step_ = column_steps.template cast<float>().reshaped();
    else
      Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(layer.step_.data(), blocks, n) =
          column_steps.template cast<float>();
    for (Eigen::Index j = 0; j < layer.step_.size(); ++j)
      if (!(layer.step_(j) >= 0.0f) || !std::isfinite(layer.step_(j)))
        throw std::domain_error(std::string(who) + ": column step " + std::to_string(j) + " is " +
                                detail::to_text(layer.step_(j)) + " (steps are finite and >= 0)");
    detail::with_int8_view(codes, [&](const detail::Int8View& v) { layer.pack_codes(v); });
    return layer;
  }

  /// The body of forward() on views: one per pair of scalar types (TX: float, Eigen::bfloat16 or Eigen::half;
  /// TY likewise), not per expression type; compiled once in octet::compiled. y is m x n, and shares no memory
  /// with x.
  template <class TX, class TY>
  void forward_view(const detail::ConstView<TX>& xv, const detail::MutView<TY>& yv, LLMInt8Stats* stats) const;

  /// The constructor's body on a view of W: checks, quantizes and packs it (compiled once in octet::compiled).
  template <class T>
  void prepare(const detail::ConstView<T>& wv, const char* who, const char* name);
  /// from_quantized's body on a view of the codes: packs them as they are, with the block corrections.
  template <class T>
  void pack_codes(const detail::ConstView<T>& codes);

  /// The shape, options and their checks, shared by the constructor and from_quantized.
  void init(Eigen::Index k, Eigen::Index n, float threshold, LLMInt8Options options, const char* who, Layout layout) {
    detail::check_threshold(threshold, who);
    const Eigen::Index g = options.block_size;
    if (g != 0 && g != 32 && g != 64 && g != 128 && g != 256)
      throw std::invalid_argument(std::string(who) + ": block_size is " + std::to_string(g) +
                                  " (0 for vector-wise scales, or 32, 64, 128 or 256)");
    detail::check_depth(k, who);
    if (options.bias.size() != 0 && options.bias.size() != n)
      throw std::invalid_argument(std::string(who) + ": the bias has " + std::to_string(options.bias.size()) +
                                  " entries, the layer has " + std::to_string(n) + " outputs" +
                                  (options.bias.size() == k ? std::string("; ") + transposed_hint(layout) : ""));
    for (Eigen::Index j = 0; j < options.bias.size(); ++j)
      if (!std::isfinite(options.bias(j)))
        throw std::domain_error(std::string(who) + ": non-finite value " + detail::float_name(options.bias(j)) +
                                " at entry " + std::to_string(j) + " of the bias");
    k_ = k;
    n_ = n;
    threshold_ = threshold;
    outlier_weights_ = options.outlier_weights;
    semantics_ = options.semantics;
    isa_ = options.isa ? *options.isa : active_isa_id();
    bias_ = std::move(options.bias);
    block_ = options.block_size;
    layout_ = layout;
  }

  /// The k x n codes of a saved layer (column after column in the stream) packed for `isa` as they are read,
  /// about 1 MiB of whole panels at a time, with the corrections of block-wise scales over blocks of `block`.
  static detail::PackedBData read_packed_codes(detail::format::Reader& r, Eigen::Index k, Eigen::Index n, Isa isa,
                                               Eigen::Index block) {
    detail::PackedBData d;
    detail::with_path(isa, [&](auto path) {
      using K = typename decltype(path)::Kernel;
      detail::pack_b_init<K>(k, n, d);
      if (k == 0) return;
      const Eigen::Index slice = K::NR * std::max<Eigen::Index>(1, (Eigen::Index(1) << 20) / (k * K::NR));
      std::vector<std::int8_t> buf(static_cast<std::size_t>(std::min(n, slice) * k));
      const std::size_t end = r.pos() + static_cast<std::size_t>(k * n);
      for (Eigen::Index j0 = 0; j0 < n; j0 += slice) {
        const Eigen::Index cols = std::min(slice, n - j0);
        r.bytes(buf.data(), static_cast<std::size_t>(cols * k), "codes", end);
        detail::pack_b_part<K, detail::has_pack_b_panel<K>::value>(detail::Int8View{buf.data(), k, cols, 1, k}, d,
                                                                    j0 / K::NR, detail::ceil_div(j0 + cols, K::NR));
      }
      detail::set_block_correction<K>(d, block);
    });
    d.isa = isa;
    return d;
  }

  void swap(LLMInt8Linear& o) noexcept {
    std::swap(k_, o.k_);
    std::swap(n_, o.n_);
    std::swap(threshold_, o.threshold_);
    std::swap(outlier_weights_, o.outlier_weights_);
    std::swap(semantics_, o.semantics_);
    std::swap(isa_, o.isa_);
    std::swap(block_, o.block_);
    std::swap(layout_, o.layout_);
    bias_.swap(o.bias_);
    std::swap(packed_, o.packed_);
    step_.swap(o.step_);
    weights_f32_.swap(o.weights_f32_);
  }

  /// Rows of weight_steps(): 1, or ceil(k / block_size) (1 when k = 0: one empty block, steps 0).
  Eigen::Index weight_blocks() const { return block_ > 0 && k_ > 0 ? (k_ + block_ - 1) / block_ : 1; }

  /// The weights the outlier rows of W contribute with: r x n row-major, rows llm::outlier_ld(n) apart.
  template <class P>
  void outlier_weights(const std::vector<Eigen::Index>& rows, float* out) const {
    if (outlier_weights_ == OutlierWeights::float32) {
      const Eigen::Index ld = detail::llm::outlier_ld(n_);
      for (std::size_t q = 0; q < rows.size(); ++q)
        for (Eigen::Index j = 0; j < n_; ++j) out[static_cast<Eigen::Index>(q) * ld + j] = weights_f32_(rows[q], j);
      return;
    }
    detail::llm::dequantized_rows<P>(packed_.data(), step_.data(), rows, out, block_);
  }

  Eigen::Index k_ = 0, n_ = 0;
  float threshold_ = 6.0f;
  OutlierWeights outlier_weights_ = OutlierWeights::dequantized_int8;
  Semantics semantics_ = Semantics::paper;
  Isa isa_ = Isa::scalar;
  Eigen::Index block_ = 0;
  Layout layout_ = Layout::in_out;
  Eigen::VectorXf bias_;
  PackedB packed_;
  Eigen::VectorXf step_;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> weights_f32_;
};

#if OCTET_DEFINE_BODIES
template <class T>
Eigen::MatrixXf detail::llm::matmul_llm_int8(const ConstView<T>& x, const ConstView<T>& w, const float* threshold,
                                            const char* who) {
  static_assert(std::is_same<T, float>::value, "octet::matmul_llm_int8 works on float views");
  Eigen::MatrixXf y(x.rows, w.cols);
  with_path(active_isa_id(), [&](auto path) {
    matmul_llm_int8<decltype(path)>(x, w, threshold, mut_view_of(y), who);
  });
  return y;
}

template <class T>
std::vector<Eigen::Index> detail::llm::outlier_columns(const ConstView<T>& x, float threshold) {
  static_assert(std::is_same<T, float>::value, "octet::outlier_columns works on float views");
  return with_path(active_isa_id(), [&](auto path) {
    return scan<decltype(path)>(x, &threshold, "octet::outlier_columns", "X");
  });
}

template <class T>
void LLMInt8Linear::prepare(const detail::ConstView<T>& wv, const char* who, const char* name) {
  static_assert(std::is_same<T, float>::value, "octet::LLMInt8Linear prepares float weights");
  detail::with_path(isa_, [&](auto path) {
    using P = decltype(path);
    detail::llm::scan<P>(wv, nullptr, who, name);
    step_.resize(weight_blocks() * n_);
    packed_ = PackedB(detail::llm::quantize_weights<P>(wv, nullptr, step_.data(), block_));
  });
  if (outlier_weights_ == OutlierWeights::float32) {
    weights_f32_.resize(k_, n_);
    for (Eigen::Index p = 0; p < k_; ++p)
      for (Eigen::Index j = 0; j < n_; ++j) weights_f32_(p, j) = wv(p, j);
  }
}

template <class T>
void LLMInt8Linear::pack_codes(const detail::ConstView<T>& codes) {
  static_assert(std::is_same<T, std::int8_t>::value, "octet::LLMInt8Linear packs int8 codes");
  detail::with_path(isa_, [&](auto path) {
    using K = typename decltype(path)::Kernel;
    detail::PackedBData d;
    detail::pack_b<K>(codes, d);
    d.isa = isa_;
    detail::set_block_correction<K>(d, block_);
    packed_ = PackedB(std::move(d));
  });
}

template <class TX, class TY>
void LLMInt8Linear::forward_view(const detail::ConstView<TX>& xv, const detail::MutView<TY>& yv, LLMInt8Stats* stats) const {
  const char* who = "octet::LLMInt8Linear";
  detail::with_path(isa_, [&](auto path) {
    using P = decltype(path);
    const bool bnb = semantics_ == Semantics::bitsandbytes;
    detail::Scratch& scratch = detail::thread_scratch();  // per-call arrays, kept between calls
    std::vector<Eigen::Index>& outliers = scratch.outliers;
    // bitsandbytes with threshold 0: no decomposition; the scan still rejects NaN/Inf.
    detail::llm::scan<P, TX>(xv, bnb && threshold_ == 0.0f ? nullptr : &threshold_, who, "X", bnb, outliers);
    std::vector<float>& wo = scratch.wo;
    wo.resize(static_cast<std::size_t>(static_cast<Eigen::Index>(outliers.size()) * detail::llm::outlier_ld(n_)));
    if (!outliers.empty()) outlier_weights<P>(outliers, wo.data());
    detail::llm::forward<P, TX, TY>(xv, outliers, packed_.data(), step_.data(), wo.data(),
                                    bias_.size() ? bias_.data() : nullptr, yv,
                                    bnb && !outliers.empty() ? threshold_ : std::numeric_limits<float>::infinity(),
                                    block_);
    if (stats) stats->outlier_columns.assign(outliers.begin(), outliers.end());
  });
}
#endif

}  // namespace octet
