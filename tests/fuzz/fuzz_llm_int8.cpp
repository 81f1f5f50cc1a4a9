// libFuzzer target: LLM.int8() -- matmul_llm_int8, matmul_vectorwise and LLMInt8Linear (every ISA path, both
// outlier-weight options, with and without bias) -- against a double-precision reference of the semantics in
// docs/llm_int8.md, on small X (m <= 64, k <= 256) and W (n <= 128) of moderate magnitude with occasional
// outlier features.
//
// Two references, both in double:
//  - the exact product X W (+ bias). The documented semantics quantize the non-outlier part vector-wise
//    (AbsMax, each x and w within half a step of its code's value), so |Y - X W| may reach, summed over the
//    non-outlier p, |x| step_w / 2 + |w| step_x / 2 + step_x step_w / 4 (plus |x| step_w / 2 over the outlier p
//    when the layer multiplies them by dequantized int8 weights), plus float rounding;
//  - the documented computation itself: the AbsMax codes (q = round_half_even(float(127 / max|v|) * v), max over
//    the non-outlier columns of X / rows of W), C = exact integer product of the codes,
//    Y = C step_x step_w + sum over outlier p of x * (w, or the dequantized code * step_w) + bias, which Y must
//    match to float rounding of the epilogue (a few ulps): a wrong code, scale or outlier column shows.
// And the documented identities: every ISA path and thread count gives bit-identical results; with no outlier
// the layer equals matmul_vectorwise and a threshold above every |x| gives matmul_vectorwise exactly; the layer
// with OutlierWeights::float32 equals matmul_llm_int8 when no outlier row of W holds a column maximum; NaN/Inf
// in X or W is a std::domain_error naming the position, a NaN threshold a std::invalid_argument.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <octet/octet.hpp>

#include "fuzz_input.hpp"

namespace {

using Eigen::Index;
using Eigen::MatrixXf;
using Eigen::VectorXf;

bool bit_identical(const MatrixXf& a, const MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0);
}

/// AbsMax of one vector as docs/quantization.md defines it: step = max|v| / 127 and s = 127 / max|v| in float32
/// (with the exact power-of-two rescaling of groups beyond 2^+-60), q = round_half_even(s * v).
struct AbsMaxGroup {
  float s = 0, step = 0;
  int e = 0;
  explicit AbsMaxGroup(float amax) {
    if (amax == 0.0f) return;
    if (!(amax >= 0x1p-60f && amax <= 0x1p60f)) e = -std::ilogb(amax);
    const float a = std::ldexp(amax, e);
    s = 127.0f / a;
    step = std::ldexp(a / 127.0f, -e);
  }
  int code(float v) const {
    const float q = std::nearbyint(s * std::ldexp(v, e));
    return static_cast<int>(std::fmin(std::fmax(q, -127.0f), 127.0f));
  }
};

/// What the outlier columns of X are multiplied by.
enum class Outliers { float_w, dequantized_w };

struct Problem {
  MatrixXf x, w;
  VectorXf bias;                // empty or n
  std::vector<char> outlier;    // per column of X: 1 for an outlier column
  Index r = 0;                  // number of outlier columns
};

/// Checks y against both references. w_all_rows: W's column scales over all rows (the layer) or over the
/// non-outlier rows only (matmul_llm_int8).
void check_against_reference(const MatrixXf& y, const Problem& pb, bool w_all_rows, Outliers outliers,
                             bool with_bias, const char* what) {
  const MatrixXf& x = pb.x;
  const MatrixXf& w = pb.w;
  const Index m = x.rows(), k = x.cols(), n = w.cols();
  OCTET_FUZZ_CHECK(y.rows() == m && y.cols() == n, "%s: result is %ld x %ld, expected %ld x %ld", what,
                   long(y.rows()), long(y.cols()), long(m), long(n));
  // Codes and steps.
  std::vector<AbsMaxGroup> gx, gw;
  for (Index i = 0; i < m; ++i) {
    float a = 0.0f;
    for (Index p = 0; p < k; ++p)
      if (!pb.outlier[static_cast<std::size_t>(p)]) a = std::fmax(a, std::fabs(x(i, p)));
    gx.emplace_back(a);
  }
  for (Index j = 0; j < n; ++j) {
    float a = 0.0f;
    for (Index p = 0; p < k; ++p)
      if (w_all_rows || !pb.outlier[static_cast<std::size_t>(p)]) a = std::fmax(a, std::fabs(w(p, j)));
    gw.emplace_back(a);
  }
  // The codes, and what the outlier rows of W are multiplied by, computed once.
  Eigen::MatrixXi qx(m, k), qw(k, n);
  Eigen::MatrixXd wo(k, n);
  for (Index p = 0; p < k; ++p) {
    for (Index i = 0; i < m; ++i) qx(i, p) = gx[static_cast<std::size_t>(i)].code(x(i, p));
    for (Index j = 0; j < n; ++j) {
      const AbsMaxGroup& cw = gw[static_cast<std::size_t>(j)];
      qw(p, j) = cw.code(w(p, j));
      // dequantized: one float product, as Quantized::dequantize and the layer compute it
      wo(p, j) = outliers == Outliers::dequantized_w ? double(static_cast<float>(qw(p, j)) * cw.step) : double(w(p, j));
    }
  }
  const double eps = std::ldexp(1.0, -24);
  for (Index j = 0; j < n; ++j) {
    const double sw = gw[static_cast<std::size_t>(j)].step;
    for (Index i = 0; i < m; ++i) {
      const double sx = gx[static_cast<std::size_t>(i)].step;
      std::int64_t c = 0;
      double exact = 0, abs_sum = 0, quant_tol = 0, kept_mag = 0, outlier_sum = 0, outlier_abs = 0;
      for (Index p = 0; p < k; ++p) {
        const double xv = x(i, p), wv = w(p, j);
        exact += xv * wv;
        abs_sum += std::fabs(xv * wv);
        if (!pb.outlier[static_cast<std::size_t>(p)]) {
          c += std::int64_t(qx(i, p)) * qw(p, j);
          quant_tol += std::fabs(xv) * sw / 2 + std::fabs(wv) * sx / 2 + sx * sw / 4;
          kept_mag += (std::fabs(xv) + sx) * (std::fabs(wv) + sw);
        } else {
          if (outliers == Outliers::dequantized_w) quant_tol += std::fabs(xv) * sw / 2;
          outlier_sum += xv * wo(p, j);
          outlier_abs += std::fabs(xv * wo(p, j));
        }
      }
      const double b = with_bias ? double(pb.bias(j)) : 0.0;
      const double int8_part = double(c) * sx * sw;
      const double got = y(i, j);
      // The documented computation, to the float rounding of the epilogue.
      const double ideal = int8_part + outlier_sum + b;
      const double tol_ideal =
          2 * eps * (4 * std::fabs(int8_part) + double(pb.r + 3) * outlier_abs + 2 * std::fabs(ideal) + std::fabs(b)) +
          1e-37;
      OCTET_FUZZ_CHECK(std::fabs(got - ideal) <= tol_ideal,
                       "%s: Y(%ld, %ld) = %.9g, the documented computation gives %.9g (C = %lld, step_x %.9g, step_w "
                       "%.9g, outlier part %.9g, bias %.9g): off by %.3g, allowed %.3g; m %ld k %ld n %ld, %ld outlier "
                       "columns",
                       what, long(i), long(j), got, ideal, static_cast<long long>(c), sx, sw, outlier_sum, b,
                       std::fabs(got - ideal), tol_ideal, long(m), long(k), long(n), long(pb.r));
      // The exact product, within the quantization error the docs describe.
      const double truth = exact + b;
      const double tol_truth = quant_tol * (1 + 1e-6) + 2 * eps * double(k + 4) * (abs_sum + kept_mag) +
                               2 * eps * std::fabs(b) + 1e-37;
      OCTET_FUZZ_CHECK(std::fabs(got - truth) <= tol_truth,
                       "%s: Y(%ld, %ld) = %.9g, exact X W%s = %.9g: off by %.3g, more than the quantization error "
                       "bound %.3g; m %ld k %ld n %ld, %ld outlier columns",
                       what, long(i), long(j), got, with_bias ? " + bias" : "", truth, std::fabs(got - truth),
                       tol_truth, long(m), long(k), long(n), long(pb.r));
    }
  }
}

float threshold_from(std::uint8_t b) {
  static const float table[] = {6.0f, 6.0f, 6.0f, 2.0f, 0.5f, 20.0f, 1e30f, std::numeric_limits<float>::infinity(),
                                3.0f, 0.0f, 6.0f, 1.0f, 6.0f, 10.0f, 4.0f, std::numeric_limits<float>::quiet_NaN()};
  // NaN only once in 64 inputs: it ends the run early.
  const int i = b % 64;
  return i == 63 ? table[15] : table[i % 15];
}

void check_errors(const Problem& pb, float threshold, bool x_bad, Index bi, Index bj) {
  const char* name = x_bad ? "X" : "W";
  const std::string where = "(row " + std::to_string(bi) + ", column " + std::to_string(bj) + ") of " + name;
  auto expect_domain_error = [&](auto&& call, const char* what) {
    try {
      call();
      OCTET_FUZZ_CHECK(false, "%s: no std::domain_error for a non-finite value at %s", what, where.c_str());
    } catch (const std::domain_error& e) {
      OCTET_FUZZ_CHECK(std::string(e.what()).find(where) != std::string::npos, "%s: the message does not say %s: %s",
                       what, where.c_str(), e.what());
    }
  };
  expect_domain_error([&] { (void)octet::matmul_llm_int8(pb.x, pb.w, threshold); }, "matmul_llm_int8");
  expect_domain_error([&] { (void)octet::matmul_vectorwise(pb.x, pb.w); }, "matmul_vectorwise");
  if (x_bad) {
    const octet::LLMInt8Linear layer(pb.w, threshold);
    expect_domain_error([&] { (void)layer(pb.x); }, "LLMInt8Linear::operator()");
  } else {
    expect_domain_error([&] { octet::LLMInt8Linear layer(pb.w, threshold); }, "LLMInt8Linear(w)");
  }
}

/// Block-wise scales (LLMInt8Options::block_size = g): every ISA path and thread count bit-identical, and the
/// result within the quantization error of the blocks (each x and w within half a step of its block's code) of
/// the exact product, plus float rounding.
void check_blockwise(const Problem& pb, float threshold, bool use_bias, Index g) {
  const MatrixXf& x = pb.x;
  const MatrixXf& w = pb.w;
  const Index m = x.rows(), k = x.cols(), n = w.cols(), blocks = k > 0 ? (k + g - 1) / g : 1;
  MatrixXf first;
  bool have_first = false;
  for (octet::Isa isa : octet::supported_isas()) {
    octet::LLMInt8Options options;
    options.isa = isa;
    options.block_size = g;
    if (use_bias) options.bias = pb.bias;
    const octet::LLMInt8Linear layer(w, threshold, options);
    const MatrixXf y = layer(x);
    if (have_first) {
      OCTET_FUZZ_CHECK(bit_identical(y, first), "block %ld: ISA %d differs from ISA %d", long(g), static_cast<int>(isa),
                       static_cast<int>(octet::supported_isas().front()));
      continue;
    }
    octet::set_num_threads(1);
    const MatrixXf y1 = layer(x);
    octet::set_num_threads(0);
    OCTET_FUZZ_CHECK(bit_identical(y1, y), "block %ld: results differ between thread counts", long(g));
    OCTET_FUZZ_CHECK(layer.weight_steps().rows() == blocks && layer.weight_steps().cols() == n,
                     "block %ld: weight_steps() is %ld x %ld", long(g), long(layer.weight_steps().rows()),
                     long(layer.weight_steps().cols()));
    first = y;
    have_first = true;
    const double eps = std::ldexp(1.0, -24);
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j) {
        double exact = use_bias ? double(pb.bias(j)) : 0.0, tol = 0, mag = use_bias ? std::fabs(pb.bias(j)) : 0.0;
        for (Index b = 0; b * g < k; ++b) {
          float ax = 0.0f, aw = 0.0f;
          for (Index p = b * g; p < std::min(k, (b + 1) * g); ++p) {
            if (!pb.outlier[static_cast<std::size_t>(p)]) ax = std::fmax(ax, std::fabs(x(i, p)));
            aw = std::fmax(aw, std::fabs(w(p, j)));
          }
          const double sx = AbsMaxGroup(ax).step, sw = AbsMaxGroup(aw).step;
          for (Index p = b * g; p < std::min(k, (b + 1) * g); ++p) {
            const double xv = x(i, p), wv = w(p, j);
            exact += xv * wv;
            mag += (std::fabs(xv) + sx) * (std::fabs(wv) + sw);
            tol += pb.outlier[static_cast<std::size_t>(p)] ? std::fabs(xv) * sw / 2
                                                           : std::fabs(xv) * sw / 2 + std::fabs(wv) * sx / 2 + sx * sw / 4;
          }
        }
        tol = tol * (1 + 1e-6) + 2 * eps * double(k + blocks + 4) * mag + 1e-37;
        OCTET_FUZZ_CHECK(std::fabs(y(i, j) - exact) <= tol,
                         "block %ld: Y(%ld, %ld) = %.9g, exact %.9g: off by %.3g, more than the block quantization "
                         "bound %.3g; m %ld k %ld n %ld, %ld outlier columns",
                         long(g), long(i), long(j), double(y(i, j)), exact, std::fabs(y(i, j) - exact), tol, long(m),
                         long(k), long(n), long(pb.r));
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  octet_fuzz::Input in(data, size);
  Index m = in.below(65), k = in.below(257), n = in.below(129);
  while (m * k * n > (Index(1) << 17)) {  // bound the work of one run
    Index& d = (k >= n && k >= m) ? k : (n >= m ? n : m);
    d /= 2;
  }
  const float threshold = threshold_from(in.byte());
  const float x_scale = std::ldexp(1.0f, in.below(10) - 6), w_scale = std::ldexp(1.0f, in.below(10) - 7);
  const int outlier_features = in.below(5);
  std::vector<Index> outlier_cols;
  std::vector<float> outlier_factors;
  for (int t = 0; t < outlier_features; ++t) {
    outlier_cols.push_back(in.below(std::max<int>(1, static_cast<int>(k))));
    static const float factors[] = {3.0f, 8.0f, 25.0f, 60.0f};
    outlier_factors.push_back(factors[in.below(4)]);
  }
  const bool use_bias = in.byte() < 128;
  const std::uint8_t poison = in.byte();
  const Index poison_i = in.below(256), poison_j = in.below(256);
  in.start_bulk();

  Problem pb;
  pb.x.resize(m, k);
  pb.w.resize(k, n);
  std::size_t next = 0;
  // Values are multiples of 1/16 of the scale, often small and sometimes 0 (rows or columns with nothing to
  // scale occur in small shapes), each row of X and column of W with its own power-of-two magnitude.
  for (Index i = 0; i < m; ++i) {
    const float row = std::ldexp(x_scale, -(in.bulk(next++) % 4));
    for (Index p = 0; p < k; ++p) pb.x(i, p) = static_cast<float>(static_cast<std::int8_t>(in.bulk(next++))) / 16 * row;
  }
  for (std::size_t t = 0; t < outlier_cols.size(); ++t)
    if (k > 0) pb.x.col(outlier_cols[t]) *= outlier_factors[t];
  for (Index j = 0; j < n; ++j) {
    const float col = std::ldexp(w_scale, -(in.bulk(next++) % 4));
    for (Index p = 0; p < k; ++p) pb.w(p, j) = static_cast<float>(static_cast<std::int8_t>(in.bulk(next++))) / 16 * col;
  }
  if (use_bias) {
    pb.bias.resize(n);
    for (Index j = 0; j < n; ++j) pb.bias(j) = static_cast<float>(static_cast<std::int8_t>(in.bulk(next++))) / 32;
  }

  // Documented errors.
  if (std::isnan(threshold)) {
    bool thrown = false;
    try {
      (void)octet::matmul_llm_int8(pb.x, pb.w, threshold);
    } catch (const std::invalid_argument&) {
      thrown = true;
    }
    OCTET_FUZZ_CHECK(thrown, "matmul_llm_int8: no std::invalid_argument for a NaN threshold");
    thrown = false;
    try {
      octet::LLMInt8Linear layer(pb.w, threshold);
    } catch (const std::invalid_argument&) {
      thrown = true;
    }
    OCTET_FUZZ_CHECK(thrown, "LLMInt8Linear: no std::invalid_argument for a NaN threshold");
    return 0;
  }
  if (poison < 24) {
    const bool x_bad = poison % 2 == 0;
    MatrixXf& target = x_bad ? pb.x : pb.w;
    if (target.size() > 0) {
      const Index bi = poison_i % target.rows(), bj = poison_j % target.cols();
      const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity()};
      target(bi, bj) = bad[(poison / 2) % 3];
      check_errors(pb, threshold, x_bad, bi, bj);
      return 0;
    }
  }

  pb.outlier.assign(static_cast<std::size_t>(k), 0);
  std::vector<Index> expect_cols;
  for (Index p = 0; p < k; ++p)
    for (Index i = 0; i < m; ++i)
      if (std::fabs(pb.x(i, p)) > threshold) {
        pb.outlier[static_cast<std::size_t>(p)] = 1;
        expect_cols.push_back(p);
        break;
      }
  pb.r = static_cast<Index>(expect_cols.size());
  OCTET_FUZZ_CHECK(octet::outlier_columns(pb.x, threshold) == expect_cols, "outlier_columns: not the %ld expected",
                   long(pb.r));

  // The per-call functions (active ISA, default thread count).
  const MatrixXf y_llm = octet::matmul_llm_int8(pb.x, pb.w, threshold);
  check_against_reference(y_llm, pb, false, Outliers::float_w, false, "matmul_llm_int8");
  const MatrixXf y_vw = octet::matmul_vectorwise(pb.x, pb.w);
  {
    Problem none = pb;
    none.outlier.assign(static_cast<std::size_t>(k), 0);
    none.r = 0;
    check_against_reference(y_vw, none, false, Outliers::float_w, false, "matmul_vectorwise");
  }
  if (pb.r == 0) OCTET_FUZZ_CHECK(bit_identical(y_llm, y_vw), "no outlier, yet matmul_llm_int8 != matmul_vectorwise");

  // Does an outlier row of W hold a column maximum? If not, the layer's scales are matmul_llm_int8's.
  bool same_w_scales = true;
  for (Index j = 0; j < n && same_w_scales; ++j) {
    float all = 0.0f, kept = 0.0f;
    for (Index p = 0; p < k; ++p) {
      all = std::fmax(all, std::fabs(pb.w(p, j)));
      if (!pb.outlier[static_cast<std::size_t>(p)]) kept = std::fmax(kept, std::fabs(pb.w(p, j)));
    }
    same_w_scales = all == kept;
  }

  // The layer: every ISA path, both outlier-weight options; the first path also with one thread.
  for (octet::OutlierWeights ow : {octet::OutlierWeights::dequantized_int8, octet::OutlierWeights::float32}) {
    const bool deq = ow == octet::OutlierWeights::dequantized_int8;
    const char* what = deq ? "LLMInt8Linear (dequantized_int8)" : "LLMInt8Linear (float32)";
    MatrixXf first;
    bool have_first = false;
    for (octet::Isa isa : octet::supported_isas()) {
      octet::LLMInt8Options options;
      options.isa = isa;
      options.outlier_weights = ow;
      if (use_bias) options.bias = pb.bias;
      const octet::LLMInt8Linear layer(pb.w, threshold, options);
      OCTET_FUZZ_CHECK(layer.isa() == isa && layer.in_features() == k && layer.out_features() == n, "%s: metadata",
                       what);
      octet::LLMInt8Stats stats;
      const MatrixXf y = layer(pb.x, &stats);
      OCTET_FUZZ_CHECK(stats.outlier_columns == expect_cols, "%s: stats report other outlier columns", what);
      if (!have_first) {
        check_against_reference(y, pb, true, deq ? Outliers::dequantized_w : Outliers::float_w, use_bias, what);
        if (pb.r == 0 && !use_bias)
          OCTET_FUZZ_CHECK(bit_identical(y, y_vw), "%s: no outlier, yet the layer != matmul_vectorwise", what);
        if (!deq && !use_bias && same_w_scales)
          OCTET_FUZZ_CHECK(bit_identical(y, y_llm), "%s: != matmul_llm_int8 though no outlier row holds a column "
                           "maximum", what);
        octet::set_num_threads(1);
        const MatrixXf y1 = layer(pb.x);
        octet::set_num_threads(2);
        const MatrixXf y2 = layer(pb.x);
        octet::set_num_threads(0);
        OCTET_FUZZ_CHECK(bit_identical(y1, y) && bit_identical(y2, y), "%s: results differ between thread counts",
                         what);
        first = y;
        have_first = true;
      } else {
        OCTET_FUZZ_CHECK(bit_identical(y, first), "%s: ISA %d differs from ISA %d", what,
                         static_cast<int>(isa), static_cast<int>(octet::supported_isas().front()));
      }
    }
  }
  check_blockwise(pb, threshold, use_bias, (poison & 1) ? 32 : 64);
  return 0;
}
