#include "pgps/core/volume.hpp"

#include <vector>

#include "pgps_catch.hpp"

using pgps::extent3;
using pgps::index3;

TEST_CASE("contiguous views address C-order memory", "[volume]") {
  std::vector<float> memory(2 * 3 * 4 * 5);
  for (std::size_t i = 0; i < memory.size(); ++i) memory[i] = static_cast<float>(i);
  const auto v = pgps::contiguous_view(memory.data(), extent3{3, 4, 5}, 2);
  REQUIRE(v.stride == index3{20, 5, 1});
  REQUIRE(v.channel_stride == 60);
  REQUIRE(v.at(index3{1, 2, 3}, 1) == 60 + 20 + 10 + 3);
  REQUIRE(v(2, 3, 4) == 59);
  pgps::volume_view<const float> read_only = v;
  REQUIRE(read_only.data == memory.data());
  REQUIRE(pgps::view_of(v).data == memory.data());
}

TEST_CASE("strided views are validated", "[volume][errors]") {
  std::vector<int> memory(1000);
  // Transposed (x slowest) is legal.
  REQUIRE_NOTHROW(pgps::make_volume_view(memory.data(), extent3{10, 10, 10}, index3{1, 10, 100}));
  PGPS_REQUIRE_ERROR(pgps::make_volume_view(memory.data(), extent3{10, 10, 10}, index3{10, 10, 1}),
                     "overlap");
  PGPS_REQUIRE_ERROR(pgps::make_volume_view(memory.data(), extent3{10, 0, 10}, index3{100, 10, 1}),
                     "extent [10, 0, 10] has a non-positive axis");
  PGPS_REQUIRE_ERROR(pgps::make_volume_view<int>(nullptr, extent3{1, 1, 1}, index3{1, 1, 1}), "null");
  PGPS_REQUIRE_ERROR(pgps::make_volume_view(memory.data(), extent3{10, 10, 10}, index3{100, -10, 1}),
                     "non-positive entry on axis 1");
  PGPS_REQUIRE_ERROR(pgps::make_volume_view(memory.data(), extent3{5, 5, 5}, index3{25, 5, 1}, 2, 100),
                     "overlap");
  REQUIRE_NOTHROW(pgps::make_volume_view(memory.data(), extent3{5, 5, 5}, index3{25, 5, 1}, 2, 125));
  PGPS_REQUIRE_ERROR(pgps::make_volume_view(memory.data(), extent3{5, 5, 5}, index3{25, 5, 1}, 0, 125),
                     "channel count 0");
}
