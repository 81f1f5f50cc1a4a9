// Includes Catch2 whichever major version find_package found (2.x single header, or 3.x).
#pragma once
#if __has_include(<catch2/catch_all.hpp>)
#  include <catch2/catch_all.hpp>
#else
#  include <catch2/catch.hpp>
namespace Catch {
using Detail::Approx;  // Catch2 v3 spells it Catch::Approx: the tests use that name with both versions
}
#endif
