// The per-axis padding math against a literal re-implementation of numpy.pad's algorithm.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "pgps/crop/padding.hpp"
#include "pgps_catch.hpp"

namespace {

using pgps::pad_mode;

// numpy.pad on the index array [0, n) for one axis, following numpy's own procedure (numpy >= 1.25,
// lib/_arraypad_impl.py): 'edge' copies the edge values, 'reflect' fills chunk after chunk, each
// chunk mirroring the area filled so far, chunk lengths a multiple of n - 1; an axis of extent 1
// is edge-padded. Returns the source index of every padded position; -1 for 'constant' padding.
std::vector<std::int64_t> numpy_pad_indices(std::int64_t n, std::int64_t left, std::int64_t right,
                                            pad_mode mode) {
  const std::int64_t total = left + n + right;
  std::vector<std::int64_t> padded(static_cast<std::size_t>(total), -1);
  auto at = [&](std::int64_t i) -> std::int64_t& { return padded[static_cast<std::size_t>(i)]; };
  for (std::int64_t i = 0; i < n; ++i) at(left + i) = i;
  if (mode == pad_mode::constant) return padded;
  if (mode == pad_mode::edge || n == 1) {
    for (std::int64_t i = 0; i < left; ++i) at(i) = 0;
    for (std::int64_t i = left + n; i < total; ++i) at(i) = n - 1;
    return padded;
  }
  std::int64_t left_pad = left, right_pad = right;
  while (left_pad > 0 || right_pad > 0) {
    std::int64_t old_length = total - right_pad - left_pad;
    old_length = (old_length - 1) / (n - 1) * (n - 1) + 1;
    old_length -= 1;
    if (left_pad > 0) {
      const std::int64_t chunk = std::min(old_length, left_pad);
      // padded[left_pad - chunk : left_pad] = padded[left_pad + chunk : left_pad : -1]
      for (std::int64_t k = 0; k < chunk; ++k) at(left_pad - chunk + k) = at(left_pad + chunk - k);
      left_pad -= chunk;
    }
    if (right_pad > 0) {
      const std::int64_t chunk = std::min(old_length, right_pad);
      const std::int64_t first_source = total - right_pad - 2;  // numpy: start = -right_pad - 2
      const std::int64_t first_target = total - right_pad;
      for (std::int64_t k = 0; k < chunk; ++k) at(first_target + k) = at(first_source - k);
      right_pad -= chunk;
    }
  }
  return padded;
}

static_assert(pgps::source_coordinate(pad_mode::reflect, -1, 4) == 1);
static_assert(pgps::source_coordinate(pad_mode::reflect, 4, 4) == 2);
static_assert(pgps::source_coordinate(pad_mode::edge, -9, 4) == 0);
static_assert(pgps::source_coordinate(pad_mode::constant, 4, 4) == pgps::padded_coordinate);
static_assert(pgps::inside_interval(-3, 10, 5).begin == 3 && pgps::inside_interval(-3, 10, 5).end == 8);

}  // namespace

TEST_CASE("reflect matches numpy.pad for a known long reflection") {
  // np.pad(np.arange(3), (7, 8), 'reflect')
  const std::vector<std::int64_t> expected{1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2};
  const auto reference = numpy_pad_indices(3, 7, 8, pad_mode::reflect);
  REQUIRE(reference == expected);
  for (std::int64_t i = -7; i < 3 + 8; ++i) {
    CHECK(pgps::source_coordinate(pad_mode::reflect, i, 3) == expected[static_cast<std::size_t>(i + 7)]);
  }
  // np.pad([a b c d], (2, 2), 'reflect') == [c b a b c d c b]
  const std::vector<std::int64_t> short_expected{2, 1, 0, 1, 2, 3, 2, 1};
  REQUIRE(numpy_pad_indices(4, 2, 2, pad_mode::reflect) == short_expected);
}

TEST_CASE("source_coordinate equals numpy.pad for every mode, extent and pad width") {
  for (const pad_mode mode : {pad_mode::constant, pad_mode::edge, pad_mode::reflect}) {
    for (std::int64_t n = 1; n <= 9; ++n) {
      for (std::int64_t left = 0; left <= 25; left += 1) {
        for (std::int64_t right = 0; right <= 25; right += 3) {
          const auto reference = numpy_pad_indices(n, left, right, mode);
          for (std::int64_t t = 0; t < left + n + right; ++t) {
            INFO("mode " << pgps::name_of(mode) << " n " << n << " left " << left << " right " << right
                         << " t " << t);
            REQUIRE(pgps::source_coordinate(mode, t - left, n) == reference[static_cast<std::size_t>(t)]);
          }
        }
      }
    }
  }
}

TEST_CASE("reflect_walker steps through the same coordinates as source_coordinate") {
  for (std::int64_t n = 1; n <= 8; ++n) {
    for (std::int64_t start = -40; start <= 40; ++start) {
      pgps::reflect_walker walk(start, n);
      for (std::int64_t i = start; i < start + 60; ++i, walk.advance()) {
        INFO("n " << n << " start " << start << " i " << i);
        REQUIRE(walk.position == pgps::source_coordinate(pad_mode::reflect, i, n));
      }
    }
  }
}

TEST_CASE("inside_interval is the set of positions that land inside the volume") {
  for (std::int64_t n = 1; n <= 6; ++n) {
    for (std::int64_t lower = -12; lower <= 12; ++lower) {
      for (std::int64_t extent = 1; extent <= 14; ++extent) {
        const pgps::axis_interval inside = pgps::inside_interval(lower, extent, n);
        REQUIRE(inside.begin >= 0);
        REQUIRE(inside.end <= extent);
        REQUIRE(inside.begin <= inside.end);
        for (std::int64_t t = 0; t < extent; ++t) {
          const bool in_volume = lower + t >= 0 && lower + t < n;
          REQUIRE(in_volume == (t >= inside.begin && t < inside.end));
        }
      }
    }
  }
}

TEST_CASE("pad mode names and validity") {
  CHECK(pgps::is_known(pad_mode::reflect));
  CHECK_FALSE(pgps::is_known(static_cast<pad_mode>(7)));
  CHECK(std::string(pgps::name_of(pad_mode::edge)) == "edge");
  CHECK(std::string(pgps::name_of(static_cast<pad_mode>(7))) == "unknown");
}
