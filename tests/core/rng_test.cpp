#include "pgps/core/rng.hpp"

#include <array>
#include <cmath>
#include <set>

#include "pgps_catch.hpp"

TEST_CASE("philox4x32-10 matches the Random123 known answers", "[rng]") {
  const auto zero = pgps::philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  REQUIRE(zero.v[0] == 0x6627e8d5u);
  REQUIRE(zero.v[1] == 0xe169c58du);
  REQUIRE(zero.v[2] == 0xbc57ac4cu);
  REQUIRE(zero.v[3] == 0x9b00dbd8u);
  const auto ones =
      pgps::philox4x32_10({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  REQUIRE(ones.v[0] == 0x408f276du);
  REQUIRE(ones.v[1] == 0x41c83b0eu);
  REQUIRE(ones.v[2] == 0xa20bc7c6u);
  REQUIRE(ones.v[3] == 0x6d5451fdu);
}

TEST_CASE("streams are pure functions of their counter", "[rng]") {
  const pgps::counter c{42, 3, 17, 0, 5};
  pgps::random_stream a(c), b(c);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next_u32() == b.next_u32());

  std::set<std::uint32_t> firsts;
  for (std::uint32_t slot = 0; slot < 64; ++slot) {
    firsts.insert(pgps::random_stream(pgps::counter{42, 3, 17, 0, slot}).next_u32());
  }
  REQUIRE(firsts.size() == 64);
  REQUIRE(pgps::random_stream(c, pgps::stream_purpose::schedule).next_u32() !=
          pgps::random_stream(c).next_u32());
  REQUIRE(pgps::random_stream(pgps::counter{43, 3, 17, 0, 5}).next_u32() !=
          pgps::random_stream(c).next_u32());
  REQUIRE(pgps::random_stream(pgps::counter{42, 3, 17, 1, 5}).next_u32() !=
          pgps::random_stream(c).next_u32());
}

TEST_CASE("uniform draws are in range and roughly uniform", "[rng]") {
  pgps::random_stream s(pgps::counter{7, 0, 0, 0, 0});
  std::array<int, 6> histogram{};
  const int draws = 60000;
  double sum = 0;
  for (int i = 0; i < draws; ++i) {
    const auto k = s.uniform_int(-2, 3);
    REQUIRE(k >= -2);
    REQUIRE(k <= 3);
    ++histogram[static_cast<std::size_t>(k + 2)];
    const double u = s.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  // Chi-square with 5 degrees of freedom: 20.5 is the 0.999 quantile.
  double chi2 = 0;
  for (int count : histogram) chi2 += std::pow(count - draws / 6.0, 2) / (draws / 6.0);
  REQUIRE(chi2 < 20.5);
  REQUIRE(std::abs(sum / draws - 0.5) < 0.01);
  REQUIRE(s.uniform_int(5, 5) == 5);
}
