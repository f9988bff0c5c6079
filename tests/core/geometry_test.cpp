#include "pgps/core/geometry.hpp"

#include <sstream>

#include "pgps_catch.hpp"

using pgps::box;
using pgps::extent3;
using pgps::index3;

TEST_CASE("linear offset and unravel are inverse", "[geometry]") {
  const extent3 e{3, 4, 5};
  for (std::int64_t i = 0; i < pgps::voxel_count(e); ++i) {
    REQUIRE(pgps::linear_offset(pgps::unravel(i, e), e) == i);
  }
  REQUIRE(pgps::linear_offset(index3{1, 2, 3}, e) == (1 * 4 + 2) * 5 + 3);
}

TEST_CASE("boxes are half-open and may overhang", "[geometry]") {
  const box b{index3{-2, 0, 3}, extent3{4, 2, 2}};
  REQUIRE(b.upper() == index3{2, 2, 5});
  REQUIRE(b.contains(index3{-2, 0, 3}));
  REQUIRE_FALSE(b.contains(index3{2, 0, 3}));
  REQUIRE_FALSE(b.inside(extent3{10, 10, 10}));
  REQUIRE(box{index3{0, 0, 0}, extent3{10, 10, 10}}.inside(extent3{10, 10, 10}));
  REQUIRE_FALSE(box{index3{0, 0, 1}, extent3{10, 10, 10}}.inside(extent3{10, 10, 10}));
  std::ostringstream text;
  text << b;
  REQUIRE(text.str() == "box{lower [-2, 0, 3], extent [4, 2, 2]}");
}

TEST_CASE("elementwise helpers", "[geometry]") {
  REQUIRE(pgps::elementwise_min(index3{1, 5, 3}, index3{2, 4, 3}) == index3{1, 4, 3});
  REQUIRE(pgps::elementwise_max(index3{1, 5, 3}, index3{2, 4, 3}) == index3{2, 5, 3});
  REQUIRE(pgps::all_positive(extent3{1, 1, 1}));
  REQUIRE_FALSE(pgps::all_positive(extent3{1, 0, 1}));
  REQUIRE(pgps::voxel_count(extent3{2, 3, 4}) == 24);
}
