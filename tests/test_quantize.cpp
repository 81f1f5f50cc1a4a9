// Tests of include/octet/quantize.hpp: worked examples computed with NumPy, every scheme x granularity against a plain
// scalar reference written here from the formulas, edge cases, expression inputs, errors, error_stats.
#include "catch.hpp"

#include <octet/quantize.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using Eigen::Index;
using Eigen::MatrixXf;

// ------------------------------------------------------------------------------------------------------
// Scalar reference: the formulas of docs/quantization.md, in float32, one loop per step. It knows nothing
// of octet's affine (step, offset) form except where it says so.
// ------------------------------------------------------------------------------------------------------

// A product stored and reloaded, so that it is never fused with the following addition into an FMA.
float stored(float v) {
  volatile float t = v;
  return t;
}

enum class Gran { tensor, row, column };

template <class G>
constexpr Gran gran_of() {
  return std::is_same<G, octet::PerRow>::value      ? Gran::row
         : std::is_same<G, octet::PerColumn>::value ? Gran::column
                                                    : Gran::tensor;
}

Index group_count(Gran g, Index rows, Index cols) {
  return g == Gran::tensor ? 1 : g == Gran::row ? rows : cols;
}
Index group_id(Gran g, Index i, Index j) { return g == Gran::tensor ? 0 : g == Gran::row ? i : j; }

struct Reference {
  Eigen::MatrixXi codes;       // as int
  MatrixXf dequant;            // the scheme's own dequantization formula
  std::vector<float> zero;     // ZeroPoint's z per group
  std::vector<float> magnitude;  // per group: a size for the tolerance of dequantization comparisons
};

float clip(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// kind: 0 AbsMax, 1 ZeroPoint, 2 MidRange, 3 MinMax
Reference reference_quantize(int kind, const MatrixXf& x, Gran g) {
  const Index n = group_count(g, x.rows(), x.cols());
  std::vector<float> mn(static_cast<std::size_t>(n), std::numeric_limits<float>::infinity());
  std::vector<float> mx(static_cast<std::size_t>(n), -std::numeric_limits<float>::infinity());
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j) {
      const auto k = static_cast<std::size_t>(group_id(g, i, j));
      mn[k] = std::min(mn[k], x(i, j));
      mx[k] = std::max(mx[k], x(i, j));
    }
  Reference r;
  r.codes.resize(x.rows(), x.cols());
  r.dequant.resize(x.rows(), x.cols());
  r.zero.assign(static_cast<std::size_t>(n), 0.0f);
  r.magnitude.assign(static_cast<std::size_t>(n), 0.0f);
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j) {
      const auto k = static_cast<std::size_t>(group_id(g, i, j));
      const float lo = mn[k], hi = mx[k], v = x(i, j);
      float q = 0.0f, d = 0.0f;
      if (kind == 0) {  // AbsMax: s = 127/max|x|, q = round(s*x), x_hat = q/s
        const float a = std::max(std::abs(lo), std::abs(hi));
        if (a != 0.0f) {
          const float s = 127.0f / a;
          q = std::nearbyint(s * v);
          d = q / s;
        }
        r.magnitude[k] = a;
      } else if (kind == 1) {  // ZeroPoint: s = 255/range (0 counts as 1), z = round(-s*min) - 128
        float range = hi - lo;
        if (range == 0.0f) range = 1.0f;
        const float s = 255.0f / range;
        const float z = std::nearbyint(-s * lo) - 128.0f;
        q = clip(std::nearbyint(stored(s * v) + z), -128.0f, 127.0f);
        d = (q - z) / s;
        r.zero[k] = z;
        r.magnitude[k] = (std::abs(z) + 256.0f) / s;
      } else if (kind == 2) {  // MidRange: c = (min+max)/2, step = (max-min)/255
        const float c = (lo + hi) / 2.0f, step = (hi - lo) / 255.0f;
        if (step != 0.0f) q = clip(std::nearbyint((v - c) / step), -128.0f, 127.0f);
        d = stored(q * step) + (step != 0.0f ? c : lo);  // a constant group: c == lo anyway
        r.magnitude[k] = std::max(std::abs(lo), std::abs(hi));
      } else {  // MinMax: step = (max-min)/255, q = round((x - min)/step)
        const float step = (hi - lo) / 255.0f;
        if (step != 0.0f) q = clip(std::nearbyint((v - lo) / step), 0.0f, 255.0f);
        d = stored(q * step) + lo;
        r.magnitude[k] = std::max(std::abs(lo), std::abs(hi));
      }
      r.codes(i, j) = static_cast<int>(q);
      r.dequant(i, j) = d;
    }
  return r;
}

template <class S>
constexpr int kind_of() {
  return std::is_same<S, octet::AbsMax>::value      ? 0
         : std::is_same<S, octet::ZeroPoint>::value ? 1
         : std::is_same<S, octet::MidRange>::value  ? 2
                                                    : 3;
}

// The documented contract of dequantize(): x_hat = codes * step + offset, one rounding each, per group.
template <class Q>
MatrixXf affine_dequant(const Q& q) {
  MatrixXf out(q.rows(), q.cols());
  for (Index i = 0; i < q.rows(); ++i)
    for (Index j = 0; j < q.cols(); ++j) {
      const Index g = q.group(i, j);
      out(i, j) = stored(static_cast<float>(q.codes(i, j)) * q.step(g)) + q.offset(g);
    }
  return out;
}

// What the exception of type E thrown by f says ("" when f throws nothing).
template <class E, class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Test data. kind: 0 normal, 1 post-ReLU, 2 shifted far from zero, 3 quarter-integers (many exact ties),
// 4 normal with one outlier.
MatrixXf make_data(int kind, Index rows, Index cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> small(-12, 12);
  MatrixXf x(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) {
      const float v = normal(rng);
      x(i, j) = kind == 0   ? v
                : kind == 1 ? std::max(0.0f, v)
                : kind == 2 ? 7.0f + 0.25f * v
                : kind == 3 ? static_cast<float>(small(rng)) / 4.0f
                            : v;
    }
  if (kind == 4 && x.size() > 0) x(rows / 2, cols / 2) = 40.0f;
  return x;
}

template <class S, class G>
struct Combo {
  using scheme = S;
  using granularity = G;
};

// The example: np.random.seed(0); x = randint(0, 10, (10,)) + cos(uniform(0, 10, (10,))), recomputed in double.
const double seed_x[10] = {4.013787166047321,  0.8434463715450559, 2.084895657790428,  3.064217972120127,
                           6.735480487523881,  9.087271580440916,  2.29349957084318,   4.514612783212699,
                           1.0268764040477751, 4.9803568895277275};

// np.isclose(x, dequant, rtol=0.01, atol=0.01): |x - b| <= atol + rtol*|b| with b the dequantized value.
bool seed_close(double x, double b) { return std::abs(x - b) <= 0.01 + 0.01 * std::abs(b); }

}  // namespace

TEST_CASE("quantize: NumPy mid-range and min-based examples", "[quantize][numpy]") {
  Eigen::RowVectorXd row(10);
  for (int i = 0; i < 10; ++i) row(i) = seed_x[i];
  const Eigen::VectorXd col = row.transpose();

  // NumPy (float64) gives -29 -127 -89 -59 55 127 -83 -14 -122 0. octet computes in float32 and
  // gives -128 for the minimum (element 1): in exact arithmetic (min - c)/step is always -127.5 -- a tie,
  // which round-half-to-even sends to -128. Float64 happened to land at -127.49999999999999 (-> -127), float32
  // lands at -127.500015 (-> -128). Both reconstruct the minimum to within step/2. The maximum is the mirror
  // tie +127.5, which rounds to 128 in either precision and is clipped to 127.
  const int mid_expected[10] = {-29, -128, -89, -59, 55, 127, -83, -14, -122, 0};
  const int min_expected[10] = {98, 0, 38, 69, 182, 255, 45, 114, 6, 128};  // identical to NumPy's

  const auto mid_r = octet::quantize<octet::MidRange>(row);
  const auto mid_c = octet::quantize<octet::MidRange>(col);
  const auto mid_pr = octet::quantize<octet::MidRange, octet::PerRow>(row);
  const auto mid_pc = octet::quantize<octet::MidRange, octet::PerColumn>(col);
  const auto min_r = octet::quantize<octet::MinMax>(row);
  const auto min_c = octet::quantize<octet::MinMax>(col);
  const auto min_pr = octet::quantize<octet::MinMax, octet::PerRow>(row);
  const auto min_pc = octet::quantize<octet::MinMax, octet::PerColumn>(col);
  REQUIRE(mid_r.codes.rows() == 1);
  REQUIRE(mid_r.codes.cols() == 10);
  REQUIRE(mid_c.codes.rows() == 10);
  REQUIRE(mid_c.codes.cols() == 1);

  const MatrixXf mid_d = mid_r.dequantize(), min_d = min_r.dequantize();
  for (int i = 0; i < 10; ++i) {
    INFO("element " << i);
    CHECK(int(mid_r.codes(0, i)) == mid_expected[i]);
    CHECK(int(mid_c.codes(i, 0)) == mid_expected[i]);
    CHECK(int(mid_pr.codes(0, i)) == mid_expected[i]);
    CHECK(int(mid_pc.codes(i, 0)) == mid_expected[i]);
    CHECK(int(min_r.codes(0, i)) == min_expected[i]);
    CHECK(int(min_c.codes(i, 0)) == min_expected[i]);
    CHECK(int(min_pr.codes(0, i)) == min_expected[i]);
    CHECK(int(min_pc.codes(i, 0)) == min_expected[i]);
    CHECK(seed_close(seed_x[i], mid_d(0, i)));
    CHECK(seed_close(seed_x[i], min_d(0, i)));
  }

  // The tie mechanism, spelled out in float32.
  const float lo = static_cast<float>(seed_x[1]), hi = static_cast<float>(seed_x[5]);
  const float c = (lo + hi) / 2.0f, step = (hi - lo) / 255.0f;
  CHECK((lo - c) / step < -127.5f);
  CHECK((hi - c) / step == 127.5f);
  CHECK(mid_r.offset(0) == c);
  CHECK(mid_r.step(0) == step);
  CHECK(min_r.offset(0) == lo);
  CHECK(min_r.step(0) == step);
}

TEMPLATE_TEST_CASE("quantize: every scheme and granularity matches the scalar reference",
                   "[quantize][reference]", (Combo<octet::AbsMax, octet::PerTensor>),
                   (Combo<octet::AbsMax, octet::PerRow>), (Combo<octet::AbsMax, octet::PerColumn>),
                   (Combo<octet::ZeroPoint, octet::PerTensor>), (Combo<octet::ZeroPoint, octet::PerRow>),
                   (Combo<octet::ZeroPoint, octet::PerColumn>), (Combo<octet::MidRange, octet::PerTensor>),
                   (Combo<octet::MidRange, octet::PerRow>), (Combo<octet::MidRange, octet::PerColumn>),
                   (Combo<octet::MinMax, octet::PerTensor>), (Combo<octet::MinMax, octet::PerRow>),
                   (Combo<octet::MinMax, octet::PerColumn>)) {
  using S = typename TestType::scheme;
  using G = typename TestType::granularity;
  constexpr int kind = kind_of<S>();
  const Index shapes[][2] = {{1, 1}, {1, 17}, {17, 1}, {7, 13}, {64, 33}, {3, 200}, {128, 2}};
  std::mt19937 rng(20240601u);
  for (const auto& shape : shapes)
    for (int data = 0; data < 5; ++data) {
      const MatrixXf x = make_data(data, shape[0], shape[1], rng);
      INFO(S::name << " " << shape[0] << "x" << shape[1] << " data kind " << data);
      const auto q = octet::quantize<S, G>(x);
      const Reference r = reference_quantize(kind, x, gran_of<G>());

      REQUIRE(q.codes.rows() == x.rows());
      REQUIRE(q.codes.cols() == x.cols());
      REQUIRE(q.step.size() == group_count(gran_of<G>(), x.rows(), x.cols()));
      REQUIRE(q.offset.size() == q.step.size());
      REQUIRE(q.groups() == q.step.size());
      CHECK((q.codes.template cast<int>() == r.codes));

      const MatrixXf d = q.dequantize();
      CHECK((d.array() == affine_dequant(q).array()).all());  // the documented contract, bit for bit
      if (kind >= 2) {
        CHECK((d.array() == r.dequant.array()).all());  // the formula is the affine form itself
      }
      // Worst elements, relative to their tolerance (<= 1 passes):
      //  - against the reference formula: q/s and (q - z)/s rewritten as q*step + offset are equal to a few
      //    float32 roundings of the group's magnitude;
      //  - against x: the quantization error of a value inside [min, max] is at most half a step.
      double worst_formula = 0.0, worst_error = 0.0;
      for (Index i = 0; i < x.rows(); ++i)
        for (Index j = 0; j < x.cols(); ++j) {
          const Index g = q.group(i, j);
          const float m = r.magnitude[static_cast<std::size_t>(group_id(gran_of<G>(), i, j))];
          worst_formula = std::max(worst_formula, std::abs(d(i, j) - r.dequant(i, j)) / (4e-7 * m + 1e-30));
          const double half_step = 0.5 * q.step(g) * 1.001 + 1e-6 * std::abs(x(i, j));
          worst_error = std::max(worst_error, std::abs(d(i, j) - x(i, j)) / half_step);
        }
      CHECK(worst_formula <= 1.0);
      CHECK(worst_error <= 1.0);
      if constexpr (kind == 1) {
        const Eigen::Map<const Eigen::VectorXf> z(r.zero.data(), static_cast<Index>(r.zero.size()));
        CHECK((q.zero_point.array() == z.array()).all());
      }
    }
}

TEST_CASE("quantize: codes stay in each scheme's range", "[quantize][range]") {
  std::mt19937 rng(7u);
  for (int data = 0; data < 5; ++data)
    for (int rep = 0; rep < 4; ++rep) {
      const MatrixXf x = make_data(data, 31, 29, rng);
      INFO("data kind " << data);
      const auto a = octet::quantize<octet::AbsMax, octet::PerRow>(x);
      CHECK(a.codes.cast<int>().minCoeff() >= -127);
      CHECK(a.codes.cast<int>().maxCoeff() <= 127);
      CHECK((a.offset.array() == 0.0f).all());
      // the largest magnitude of every row gets code +-127
      CHECK((a.codes.cast<int>().cwiseAbs().rowwise().maxCoeff().array() == 127).all());

      const auto z = octet::quantize<octet::ZeroPoint, octet::PerColumn>(x);
      CHECK(z.codes.cast<int>().minCoeff() >= -128);
      CHECK(z.codes.cast<int>().maxCoeff() <= 127);
      CHECK((z.zero_point.array() == z.zero_point.array().round()).all());  // integers

      const auto m = octet::quantize<octet::MidRange>(x);
      CHECK(m.codes.cast<int>().minCoeff() >= -128);
      CHECK(m.codes.cast<int>().maxCoeff() == 127);  // the maximum's tie +127.5 always clips to 127

      const auto u = octet::quantize<octet::MinMax, octet::PerColumn>(x);
      // every column (none is constant here) hits both ends
      REQUIRE((x.colwise().maxCoeff() - x.colwise().minCoeff()).minCoeff() > 0.0f);
      CHECK((u.codes.cast<int>().colwise().minCoeff().array() == 0).all());
      CHECK((u.codes.cast<int>().colwise().maxCoeff().array() == 255).all());
    }
}

TEMPLATE_TEST_CASE("quantize: edge cases never give NaN", "[quantize][edge]", octet::AbsMax, octet::ZeroPoint,
                   octet::MidRange, octet::MinMax) {
  using S = TestType;

  SECTION("empty matrices") {
    const MatrixXf e00(0, 0), e05(0, 5), e50(5, 0);
    const auto t = octet::quantize<S>(e00);
    CHECK(t.codes.size() == 0);
    CHECK(t.step.size() == 1);  // per tensor: always one group, here an empty one
    CHECK(t.step(0) == 0.0f);
    CHECK(t.offset(0) == 0.0f);
    CHECK(t.dequantize().size() == 0);
    const auto r = octet::quantize<S, octet::PerRow>(e05);
    CHECK(r.codes.rows() == 0);
    CHECK(r.codes.cols() == 5);
    CHECK(r.step.size() == 0);
    const auto c = octet::quantize<S, octet::PerColumn>(e05);
    CHECK(c.step.size() == 5);  // five empty groups
    CHECK((c.step.array() == 0.0f).all());
    CHECK((c.offset.array() == 0.0f).all());
    const auto r2 = octet::quantize<S, octet::PerRow>(e50);
    CHECK(r2.step.size() == 5);
    CHECK(r2.dequantize().rows() == 5);
    CHECK(octet::quantize<S, octet::PerColumn>(e50).step.size() == 0);
  }

  SECTION("all zeros") {
    const MatrixXf x = MatrixXf::Zero(4, 6);
    const auto q = octet::quantize<S>(x);
    CHECK((q.dequantize().array() == 0.0f).all());
    if (!std::is_same<S, octet::ZeroPoint>::value) CHECK((q.codes.template cast<int>().array() == 0).all());
    // ZeroPoint: the range counts as 1, z = round(-255*0) - 128 = -128, and 0 is code -128.
    if (std::is_same<S, octet::ZeroPoint>::value) CHECK((q.codes.template cast<int>().array() == -128).all());
  }

  SECTION("constant matrices") {
    for (const float v : {3.25f, -0.1f, 1e-3f, 7e5f, -1e-30f}) {
      INFO("value " << v);
      const MatrixXf x = MatrixXf::Constant(3, 5, v);
      const auto q = octet::quantize<S>(x);
      const MatrixXf d = q.dequantize();
      CHECK(d.allFinite());
      if (std::is_same<S, octet::MidRange>::value || std::is_same<S, octet::MinMax>::value) {
        CHECK((q.codes.template cast<int>().array() == 0).all());
        CHECK((d.array() == v).all());  // exact: step 0, offset = the constant
      } else if (std::is_same<S, octet::AbsMax>::value) {
        CHECK((q.codes.template cast<int>().array() == (v > 0 ? 127 : -127)).all());
        // 127 * fl(v/127) is v or one ulp away: no float step reproduces every v exactly.
        CHECK((d.array() - v).abs().maxCoeff() <= std::abs(v) * 1.2e-7f);
      } else {
        // The range counts as 1: the constant is off by at most 1/255 of one unit (plus rounding).
        CHECK((d.array() - v).abs().maxCoeff() <= 0.5f / 255.0f + 1e-6f * std::abs(v));
      }
    }
  }

  SECTION("a single element, and constant rows with different values") {
    Eigen::Matrix<float, 1, 1> one;
    one << -2.5f;
    const auto q1 = octet::quantize<S>(one);
    CHECK(std::abs(q1.dequantize()(0, 0) + 2.5f) <= 0.5f / 255.0f);
    MatrixXf rows(3, 4);
    rows.row(0).setConstant(1.5f);
    rows.row(1).setConstant(0.0f);
    rows.row(2).setConstant(-4.0f);
    const auto q = octet::quantize<S, octet::PerRow>(rows);
    CHECK(((q.dequantize() - rows).array().abs() <= 0.5f / 255.0f + 1e-6f).all());
  }

  SECTION("tiny and huge values are rescaled by a power of two and give the same codes") {
    std::mt19937 rng(11u);
    const MatrixXf x = make_data(0, 9, 8, rng);
    for (const int e : {-100, -70, 70, 100}) {
      INFO("scaled by 2^" << e);
      const MatrixXf y = x * std::ldexp(1.0f, e);
      const auto qx = octet::quantize<S, octet::PerRow>(x);
      const auto qy = octet::quantize<S, octet::PerRow>(y);
      CHECK((qx.codes == qy.codes));
      for (Index g = 0; g < qx.step.size(); ++g) {
        CHECK(qy.step(g) == std::ldexp(qx.step(g), e));
        CHECK(qy.offset(g) == std::ldexp(qx.offset(g), e));
      }
      CHECK(qy.dequantize().allFinite());
    }
  }

  SECTION("subnormal values and the float32 extremes") {
    const float tiny = std::numeric_limits<float>::denorm_min();
    const float big = std::numeric_limits<float>::max();
    MatrixXf sub(1, 4);
    sub << tiny, -3 * tiny, 0.0f, 2 * tiny;
    const auto qs = octet::quantize<S>(sub);
    // The codes are those of the same values scaled up to ordinary floats (1, -3, 0, 2)...
    MatrixXf ordinary(1, 4);
    ordinary << 1.0f, -3.0f, 0.0f, 2.0f;
    CHECK((qs.codes == octet::quantize<S>(ordinary).codes));
    // ...but the step underflows to 0: below float32's resolution nothing better than max|x| can be promised.
    CHECK(qs.dequantize().allFinite());
    CHECK(((qs.dequantize() - sub).array().abs() <= 5 * tiny).all());

    MatrixXf ext(2, 2);
    ext << -big, big, 0.0f, big / 3;
    const auto qe = octet::quantize<S>(ext);
    CHECK(qe.step.allFinite());
    CHECK(qe.offset.allFinite());
    const MatrixXf de = qe.dequantize();
    CHECK(!de.array().isNaN().any());
    // The extreme codes may dequantize beyond FLT_MAX (inf), as documented; the others are finite and close.
    // MinMax over a range wider than FLT_MAX: q*step alone overflows for the upper codes, also documented.
    if (!std::is_same<S, octet::MinMax>::value) {
      CHECK(std::isfinite(de(1, 1)));
      CHECK(std::abs(de(1, 1) - big / 3) <= 0.5f * qe.step(0) * 1.001f);
    }
  }
}

TEST_CASE("quantize: ZeroPoint rejects a constant group whose zero point overflows", "[quantize][edge]") {
  const MatrixXf x = MatrixXf::Constant(2, 2, 1e37f);
  const std::string m = message_of<std::domain_error>([&] { octet::quantize<octet::ZeroPoint>(x); });
  CHECK(contains(m, "octet::quantize"));
  CHECK(contains(m, "zero point"));
  CHECK(octet::quantize<octet::MinMax>(x).dequantize()(1, 1) == 1e37f);  // the other schemes are fine
}

TEMPLATE_TEST_CASE("quantize: any Eigen expression gives the codes of the same values in a MatrixXf",
                   "[quantize][expression]", octet::AbsMax, octet::ZeroPoint, octet::MidRange, octet::MinMax) {
  using S = TestType;
  std::mt19937 rng(3u);
  const MatrixXf big = make_data(0, 20, 30, rng);
  auto same = [](const auto& q, const MatrixXf& plain) {
    const auto p = octet::quantize<S, octet::PerColumn>(plain);
    return q.codes == p.codes && (q.step.array() == p.step.array()).all() &&
           (q.offset.array() == p.offset.array()).all();
  };

  SECTION("block") {
    CHECK(same(octet::quantize<S, octet::PerColumn>(big.block(3, 4, 9, 11)), MatrixXf(big.block(3, 4, 9, 11))));
  }
  SECTION("row-major") {
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = big;
    CHECK(same(octet::quantize<S, octet::PerColumn>(rm), big));
  }
  SECTION("Map with inner and outer strides") {
    // Every second element of every third column: a 10x10 view.
    Eigen::Map<const MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> m(
        big.data(), 10, 10, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(3 * 20, 2));
    MatrixXf plain(10, 10);
    for (Index j = 0; j < 10; ++j)
      for (Index i = 0; i < 10; ++i) plain(i, j) = big(2 * i, 3 * j);
    CHECK(same(octet::quantize<S, octet::PerColumn>(m), plain));
    Eigen::Map<const Eigen::VectorXf, 0, Eigen::InnerStride<5>> v(big.data(), 40);
    const auto qv = octet::quantize<S>(v);
    const auto pv = octet::quantize<S>(MatrixXf(v));
    CHECK(qv.codes == pv.codes);
  }
  SECTION("vectors, transposes and products") {
    const Eigen::VectorXf col = big.col(2);
    const Eigen::RowVectorXf row = big.row(5);
    CHECK(octet::quantize<S>(col).codes == octet::quantize<S>(MatrixXf(col)).codes);
    CHECK(octet::quantize<S, octet::PerRow>(row).codes == octet::quantize<S, octet::PerRow>(MatrixXf(row)).codes);
    CHECK(same(octet::quantize<S, octet::PerColumn>(big.transpose()), MatrixXf(big.transpose())));
    const MatrixXf prod = big.topRows(5) * big.topRows(7).transpose();
    CHECK(same(octet::quantize<S, octet::PerColumn>(big.topRows(5) * big.topRows(7).transpose()), prod));
    CHECK(same(octet::quantize<S, octet::PerColumn>(big.array().abs().matrix()), MatrixXf(big.cwiseAbs())));
  }
  SECTION("double, int, Eigen::half and Eigen::bfloat16 inputs") {
    const Eigen::MatrixXd d = big.cast<double>() * 1.000000001;  // not float-representable
    CHECK(same(octet::quantize<S, octet::PerColumn>(d), MatrixXf(d.cast<float>())));
    const Eigen::MatrixXi n = (big * 10.0f).cast<int>();
    CHECK(same(octet::quantize<S, octet::PerColumn>(n), MatrixXf(n.cast<float>())));
    const Eigen::Matrix<Eigen::half, Eigen::Dynamic, Eigen::Dynamic> h = big.cast<Eigen::half>();
    CHECK(same(octet::quantize<S, octet::PerColumn>(h), MatrixXf(h.cast<float>())));
    const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic> b = big.cast<Eigen::bfloat16>();
    CHECK(same(octet::quantize<S, octet::PerColumn>(b), MatrixXf(b.cast<float>())));
  }
}

TEST_CASE("quantize: non-finite values throw std::domain_error naming the position", "[quantize][errors]") {
  MatrixXf x = MatrixXf::Ones(5, 9);
  const MatrixXf before = x;
  x(3, 7) = std::numeric_limits<float>::quiet_NaN();
  std::string m = message_of<std::domain_error>([&] { octet::quantize<octet::AbsMax, octet::PerRow>(x); });
  CHECK(contains(m, "octet::quantize"));
  CHECK(contains(m, "nan"));
  CHECK(contains(m, "row 3, column 7"));

  x(3, 7) = 1.0f;
  x(0, 2) = -std::numeric_limits<float>::infinity();
  m = message_of<std::domain_error>([&] { octet::quantize<octet::MinMax>(x); });
  CHECK(contains(m, "-inf"));
  CHECK(contains(m, "row 0, column 2"));
  x(0, 2) = 1.0f;
  CHECK(x == before);  // nothing was touched

  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(2, 3);
  d(1, 2) = 1e300;  // finite as a double, infinite as a float: named as such, not as an infinity
  m = message_of<std::domain_error>([&] { octet::quantize<octet::ZeroPoint>(d); });
  CHECK(contains(m, "value 1e+300 at (row 1, column 2) of x is out of float range"));

  const Eigen::RowVector3f inf_row(0.0f, std::numeric_limits<float>::infinity(), 1.0f);
  m = message_of<std::domain_error>([&] { octet::quantize<octet::MidRange, octet::PerColumn>(inf_row); });
  CHECK(contains(m, "row 0, column 1"));
}

TEST_CASE("quantize: error_stats on known values", "[quantize][error_stats]") {
  Eigen::Matrix2f ref;
  ref << 1.0f, -2.0f, 3.0f, 4.0f;
  Eigen::Matrix2f approx;
  approx << 1.5f, -2.0f, 3.0f, 3.0f;
  const octet::ErrorStats s = octet::error_stats(ref, approx);
  CHECK(s.mean_abs == 0.375);
  CHECK(s.max_abs == 1.0);
  // signal 1 + 4 + 9 + 16 = 30, noise 0.25 + 1 = 1.25
  CHECK(std::abs(s.sqnr_db - 10.0 * std::log10(30.0 / 1.25)) < 1e-12);

  const octet::ErrorStats exact = octet::error_stats(ref, ref.cast<double>());
  CHECK(exact.mean_abs == 0.0);
  CHECK(exact.max_abs == 0.0);
  CHECK(exact.sqnr_db == std::numeric_limits<double>::infinity());

  const octet::ErrorStats zero_ref = octet::error_stats(Eigen::Matrix2f::Zero(), approx);
  CHECK(zero_ref.sqnr_db == -std::numeric_limits<double>::infinity());

  const octet::ErrorStats empty = octet::error_stats(MatrixXf(0, 3), MatrixXf(0, 3));
  CHECK(empty.mean_abs == 0.0);
  CHECK(empty.sqnr_db == std::numeric_limits<double>::infinity());

  const std::string m =
      message_of<std::invalid_argument>([&] { octet::error_stats(MatrixXf(2, 3), Eigen::MatrixXd(3, 2)); });
  CHECK(contains(m, "2x3"));
  CHECK(contains(m, "3x2"));

  // The figures computed in double: a difference below float resolution is still seen.
  Eigen::Vector2d a(1.0, 2.0), b(1.0 + 1e-12, 2.0);
  CHECK(octet::error_stats(a, b).max_abs > 0.0);
}

TEST_CASE("quantize: ZeroPoint zero points and exact zero", "[quantize]") {
  // Data that straddles 0: z lies in [-128, 127] and 0 dequantizes to exactly 0.
  MatrixXf x(2, 3);
  x << -1.0f, 0.0f, 2.0f, 0.5f, -0.25f, 3.0f;
  const auto q = octet::quantize<octet::ZeroPoint>(x);
  const float z = q.zero_point(0);
  CHECK(z >= -128.0f);
  CHECK(z <= 127.0f);
  CHECK(int(q.codes(0, 1)) == int(z));
  CHECK(q.dequantize()(0, 1) == 0.0f);
  CHECK(q.offset(0) == -(z * q.step(0)));
  // Post-ReLU-like data far from 0: z lies outside the int8 range, as the formula says.
  const auto far = octet::quantize<octet::ZeroPoint>(MatrixXf(x.array() + 10.0f));
  CHECK(far.zero_point(0) < -128.0f);
  // AbsMax keeps 0 exact too, with offset 0.
  const auto a = octet::quantize<octet::AbsMax>(x);
  CHECK(int(a.codes(0, 1)) == 0);
  CHECK(a.dequantize()(0, 1) == 0.0f);
  CHECK(a.step(0) == 3.0f / 127.0f);
}

// ------------------------------------------------------------------------------------------------------
// Block granularities: PerRowBlock<G> (each row cut into blocks of G columns) and PerColumnBlock<G> (each
// column cut into blocks of G rows). The reference is independent of the grouping code: every block is cut out
// as a small matrix of its own and quantized PerTensor (codes, step, offset and zero point must be identical,
// bit for bit) and by the scalar reference above (codes).
// ------------------------------------------------------------------------------------------------------

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The blocks of a rows x cols matrix: {first row, first column, rows, cols} of each, and its (row, col) in the
// grid of step/offset. Written from the definition, with no use of octet's tiling.
struct BlockRect {
  Index r0, c0, nr, nc, pi, pj;
};
template <class G>
std::vector<BlockRect> blocks_of(Index rows, Index cols) {
  constexpr bool by_row = std::is_same<G, octet::PerRowBlock<G::block_size>>::value;
  constexpr Index size = G::block_size;
  std::vector<BlockRect> out;
  if (by_row) {
    for (Index i = 0; i < rows; ++i)
      for (Index c0 = 0, b = 0; c0 < cols; c0 += size, ++b)
        out.push_back({i, c0, 1, std::min(size, cols - c0), i, b});
  } else {
    for (Index j = 0; j < cols; ++j)
      for (Index r0 = 0, b = 0; r0 < rows; r0 += size, ++b)
        out.push_back({r0, j, std::min(size, rows - r0), 1, b, j});
  }
  return out;
}

// Expected shape of step/offset: rows x ceil(cols / G) or ceil(rows / G) x cols.
template <class G>
std::pair<Index, Index> param_shape(Index rows, Index cols) {
  constexpr Index size = G::block_size;
  if (std::is_same<G, octet::PerRowBlock<size>>::value) return {rows, (cols + size - 1) / size};
  return {(rows + size - 1) / size, cols};
}

// Checks quantize<S, G>(x) against the per-block references; returns the quantized matrix for further checks.
template <class S, class G>
octet::Quantized<S, G> check_blocks(const MatrixXf& x) {
  const auto q = octet::quantize<S, G>(x);
  const auto shape = param_shape<G>(x.rows(), x.cols());
  REQUIRE(q.codes.rows() == x.rows());
  REQUIRE(q.codes.cols() == x.cols());
  REQUIRE(q.step.rows() == shape.first);
  REQUIRE(q.step.cols() == shape.second);
  REQUIRE(q.offset.rows() == shape.first);
  REQUIRE(q.offset.cols() == shape.second);
  REQUIRE(q.groups() == q.step.size());
  if constexpr (std::is_same<S, octet::ZeroPoint>::value) {
    REQUIRE(q.zero_point.rows() == shape.first);
    REQUIRE(q.zero_point.cols() == shape.second);
  }
  const MatrixXf d = q.dequantize();
  CHECK((d.array() == affine_dequant(q).array()).all());  // the documented contract, bit for bit

  int bad_codes = 0, bad_params = 0, bad_scalar = 0, bad_dequant = 0, bad_group = 0, bad_error = 0;
  for (const BlockRect& b : blocks_of<G>(x.rows(), x.cols())) {
    const MatrixXf xb = x.block(b.r0, b.c0, b.nr, b.nc);
    const auto t = octet::quantize<S>(xb);  // the block as a matrix of its own, one group
    const Reference r = reference_quantize(kind_of<S>(), xb, Gran::tensor);
    if (!(q.codes.block(b.r0, b.c0, b.nr, b.nc) == t.codes)) ++bad_codes;
    if (!(q.codes.block(b.r0, b.c0, b.nr, b.nc).template cast<int>() == r.codes)) ++bad_scalar;
    bool params_ok = same_bits(q.step(b.pi, b.pj), t.step(0)) && same_bits(q.offset(b.pi, b.pj), t.offset(0));
    if constexpr (std::is_same<S, octet::ZeroPoint>::value)
      params_ok = params_ok && same_bits(q.zero_point(b.pi, b.pj), t.zero_point(0));
    if (!params_ok) ++bad_params;
    const MatrixXf dt = t.dequantize();
    const bool constant = xb.minCoeff() == xb.maxCoeff();
    for (Index i = 0; i < b.nr; ++i)
      for (Index j = 0; j < b.nc; ++j) {
        const Index gi = b.r0 + i, gj = b.c0 + j;
        if (!same_bits(d(gi, gj), dt(i, j))) ++bad_dequant;
        // group(i, j) is the column-major index of the block in the step matrix.
        if (q.group(gi, gj) != b.pi + q.step.rows() * b.pj) ++bad_group;
        // The quantization error of a value inside its block's [min, max] is at most half a step.
        const double half_step = 0.5 * q.step(b.pi, b.pj) * 1.001 + 1e-6 * std::abs(x(gi, gj));
        const double err = std::abs(double(d(gi, gj)) - double(x(gi, gj)));
        // (ZeroPoint counts the range of a constant block as 1: within 0.5/255 plus rounding, as documented.)
        const bool zp_constant_ok =
            kind_of<S>() == 1 && constant && err <= 0.5 / 255 + 1e-6 * std::abs(x(gi, gj));
        if (!(err <= half_step) && !zp_constant_ok) ++bad_error;
      }
  }
  CHECK(bad_codes == 0);
  CHECK(bad_scalar == 0);
  CHECK(bad_params == 0);
  CHECK(bad_dequant == 0);
  CHECK(bad_group == 0);
  CHECK(bad_error == 0);
  return q;
}

// Every shape around the block edges for one G: the blocked extent in {0, 1, G-1, G, G+1, 2G+1}, the other
// extent in {1, 3}; five kinds of data. Also 0 x n, n x 0 and 1 x 1.
template <class S, class G>
void check_block_shapes(std::mt19937& rng) {
  constexpr Index size = G::block_size;
  constexpr bool by_row = std::is_same<G, octet::PerRowBlock<size>>::value;
  for (const Index along : {Index(0), Index(1), size - 1, size, size + 1, 2 * size + 1})
    for (const Index across : {Index(1), Index(3)})
      for (int data = 0; data < 5; ++data) {
        const Index rows = by_row ? across : along, cols = by_row ? along : across;
        INFO(S::name << (by_row ? " PerRowBlock<" : " PerColumnBlock<") << size << "> " << rows << "x" << cols
                     << " data kind " << data);
        check_blocks<S, G>(make_data(data, rows, cols, rng));
      }
  INFO(S::name << " block size " << size << ": empty and 1 x 1");
  check_blocks<S, G>(MatrixXf(0, 5));
  check_blocks<S, G>(MatrixXf(5, 0));
  check_blocks<S, G>(MatrixXf(0, 0));
  check_blocks<S, G>(make_data(0, 1, 1, rng));
}

}  // namespace

TEMPLATE_TEST_CASE("quantize: PerRowBlock and PerColumnBlock match every block quantized on its own",
                   "[quantize][block]", octet::AbsMax, octet::ZeroPoint, octet::MidRange, octet::MinMax) {
  using S = TestType;
  std::mt19937 rng(20261124u);
  check_block_shapes<S, octet::PerRowBlock<1>>(rng);
  check_block_shapes<S, octet::PerRowBlock<3>>(rng);
  check_block_shapes<S, octet::PerRowBlock<32>>(rng);
  check_block_shapes<S, octet::PerRowBlock<64>>(rng);
  check_block_shapes<S, octet::PerColumnBlock<1>>(rng);
  check_block_shapes<S, octet::PerColumnBlock<3>>(rng);
  check_block_shapes<S, octet::PerColumnBlock<32>>(rng);
  check_block_shapes<S, octet::PerColumnBlock<64>>(rng);

  // A larger matrix with partial last blocks both ways, and a block size larger than the matrix (one partial
  // block per row / column: the same as PerRow / PerColumn).
  const MatrixXf x = make_data(4, 70, 45, rng);
  const auto rb = check_blocks<S, octet::PerRowBlock<32>>(x);
  CHECK(rb.step.cols() == 2);  // 32 + a partial block of 13
  const auto cb = check_blocks<S, octet::PerColumnBlock<32>>(x);
  CHECK(cb.step.rows() == 3);  // 32 + 32 + a partial block of 6
  const auto wide = check_blocks<S, octet::PerRowBlock<64>>(x);
  const auto per_row = octet::quantize<S, octet::PerRow>(x);
  CHECK(wide.codes == per_row.codes);
  CHECK((wide.step.col(0).array() == per_row.step.array()).all());
  CHECK((wide.offset.col(0).array() == per_row.offset.array()).all());
  const auto tall = check_blocks<S, octet::PerColumnBlock<128>>(x);
  const auto per_col = octet::quantize<S, octet::PerColumn>(x);
  CHECK(tall.codes == per_col.codes);
  CHECK((tall.step.row(0).transpose().array() == per_col.step.array()).all());
}

TEMPLATE_TEST_CASE("quantize: block granularities, edge cases", "[quantize][block][edge]", octet::AbsMax,
                   octet::ZeroPoint, octet::MidRange, octet::MinMax) {
  using S = TestType;
  using RB = octet::PerRowBlock<4>;
  using CB = octet::PerColumnBlock<4>;

  SECTION("empty matrices: the step matrices have the documented shapes") {
    CHECK(octet::quantize<S, RB>(MatrixXf(0, 9)).step.rows() == 0);
    CHECK(octet::quantize<S, RB>(MatrixXf(0, 9)).step.cols() == 3);
    CHECK(octet::quantize<S, RB>(MatrixXf(9, 0)).step.rows() == 9);
    CHECK(octet::quantize<S, RB>(MatrixXf(9, 0)).step.cols() == 0);
    CHECK(octet::quantize<S, CB>(MatrixXf(0, 9)).step.rows() == 0);
    CHECK(octet::quantize<S, CB>(MatrixXf(0, 9)).step.cols() == 9);
    CHECK(octet::quantize<S, CB>(MatrixXf(9, 0)).step.rows() == 3);
    CHECK(octet::quantize<S, CB>(MatrixXf(9, 0)).step.cols() == 0);
    CHECK(octet::quantize<S, CB>(MatrixXf(0, 0)).dequantize().size() == 0);
  }

  SECTION("a block of zeros and a constant block among ordinary blocks") {
    std::mt19937 rng(5u);
    MatrixXf x = make_data(0, 3, 10, rng);      // blocks of columns 0-3, 4-7 and 8-9
    x.block(1, 4, 1, 4).setZero();              // row 1, block 1: zeros
    x.block(2, 8, 1, 2).setConstant(-2.75f);    // row 2, partial block 2: constant
    const auto q = check_blocks<S, RB>(x);
    const MatrixXf d = q.dequantize();
    CHECK((d.block(1, 4, 1, 4).array() == 0.0f).all());  // zeros come back exactly, whatever the scheme
    if (std::is_same<S, octet::ZeroPoint>::value) {
      CHECK((q.codes.block(1, 4, 1, 4).template cast<int>().array() == -128).all());  // z = -128
      CHECK(std::abs(d(2, 9) + 2.75f) <= 0.5f / 255.0f + 1e-6f);
    } else {
      CHECK((q.codes.block(1, 4, 1, 4).template cast<int>().array() == 0).all());
      CHECK(q.step(1, 1) == 0.0f);
    }
    if (std::is_same<S, octet::MidRange>::value || std::is_same<S, octet::MinMax>::value) {
      CHECK((d.block(2, 8, 1, 2).array() == -2.75f).all());  // exact: step 0, offset = the constant
      CHECK(q.step(2, 2) == 0.0f);
    }
    if (std::is_same<S, octet::AbsMax>::value) {
      CHECK((q.codes.block(2, 8, 1, 2).template cast<int>().array() == -127).all());
    }
    // The other blocks are untouched by the zeros: row 1, block 0 is the same as quantized alone.
    CHECK(q.step(1, 0) == octet::quantize<S>(x.block(1, 0, 1, 4)).step(0));
    CHECK(q.step(1, 0) > 0.0f);
  }

  SECTION("the extreme codes are reached in every block") {
    std::mt19937 rng(9u);
    const MatrixXf x = make_data(0, 13, 6, rng);  // column blocks of 4, 4, 4 and 1 rows; none constant but the last
    const auto q = check_blocks<S, CB>(x);
    const Eigen::MatrixXi c = q.codes.template cast<int>();
    for (Index j = 0; j < x.cols(); ++j)
      for (Index r0 = 0; r0 + 4 <= x.rows(); r0 += 4) {
        INFO("column " << j << ", rows " << r0 << "..");
        const Eigen::VectorXi b = c.block(r0, j, 4, 1);
        Index imin = 0, imax = 0;
        x.col(j).segment(r0, 4).minCoeff(&imin);
        x.col(j).segment(r0, 4).maxCoeff(&imax);
        if (std::is_same<S, octet::AbsMax>::value) {
          CHECK(b.cwiseAbs().maxCoeff() == 127);
          CHECK(b.minCoeff() >= -127);  // never -128
        } else if (std::is_same<S, octet::MinMax>::value) {
          CHECK(b(imin) == 0);
          CHECK(b(imax) == 255);
        } else if (std::is_same<S, octet::MidRange>::value) {
          CHECK(b(imax) == 127);  // the tie +127.5, clipped
          CHECK(b(imin) <= -127);
        } else {
          CHECK(b(imin) <= -127);
          CHECK(b(imin) >= -128);
          CHECK(b(imax) >= 126);
          CHECK(b(imax) <= 127);
        }
      }
  }

  SECTION("round half to even in every block, never truncation") {
    // AbsMax with max|x| = 127 in block 0 and 254 in block 1: s = 1 and s = 0.5, so the codes are the rounded
    // values themselves. Truncation toward zero would give 1, 2, -1 and 1, 2, -1 instead of 2, 3, -2.
    MatrixXf x(1, 8);
    x << 127.0f, 1.5f, 2.7f, -1.6f, 254.0f, 3.0f, 5.4f, -3.2f;
    const auto q = octet::quantize<octet::AbsMax, octet::PerRowBlock<4>>(x);
    const int expected[8] = {127, 2, 3, -2, 127, 2, 3, -2};  // 0.5*3 = 1.5 -> 2 (even), 2.7 -> 3, -1.6 -> -2
    for (int j = 0; j < 8; ++j) CHECK(int(q.codes(0, j)) == expected[j]);
    CHECK(q.step(0, 0) == 1.0f);
    CHECK(q.step(0, 1) == 2.0f);
    MatrixXf ties(1, 6);
    ties << 127.0f, 0.5f, 2.5f, -127.0f, -0.5f, -3.5f;  // exact ties: 0, 2, 0, -4
    const auto t = octet::quantize<octet::AbsMax, octet::PerRowBlock<3>>(ties);
    CHECK(int(t.codes(0, 1)) == 0);
    CHECK(int(t.codes(0, 2)) == 2);
    CHECK(int(t.codes(0, 4)) == 0);
    CHECK(int(t.codes(0, 5)) == -4);
  }

  SECTION("tiny and huge blocks side by side are each rescaled on their own") {
    std::mt19937 rng(13u);
    const MatrixXf base = make_data(0, 8, 6, rng);
    MatrixXf x = base;
    x.topRows(4) *= std::ldexp(1.0f, -100);  // column blocks of rows 0-3: tiny
    x.bottomRows(4) *= std::ldexp(1.0f, 100);  // rows 4-7: huge
    const auto q = check_blocks<S, CB>(x);
    const auto qb = octet::quantize<S, CB>(base);
    CHECK((q.codes == qb.codes));  // the same codes as the unscaled data
    for (Index j = 0; j < x.cols(); ++j) {
      CHECK(q.step(0, j) == std::ldexp(qb.step(0, j), -100));
      CHECK(q.step(1, j) == std::ldexp(qb.step(1, j), 100));
      CHECK(q.offset(0, j) == std::ldexp(qb.offset(0, j), -100));
      CHECK(q.offset(1, j) == std::ldexp(qb.offset(1, j), 100));
    }
    CHECK(q.dequantize().allFinite());
    // Per column, the tiny half would be all zeros: its step would be 2^200 times too coarse.
    const auto per_col = octet::quantize<S, octet::PerColumn>(x);
    CHECK((per_col.dequantize().topRows(4) - x.topRows(4)).cwiseAbs().maxCoeff() >
          (q.dequantize().topRows(4) - x.topRows(4)).cwiseAbs().maxCoeff());
  }

  SECTION("NaN and infinities throw std::domain_error naming the position in the whole matrix") {
    MatrixXf x = MatrixXf::Ones(6, 11);
    x(5, 9) = std::numeric_limits<float>::quiet_NaN();
    std::string m = message_of<std::domain_error>([&] { octet::quantize<S, RB>(x); });
    CHECK(contains(m, "octet::quantize: non-finite value nan"));
    CHECK(contains(m, "row 5, column 9"));
    x(5, 9) = 1.0f;
    x(4, 2) = -std::numeric_limits<float>::infinity();
    m = message_of<std::domain_error>([&] { octet::quantize<S, CB>(x); });
    CHECK(contains(m, "-inf"));
    CHECK(contains(m, "row 4, column 2"));
    x(4, 2) = std::numeric_limits<float>::infinity();
    m = message_of<std::domain_error>([&] { octet::quantize<S, octet::PerColumnBlock<1>>(x); });
    CHECK(contains(m, "non-finite value inf at (row 4, column 2)"));
  }
}

TEST_CASE("quantize: ZeroPoint blocks reject a constant block whose zero point overflows", "[quantize][block]") {
  MatrixXf x = MatrixXf::Ones(2, 6);
  x.rightCols(3).setConstant(1e37f);  // row blocks of 3: the second block of each row is constant and huge
  const std::string m =
      message_of<std::domain_error>([&] { octet::quantize<octet::ZeroPoint, octet::PerRowBlock<3>>(x); });
  CHECK(contains(m, "zero point"));
  // Blocks of 2 rows per column: columns 3-5 are constant too; with one (partial) block per row, none is.
  CHECK(contains(
      message_of<std::domain_error>([&] { octet::quantize<octet::ZeroPoint, octet::PerColumnBlock<2>>(x); }),
      "zero point"));
  const auto q = octet::quantize<octet::ZeroPoint, octet::PerRowBlock<64>>(x);
  CHECK(q.step.cols() == 1);
  CHECK(q.dequantize().allFinite());
}
