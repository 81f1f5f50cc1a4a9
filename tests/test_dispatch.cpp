// Run-time kernel choice: detection, OCTET_ISA capping, and the names active_isa() reports.
#include <cstdlib>
#include <string>

#include "catch.hpp"
#include "helpers.hpp"

TEST_CASE("dispatch: active_isa is a supported path and respects OCTET_ISA", "[dispatch]") {
  const std::string active = octet::active_isa();
  bool found = false;
  for (octet::Isa isa : octet::supported_isas()) found = found || active == octet::isa_name(isa);
  CHECK(found);
  CHECK(octet::supported_isas().front() == octet::Isa::scalar);

  // Under CTest, OCTET_ISA_CAP repeats the cap: the choice must be the best supported path at or below it.
  if (const char* cap = std::getenv("OCTET_ISA_CAP")) {
    const octet::Isa capped = octet::detail::parse_isa(cap);
    CHECK(static_cast<int>(octet::active_isa_id()) <= static_cast<int>(capped));
    CHECK(octet::active_isa_id() == octet::detail::best_isa(capped));
  }
  // OCTET_EXPECT_ISA (set by the scripts, e.g. under each emulated ARM CPU) names the path that must run
  // when nothing caps the choice.
  const char* expect = std::getenv("OCTET_EXPECT_ISA");
  if (expect && !std::getenv("OCTET_ISA")) CHECK(active == expect);
}

TEST_CASE("dispatch: an unknown OCTET_ISA value is a clear error", "[dispatch]") {
  CHECK_THROWS_AS(octet::detail::parse_isa("avx9000"), std::invalid_argument);
  try {
    octet::detail::parse_isa("avx9000");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("scalar") != std::string::npos);
  }
  CHECK(octet::detail::parse_isa("scalar") == octet::Isa::scalar);
}

TEST_CASE("dispatch: packing for a path this CPU lacks is refused", "[dispatch]") {
  for (int i = 0; i < octet::detail::isa_count; ++i) {
    const auto isa = static_cast<octet::Isa>(i);
    const octet::MatrixXi8 b = octet_test::random_i8(8, 8, 1);
    if (octet::detail::cpu_supports(isa)) {
      CHECK(octet::PackedB(b, isa).isa() == isa);
    } else {
      CHECK_THROWS_AS(octet::PackedB(b, isa), std::invalid_argument);
    }
  }
}
