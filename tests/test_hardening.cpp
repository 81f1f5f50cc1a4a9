// Defects found by an outside audit, each with the test that failed before its fix: moved-from and copied
// objects, a non-finite bias, an invalid OCTET_ISA, scratch memory that could not be freed, and threads
// started anew for every parallel region.
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <octet/octet.hpp>

#include "catch.hpp"
#include "helpers.hpp"

using octet::MatrixXi8;
using octet::MatrixXi32;
using octet_test::random_i8;
using octet_test::reference_product;

TEST_CASE("hardening: a moved-from PackedB is empty, and copies are deep", "[hardening]") {
  const MatrixXi8 a = random_i8(7, 50, 1), b = random_i8(50, 9, 2);
  const MatrixXi32 expect = reference_product(a, b);
  octet::PackedB pb(b);
  octet::PackedB copy(pb);
  octet::PackedB moved(std::move(pb));
  CHECK(pb.rows() == 0);
  CHECK(pb.cols() == 0);
  CHECK(pb.bytes() == 0);
  CHECK_THROWS_AS(octet::gemm_i8(a, pb), std::invalid_argument);  // 7 x 50 times 0 x 0: a shape mismatch
  CHECK(octet::gemm_i8(MatrixXi8(3, 0), pb).rows() == 3);         // 3 x 0 times 0 x 0 behaves as 0 x 0
  CHECK(octet::gemm_i8(a, moved) == expect);
  octet::PackedB assigned;
  assigned = std::move(moved);
  CHECK(moved.rows() == 0);
  CHECK_THROWS_AS(octet::gemm_i8(a, moved), std::invalid_argument);
  CHECK(octet::gemm_i8(a, assigned) == expect);
  {
    octet::PackedB scoped(b);
    copy = scoped;  // deep: the copy outlives the original
  }
  CHECK(octet::gemm_i8(a, copy) == expect);
}

TEST_CASE("hardening: a moved-from LLMInt8Linear is empty, and copies are deep", "[hardening]") {
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(40, 24), x = Eigen::MatrixXf::Random(5, 40);
  octet::LLMInt8Linear layer(w);
  const Eigen::MatrixXf y = layer(x);
  octet::LLMInt8Linear copy;
  {
    octet::LLMInt8Linear scoped(w);
    copy = scoped;
  }
  CHECK(copy(x) == y);
  octet::LLMInt8Linear moved(std::move(layer));
  CHECK(layer.in_features() == 0);
  CHECK(layer.out_features() == 0);
  CHECK_THROWS_AS(layer(x), std::invalid_argument);
  CHECK(layer(Eigen::MatrixXf(2, 0)).size() == 0);
  CHECK(moved(x) == y);
  octet::LLMInt8Linear assigned;
  assigned = std::move(moved);
  CHECK(moved.in_features() == 0);
  CHECK_THROWS_AS(moved(x), std::invalid_argument);
  CHECK(assigned(x) == y);
}

TEST_CASE("hardening: self-move-assignment keeps the layer and the packed weights", "[hardening]") {
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(40, 24), x = Eigen::MatrixXf::Random(5, 40);
  octet::LLMInt8Linear layer(w);
  const Eigen::MatrixXf y = layer(x);
  octet::LLMInt8Linear& same = layer;  // through a reference, as generic code (a swap, a vector erase) does it
  layer = std::move(same);
  CHECK(layer.in_features() == 40);
  CHECK(layer.out_features() == 24);
  CHECK(layer(x) == y);
  octet::PackedB pb(random_i8(40, 24, 3));
  const MatrixXi32 c = octet::gemm_i8(random_i8(5, 40, 4), pb);
  octet::PackedB& same_pb = pb;
  pb = std::move(same_pb);
  CHECK(octet::gemm_i8(random_i8(5, 40, 4), pb) == c);
}

TEST_CASE("hardening: a double beyond float's range is 'out of float range', naming its position", "[hardening]") {
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(12, 5);
  const octet::LLMInt8Linear layer(w);
  Eigen::MatrixXd x = Eigen::MatrixXd::Random(3, 12);
  x(1, 7) = 1e39;
  CHECK_THROWS_WITH(layer(x), Catch::Contains("value 1e+39 at (row 1, column 7) of X is out of float range"));
  CHECK_THROWS_AS(layer(x), std::domain_error);
  CHECK_THROWS_WITH(octet::matmul_llm_int8(x, w.cast<double>()), Catch::Contains("of X is out of float range"));
  CHECK_THROWS_WITH(octet::LLMInt8Linear(x.transpose()), Catch::Contains("(row 7, column 1) of W is out of float range"));
  CHECK_THROWS_WITH((octet::quantize<octet::AbsMax, octet::PerRow>(x)), Catch::Contains("out of float range"));
  x(1, 7) = -std::numeric_limits<double>::max();
  CHECK_THROWS_WITH(layer(x), Catch::Contains("out of float range"));
  // A double infinity is still a non-finite value; a double within float's range is accepted.
  x(1, 7) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(layer(x), Catch::Contains("non-finite value inf"));
  x(1, 7) = 3e38;
  CHECK_NOTHROW(layer(x));
}

TEST_CASE("hardening: a NaN or Inf bias is a std::domain_error naming the entry", "[hardening]") {
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(8, 4);
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    octet::LLMInt8Options o;
    o.bias = Eigen::VectorXf::Zero(4);
    o.bias(2) = bad;
    try {
      octet::LLMInt8Linear layer(w, 6.0f, o);
      FAIL("no exception");
    } catch (const std::domain_error& e) {
      CHECK(std::string(e.what()).find("entry 2 of the bias") != std::string::npos);
    }
  }
}

// Run by CTest with OCTET_ISA=bogus (hidden from a plain run): declaring options reads nothing, an explicit path
// still works, and the invalid value gives the same error every time.
TEST_CASE("hardening: an invalid OCTET_ISA does not stop layers built for an explicit path", "[.bogus_isa]") {
  octet::LLMInt8Options o;  // used to throw here
  o.isa = octet::Isa::scalar;
  const Eigen::MatrixXf w = Eigen::MatrixXf::Random(16, 8), x = Eigen::MatrixXf::Random(3, 16);
  const octet::LLMInt8Linear layer(w, 6.0f, o);
  CHECK(layer(x).rows() == 3);
  std::string first, second;
  try {
    octet::active_isa();
  } catch (const std::invalid_argument& e) {
    first = e.what();
  }
  try {
    octet::active_isa();
  } catch (const std::invalid_argument& e) {
    second = e.what();
  }
  CHECK(first.find("OCTET_ISA='bogus'") != std::string::npos);
  CHECK(first == second);
}

TEST_CASE("hardening: scratch memory is shared by all expression types and release_scratch frees it", "[hardening]") {
  octet_test::ThreadScope one(1);
  const MatrixXi8 big = random_i8(400, 600, 3), b = random_i8(300, 200, 4);
  const octet::PackedB pb(b);
  const MatrixXi8 a = big.block(0, 0, 300, 300);
  const MatrixXi32 c1 = octet::gemm_i8(a, pb);
  const std::size_t after_plain = octet::scratch_bytes();
  CHECK(after_plain > 0);
  const MatrixXi32 c2 = octet::gemm_i8(big.block(0, 0, 300, 300), pb);  // another expression type, same shape
  CHECK(octet::scratch_bytes() == after_plain);
  CHECK(c1 == c2);
  octet::release_scratch();
  CHECK(octet::scratch_bytes() == 0);
  CHECK(octet::gemm_i8(a, pb) == c1);
}

TEST_CASE("hardening: parallel regions reuse their threads", "[hardening]") {
  // A worker that took part in an earlier region has seen it (a thread-local count); a thread started anew for
  // every region never has.
  static thread_local int regions_seen = 0;
  std::mutex m;
  int max_seen = 0;
  const std::thread::id caller = std::this_thread::get_id();
  for (int call = 0; call < 20; ++call) {
    std::set<std::thread::id> counted;
    octet::detail::parallel_for(32, 2, [&](long) {
      {
        std::lock_guard<std::mutex> lock(m);
        if (std::this_thread::get_id() != caller && counted.insert(std::this_thread::get_id()).second)
          max_seen = std::max(max_seen, ++regions_seen);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));  // long enough for the other thread to join
    });
  }
  CHECK(max_seen > 1);
}

TEST_CASE("hardening: dequantization overflows only when the result does", "[hardening]") {
  // X = 1e34 and W = 1e-3 at k = 4096: the exact result is 4.096e34, while C * step_x = 66064384 * 7.9e31
  // overflows; a single x = 3e38 times w = 1e-3 is 3e35.
  const Eigen::MatrixXf x = Eigen::MatrixXf::Constant(3, 4096, 1e34f), w = Eigen::MatrixXf::Constant(4096, 5, 1e-3f);
  const double exact = 4096.0 * 1e34 * 1e-3;
  for (octet::Isa isa : octet::supported_isas()) {
    INFO("isa " << octet::isa_name(isa));
    octet::LLMInt8Options o;
    o.isa = isa;
    const Eigen::MatrixXf y = octet::LLMInt8Linear(w, 1e38f, o)(x);
    CHECK(y.allFinite());
    CHECK(std::abs(y(1, 2) / exact - 1.0) < 1e-3);
    const Eigen::MatrixXf one = octet::LLMInt8Linear(Eigen::MatrixXf::Constant(1, 1, 1e-3f), 3.4e38f, o)(
        Eigen::MatrixXf::Constant(1, 1, 3e38f));
    CHECK(std::abs(one(0, 0) / 3e35 - 1.0) < 1e-3);
  }
  const Eigen::MatrixXf v = octet::matmul_vectorwise(x, w);
  CHECK(v.allFinite());
  CHECK(std::abs(v(0, 0) / exact - 1.0) < 1e-3);
}
