// The Llama forward pass of a GGUF "llama" model (SmolLM2 is one), with every linear layer either Eigen float32
// or an octet::LLMInt8Linear configured by a Mode: RMSNorm, rotary embeddings (adjacent pairs, as llama.cpp's
// GGUF files expect: their converter permutes Q and K for it), grouped-query attention over a KV cache, SwiGLU,
// and the output layer tied to the token embedding.
#pragma once
#include <octet/octet.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gguf.hpp"

namespace llm {

using Index = Eigen::Index;
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // tokens x features

/// How the linear layers run. float: Eigen float32. Otherwise LLMInt8Linear with this threshold (+inf:
/// vector-wise int8), block size, outlier weights, and optionally SmoothQuant-style smoothing folded into the
/// weights beforehand (alpha > 0).
struct Mode {
  bool octet = false;
  float threshold = std::numeric_limits<float>::infinity();
  Index block = 0;
  bool float_outlier_weights = false;
  float smooth_alpha = 0.0f;  ///< 0: no smoothing
  std::optional<octet::Isa> isa;  ///< the kernel path; empty: octet's choice (OCTET_ISA, else the best)
  std::string name = "float";
};

/// Parses "float", "int8", or '+'-joined parts "t=6", "b=32", "fw", "sq" (smoothing, alpha 0.5) or "sq=0.4".
inline Mode parse_mode(const std::string& text) {
  Mode m;
  m.name = text;
  if (text == "float") return m;
  m.octet = true;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('+', start), text.size());
    const std::string part = text.substr(start, end - start);
    const auto number = [&](std::size_t from) {
      try {
        std::size_t used = 0;
        const float v = std::stof(part.substr(from), &used);
        if (used != part.size() - from) throw std::invalid_argument("trailing");
        return v;
      } catch (const std::exception&) {
        throw std::invalid_argument("mode '" + text + "': '" + part + "' is not a number after '='");
      }
    };
    if (part == "int8") {
    } else if (part.rfind("t=", 0) == 0) {
      m.threshold = number(2);
    } else if (part.rfind("b=", 0) == 0) {
      m.block = Index(number(2));
    } else if (part == "fw") {
      m.float_outlier_weights = true;
    } else if (part == "sq") {
      m.smooth_alpha = 0.5f;
    } else if (part.rfind("sq=", 0) == 0) {
      m.smooth_alpha = number(3);
    } else {
      throw std::invalid_argument("mode '" + text + "': unknown part '" + part +
                                  "' (modes: float, int8, or parts t=T, b=32|64|128|256, fw, sq[=alpha] joined by +)");
    }
    start = end + 1;
  }
  return m;
}

/// The model's float weights, every matrix row-major out x in (as the file and PyTorch hold them).
struct Weights {
  int dim = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0, context = 0;
  float rope_theta = 10000.0f, eps = 1e-5f;
  RowMajor embedding;  ///< vocab x dim
  RowMajor output;     ///< vocab x dim: the output layer (the embedding, unless smoothing changed it)
  Eigen::VectorXf output_norm;
  struct Layer {
    Eigen::VectorXf attn_norm, ffn_norm;
    RowMajor q, k, v, o, gate, up, down;
  };
  std::vector<Layer> layer;
  int head_size() const { return dim / heads; }
  int kv_dim() const { return head_size() * kv_heads; }
};

inline RowMajor matrix(const gguf::File& f, const std::string& name, Index out, Index in) {
  const std::vector<float> v = f.floats(name, {std::uint64_t(in), std::uint64_t(out)});
  return Eigen::Map<const RowMajor>(v.data(), out, in);
}

inline Eigen::VectorXf vector(const gguf::File& f, const std::string& name, Index n) {
  const std::vector<float> v = f.floats(name, {std::uint64_t(n)});
  return Eigen::Map<const Eigen::VectorXf>(v.data(), n);
}

inline Weights load_weights(const gguf::File& f) {
  const std::string arch = f.get("general.architecture").str;
  if (arch != "llama") throw std::runtime_error("architecture '" + arch + "': only llama is implemented");
  Weights w;
  const auto u = [&](const char* key) { return int(f.get(std::string("llama.") + key).integer); };
  w.dim = u("embedding_length");
  w.hidden = u("feed_forward_length");
  w.layers = u("block_count");
  w.heads = u("attention.head_count");
  w.kv_heads = u("attention.head_count_kv");
  w.context = u("context_length");
  w.rope_theta = f.has("llama.rope.freq_base") ? float(f.get("llama.rope.freq_base").num) : 10000.0f;
  w.eps = float(f.get("llama.attention.layer_norm_rms_epsilon").num);
  w.vocab = int(f.get("tokenizer.ggml.tokens").items.size());
  if (w.dim <= 0 || w.heads <= 0 || w.kv_heads <= 0 || w.dim % w.heads || w.heads % w.kv_heads || w.head_size() % 2)
    throw std::runtime_error("inconsistent attention shape: dim " + std::to_string(w.dim) + ", heads " + std::to_string(w.heads) +
                             ", kv heads " + std::to_string(w.kv_heads));
  w.embedding = matrix(f, "token_embd.weight", w.vocab, w.dim);
  w.output = f.tensors().count("output.weight") ? matrix(f, "output.weight", w.vocab, w.dim) : w.embedding;
  w.output_norm = vector(f, "output_norm.weight", w.dim);
  for (int l = 0; l < w.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    Weights::Layer L;
    L.attn_norm = vector(f, p + "attn_norm.weight", w.dim);
    L.ffn_norm = vector(f, p + "ffn_norm.weight", w.dim);
    L.q = matrix(f, p + "attn_q.weight", w.dim, w.dim);
    L.k = matrix(f, p + "attn_k.weight", w.kv_dim(), w.dim);
    L.v = matrix(f, p + "attn_v.weight", w.kv_dim(), w.dim);
    L.o = matrix(f, p + "attn_output.weight", w.dim, w.dim);
    L.gate = matrix(f, p + "ffn_gate.weight", w.hidden, w.dim);
    L.up = matrix(f, p + "ffn_up.weight", w.hidden, w.dim);
    L.down = matrix(f, p + "ffn_down.weight", w.dim, w.hidden);
    w.layer.push_back(std::move(L));
  }
  return w;
}

/// The linear layer types, in the order the statistics keep them.
enum Site { attn_in, attn_out, ffn_in, ffn_mid, logits_in, sites };
inline const char* site_name(int s) {
  static const char* const names[] = {"q/k/v input (attn_norm)", "attn_output input", "gate/up input (ffn_norm)",
                                      "ffn_down input", "output input (output_norm)"};
  return names[s];
}

/// Per layer and site, the largest |x| of each input column seen (and, optionally, the columns above 6).
struct Stats {
  std::vector<Eigen::VectorXf> absmax;  ///< [layer * sites + site]; logits_in under layer 0
  void observe(int layer, int site, const RowMajor& x) {
    Eigen::VectorXf& a = absmax[std::size_t(layer * sites + site)];
    const Eigen::VectorXf m = x.cwiseAbs().colwise().maxCoeff().transpose();
    a = a.size() ? a.cwiseMax(m) : m;
  }
  const Eigen::VectorXf& at(int layer, int site) const { return absmax[std::size_t(layer * sites + site)]; }
};

/// One linear layer y = x W^T (W out x in): Eigen float, or LLMInt8Linear prepared from W.
class Linear {
 public:
  Linear(const RowMajor& w, const Mode& mode) : w_(&w) {
    if (!mode.octet) return;
    octet::LLMInt8Options o;
    o.block_size = mode.block;
    if (mode.float_outlier_weights) o.outlier_weights = octet::OutlierWeights::float32;
    o.isa = mode.isa;
    // w is [out x in], as the GGUF file (and PyTorch) keep it
    q_ = std::make_unique<octet::LLMInt8Linear>(octet::LLMInt8Linear::from_torch(w, mode.threshold, o));
  }
  void operator()(const RowMajor& x, RowMajor& y) const {
    if (q_)
      q_->forward(x, y);
    else
      y.noalias() = x * w_->transpose();
  }
  std::size_t bytes() const { return q_ ? q_->bytes() : std::size_t(w_->size()) * sizeof(float); }
  std::size_t weights() const { return std::size_t(w_->size()); }

 private:
  const RowMajor* w_;
  std::unique_ptr<octet::LLMInt8Linear> q_;
};

class Model {
 public:
  /// w must outlive the model (float layers read it in place).
  Model(const Weights& w, const Mode& mode, Index max_tokens) : w_(w) {
    for (const auto& L : w.layer)
      for (const RowMajor* m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) linears_.emplace_back(*m, mode);
    linears_.emplace_back(w.output, mode);
    cache_k_.assign(std::size_t(w.layers), RowMajor::Zero(max_tokens, w.kv_dim()));
    cache_v_ = cache_k_;
    // RoPE frequencies of the pairs (2j, 2j + 1) of a head.
    const int hs = w.head_size();
    inv_freq_.resize(hs / 2);
    for (int j = 0; j < hs / 2; ++j) inv_freq_[j] = float(1.0 / std::pow(double(w.rope_theta), 2.0 * j / hs));
  }

  std::size_t bytes() const {
    std::size_t s = 0;
    for (const auto& l : linears_) s += l.bytes();
    return s;
  }
  std::size_t weights() const {
    std::size_t s = 0;
    for (const auto& l : linears_) s += l.weights();
    return s;
  }
  Index capacity() const { return cache_k_.empty() ? 0 : cache_k_[0].rows(); }

  /// Logits (m x vocab) of tokens[0 .. m-1] at positions pos .. pos + m - 1; the cache holds 0 .. pos - 1.
  /// With stats, records the largest |x| per input column of every linear.
  const RowMajor& forward(const int* tokens, Index m, Index pos, Stats* stats = nullptr) {
    if (pos + m > capacity())
      throw std::out_of_range("positions up to " + std::to_string(pos + m) + " exceed the cache of " + std::to_string(capacity()));
    const Index d = w_.dim;
    x_.resize(m, d);
    for (Index i = 0; i < m; ++i) {
      if (tokens[i] < 0 || tokens[i] >= w_.vocab) throw std::out_of_range("token id " + std::to_string(tokens[i]));
      x_.row(i) = w_.embedding.row(tokens[i]);
    }
    for (int l = 0; l < w_.layers; ++l) {
      const auto& L = w_.layer[std::size_t(l)];
      const Linear* lin = &linears_[std::size_t(l) * 7];
      rmsnorm(x_, L.attn_norm, xb_);
      if (stats) stats->observe(l, attn_in, xb_);
      lin[0](xb_, q_);
      lin[1](xb_, k_);
      lin[2](xb_, v_);
      rope(q_, pos);
      rope(k_, pos);
      cache_k_[std::size_t(l)].middleRows(pos, m) = k_;
      cache_v_[std::size_t(l)].middleRows(pos, m) = v_;
      attention(cache_k_[std::size_t(l)], cache_v_[std::size_t(l)], pos);
      if (stats) stats->observe(l, attn_out, xb_);
      lin[3](xb_, xb2_);
      x_ += xb2_;
      rmsnorm(x_, L.ffn_norm, xb_);
      if (stats) stats->observe(l, ffn_in, xb_);
      lin[4](xb_, hb_);
      lin[5](xb_, hb2_);
      hb_ = (hb_.array() / (1.0f + (-hb_.array()).exp()) * hb2_.array()).matrix();
      if (stats) stats->observe(l, ffn_mid, hb_);
      lin[6](hb_, xb2_);
      x_ += xb2_;
    }
    rmsnorm(x_, w_.output_norm, xb_);
    if (stats) stats->observe(0, logits_in, xb_);
    linears_.back()(xb_, logits_);
    return logits_;
  }

 private:
  void rmsnorm(const RowMajor& x, const Eigen::VectorXf& g, RowMajor& out) const {
    out.resize(x.rows(), x.cols());
    for (Index i = 0; i < x.rows(); ++i) {
      const float ss = x.row(i).squaredNorm() / float(x.cols()) + w_.eps;
      out.row(i) = x.row(i).cwiseProduct(g.transpose()) / std::sqrt(ss);
    }
  }

  void rope(RowMajor& t, Index pos) const {
    const Index hs = w_.head_size();
    for (Index i = 0; i < t.rows(); ++i)
      for (Index e = 0; e < t.cols(); e += 2) {
        const float angle = float(pos + i) * inv_freq_[(e % hs) / 2], c = std::cos(angle), s = std::sin(angle);
        const float a = t(i, e), b = t(i, e + 1);
        t(i, e) = a * c - b * s;
        t(i, e + 1) = a * s + b * c;
      }
  }

  void attention(const RowMajor& keys, const RowMajor& values, Index pos) {
    const Index m = q_.rows(), hs = w_.head_size(), group = w_.heads / w_.kv_heads;
    const float scale = 1.0f / std::sqrt(float(hs));
    xb_.setZero(m, w_.dim);
    for (Index i = 0; i < m; ++i) {
      const Index len = pos + i + 1;
      for (Index h = 0; h < w_.heads; ++h) {
        const Index kvh = h / group;
        att_.noalias() = keys.block(0, kvh * hs, len, hs) * q_.row(i).segment(h * hs, hs).transpose();
        att_ *= scale;
        att_ = (att_.array() - att_.maxCoeff()).exp();
        att_ /= att_.sum();
        xb_.row(i).segment(h * hs, hs).noalias() = att_.transpose() * values.block(0, kvh * hs, len, hs);
      }
    }
  }

  const Weights& w_;
  std::vector<Linear> linears_;
  std::vector<RowMajor> cache_k_, cache_v_;
  std::vector<float> inv_freq_;
  RowMajor x_, xb_, xb2_, q_, k_, v_, hb_, hb2_, logits_;
  Eigen::VectorXf att_;
};

/// SmoothQuant-style smoothing (Xiao et al., 2023) folded into the weights: for each input column j of a linear,
/// s_j = max|X_j|^alpha / max|W_.j|^(1 - alpha) from calibration statistics; X_j / s_j and W_.j * s_j give the same
/// product in exact arithmetic with flatter activations. The division is folded where X comes from: the
/// RMSNorm weights (q/k/v, gate/up, output), the rows of ffn_up (ffn_down's input is silu(gate) * up), and the
/// rows of attn_v (attn_output's input is a mix of v; the query heads that share a kv head share its scales).
inline Weights smooth(const Weights& in, const Stats& st, float alpha) {
  Weights w = in;
  const auto scales = [&](const Eigen::VectorXf& xmax, std::initializer_list<const RowMajor*> ws) {
    Eigen::VectorXf wmax = Eigen::VectorXf::Zero(xmax.size());
    for (const RowMajor* m : ws) wmax = wmax.cwiseMax(m->cwiseAbs().colwise().maxCoeff().transpose());
    Eigen::VectorXf s(xmax.size());
    for (Index j = 0; j < s.size(); ++j) {
      const float x = std::max(xmax(j), 1e-5f), ww = std::max(wmax(j), 1e-5f);
      s(j) = std::clamp(std::pow(x, alpha) / std::pow(ww, 1.0f - alpha), 1e-4f, 1e4f);
    }
    return s;
  };
  const Index hs = w.head_size(), group = w.heads / w.kv_heads;
  for (int l = 0; l < w.layers; ++l) {
    auto& L = w.layer[std::size_t(l)];
    Eigen::VectorXf s = scales(st.at(l, attn_in), {&L.q, &L.k, &L.v});
    L.attn_norm = L.attn_norm.cwiseQuotient(s);
    for (RowMajor* m : {&L.q, &L.k, &L.v}) *m = *m * s.asDiagonal();
    s = scales(st.at(l, ffn_in), {&L.gate, &L.up});
    L.ffn_norm = L.ffn_norm.cwiseQuotient(s);
    for (RowMajor* m : {&L.gate, &L.up}) *m = *m * s.asDiagonal();
    s = scales(st.at(l, ffn_mid), {&L.down});
    L.up = s.cwiseInverse().asDiagonal() * L.up;
    L.down = L.down * s.asDiagonal();
    // attn_output: one scale per kv channel, from the largest |x| and |w| over the query heads of its group.
    const Eigen::VectorXf xo = st.at(l, attn_out);
    Eigen::VectorXf xkv = Eigen::VectorXf::Zero(w.kv_dim());
    RowMajor wkv = RowMajor::Zero(w.dim, w.kv_dim());
    for (Index h = 0; h < w.heads; ++h) {
      const Index kvh = h / group;
      xkv.segment(kvh * hs, hs) = xkv.segment(kvh * hs, hs).cwiseMax(xo.segment(h * hs, hs));
      wkv.middleCols(kvh * hs, hs) = wkv.middleCols(kvh * hs, hs).cwiseMax(L.o.middleCols(h * hs, hs).cwiseAbs());
    }
    const Eigen::VectorXf skv = scales(xkv, {&wkv});
    L.v = skv.cwiseInverse().asDiagonal() * L.v;
    for (Index h = 0; h < w.heads; ++h) L.o.middleCols(h * hs, hs) = L.o.middleCols(h * hs, hs) * skv.segment((h / group) * hs, hs).asDiagonal();
  }
  const Eigen::VectorXf s = scales(st.at(0, logits_in), {&w.output});
  w.output_norm = w.output_norm.cwiseQuotient(s);
  w.output = w.output * s.asDiagonal();
  return w;
}

}  // namespace llm
