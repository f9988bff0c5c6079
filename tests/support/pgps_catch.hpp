// The one header tests include for Catch2: Debian ships v2 (single header), vcpkg and Conan ship
// v3 (split headers). Tests use only what both provide, plus the helpers below.
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define PGPS_CATCH_VERSION 3
#else
#include <catch2/catch.hpp>
#define PGPS_CATCH_VERSION 2
#endif

#include <string>

#include "pgps/core/error.hpp"

namespace pgps_test {
// Matches an exception message that contains the given text (v2: Contains, v3: ContainsSubstring).
inline auto message_contains(const std::string& text) {
#if PGPS_CATCH_VERSION == 3
  return Catch::Matchers::ContainsSubstring(text);
#else
  return Catch::Matchers::Contains(text);
#endif
}
}  // namespace pgps_test

// Requires that expr throws pgps::error whose message contains text, and that a wrapped inner
// error kept only one "pgps: " prefix (context is added with error::reason()).
#define PGPS_REQUIRE_ERROR(expr, text)                          \
  REQUIRE_THROWS_AS(expr, pgps::error);                         \
  REQUIRE_THROWS_WITH(expr, pgps_test::message_contains(text)); \
  REQUIRE_THROWS_WITH(expr, !pgps_test::message_contains(": pgps: "))
