// Per-axis index math of padded crops, shared by the CPU cropper and a CUDA kernel (PGPS_HD,
// no std:: containers). A crop box may reach outside its volume; every output coordinate then
// maps to a source coordinate, or to "pad value", according to the pad mode of numpy.pad.
#pragma once

#include <cstdint>

#include "pgps/core/config.hpp"
#include "pgps/core/geometry.hpp"

namespace pgps {

// How voxels outside the volume are filled. The names and semantics are numpy.pad's:
//   constant  a fixed value (nnU-Net: 0 for images, -1 for labels),
//   edge      the nearest voxel of the volume (replicate),
//   reflect   mirror about the edge voxel without repeating it: for [a b c d], ... c b [a b c d] c b a ...
//             Reflections longer than the volume repeat the mirror (period 2·(n−1)), exactly as
//             numpy >= 1.25 does; a volume of extent 1 repeats its one voxel, as numpy does.
enum class pad_mode : std::uint8_t { constant = 0, edge = 1, reflect = 2 };

PGPS_HD constexpr bool is_known(pad_mode mode) {
  return mode == pad_mode::constant || mode == pad_mode::edge || mode == pad_mode::reflect;
}

inline constexpr const char* name_of(pad_mode mode) {
  switch (mode) {
    case pad_mode::constant:
      return "constant";
    case pad_mode::edge:
      return "edge";
    case pad_mode::reflect:
      return "reflect";
  }
  return "unknown";
}

// Returned by source_coordinate for a coordinate that takes the constant pad value.
inline constexpr std::int64_t padded_coordinate = -1;

// The source coordinate in [0, n) that volume coordinate i (any integer) reads under `mode`,
// or padded_coordinate when mode is constant and i lies outside [0, n). n >= 1.
PGPS_HD constexpr std::int64_t source_coordinate(pad_mode mode, std::int64_t i, std::int64_t n) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case pad_mode::constant:
      return padded_coordinate;
    case pad_mode::edge:
      return i < 0 ? 0 : n - 1;
    case pad_mode::reflect: {
      if (n == 1) return 0;
      const std::int64_t period = 2 * (n - 1);
      std::int64_t m = i % period;
      if (m < 0) m += period;
      return m < n ? m : period - m;
    }
  }
  return padded_coordinate;
}

// A half-open interval [begin, end) of positions along one axis of a crop.
struct axis_interval {
  std::int64_t begin = 0;
  std::int64_t end = 0;

  PGPS_HD constexpr std::int64_t size() const { return end > begin ? end - begin : 0; }
  PGPS_HD constexpr bool empty() const { return end <= begin; }
};

// The positions t in [0, extent) of a crop starting at `lower` whose volume coordinate lower + t
// lies inside [0, n): the part of a row that is copied; the rest is padding. Empty (begin == end)
// when the crop misses the volume on this axis.
PGPS_HD constexpr axis_interval inside_interval(std::int64_t lower, std::int64_t extent, std::int64_t n) {
  std::int64_t begin = -lower;
  if (begin < 0) begin = 0;
  if (begin > extent) begin = extent;
  std::int64_t end = n - lower;
  if (end > extent) end = extent;
  if (end < begin) end = begin;
  return {begin, end};
}

// Walks the reflect-mode source coordinates of consecutive volume coordinates i, i+1, ...
// without a division per step, for the padded prefix and suffix of a row. n >= 1.
struct reflect_walker {
  std::int64_t position = 0;  // source coordinate of the current volume coordinate, in [0, n)
  std::int64_t step = 0;      // +1 or -1; 0 for a volume of extent 1
  std::int64_t last = 0;      // n - 1

  PGPS_HD constexpr reflect_walker(std::int64_t i, std::int64_t n)
      : position(source_coordinate(pad_mode::reflect, i, n)), last(n - 1) {
    if (n == 1) return;
    // Coordinates rise through the first half of each period and fall through the second.
    const std::int64_t period = 2 * last;
    std::int64_t m = i % period;
    if (m < 0) m += period;
    step = m < last ? 1 : -1;
  }

  PGPS_HD constexpr void advance() {
    if (step == 0) return;
    position += step;
    if (position == last)
      step = -1;
    else if (position == 0)
      step = 1;
  }
};

// The source voxel that volume position p reads under `mode`, written to `source`; false when p
// takes the constant pad value. The per-voxel form of the row math above, for the device cropper.
PGPS_HD constexpr bool source_voxel(pad_mode mode, const index3& p, const extent3& extent, index3& source) {
  for (int a = 0; a < axis_count; ++a) {
    const std::int64_t c = source_coordinate(mode, p[a], extent[a]);
    if (c == padded_coordinate) return false;
    source[a] = c;
  }
  return true;
}

}  // namespace pgps
