// Voxel geometry: 3-vectors in (z, y, x) order, slowest to fastest axis, and half-open boxes.
#pragma once

#include <cstdint>
#include <ostream>

#include "pgps/core/config.hpp"

namespace pgps {

inline constexpr int axis_count = 3;

// A 3-vector of voxel counts or coordinates. Axis 0 is z (slowest), axis 2 is x (fastest).
struct vec3 {
  std::int64_t v[axis_count]{0, 0, 0};

  constexpr vec3() = default;
  PGPS_HD constexpr vec3(std::int64_t z, std::int64_t y, std::int64_t x) : v{z, y, x} {}
  PGPS_HD static constexpr vec3 fill(std::int64_t n) { return {n, n, n}; }

  PGPS_HD constexpr std::int64_t& operator[](int axis) { return v[axis]; }
  PGPS_HD constexpr const std::int64_t& operator[](int axis) const { return v[axis]; }

  PGPS_HD friend constexpr bool operator==(const vec3& a, const vec3& b) {
    return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2];
  }
  PGPS_HD friend constexpr vec3 operator+(const vec3& a, const vec3& b) {
    return {a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2]};
  }
  PGPS_HD friend constexpr vec3 operator-(const vec3& a, const vec3& b) {
    return {a.v[0] - b.v[0], a.v[1] - b.v[1], a.v[2] - b.v[2]};
  }
  friend std::ostream& operator<<(std::ostream& out, const vec3& a) {
    return out << '[' << a.v[0] << ", " << a.v[1] << ", " << a.v[2] << ']';
  }
};

using extent3 = vec3;  // voxel counts per axis
using index3 = vec3;   // voxel coordinates, may be negative or past the end for padded boxes

PGPS_HD constexpr std::int64_t voxel_count(const extent3& e) { return e[0] * e[1] * e[2]; }

PGPS_HD constexpr bool all_positive(const extent3& e) { return e[0] > 0 && e[1] > 0 && e[2] > 0; }

PGPS_HD constexpr vec3 elementwise_min(const vec3& a, const vec3& b) {
  return {a[0] < b[0] ? a[0] : b[0], a[1] < b[1] ? a[1] : b[1], a[2] < b[2] ? a[2] : b[2]};
}

PGPS_HD constexpr vec3 elementwise_max(const vec3& a, const vec3& b) {
  return {a[0] > b[0] ? a[0] : b[0], a[1] > b[1] ? a[1] : b[1], a[2] > b[2] ? a[2] : b[2]};
}

// Row-major (C order) linear offset of p inside an extent; no bounds check.
PGPS_HD constexpr std::int64_t linear_offset(const index3& p, const extent3& e) {
  return (p[0] * e[1] + p[1]) * e[2] + p[2];
}

// Inverse of linear_offset.
PGPS_HD constexpr index3 unravel(std::int64_t offset, const extent3& e) {
  const std::int64_t x = offset % e[2];
  const std::int64_t rest = offset / e[2];
  return {rest / e[1], rest % e[1], x};
}

// Half-open voxel box [lower, lower + extent). It may reach outside a volume; the cropper pads.
struct box {
  index3 lower;
  extent3 extent;

  PGPS_HD constexpr index3 upper() const { return lower + extent; }
  PGPS_HD constexpr bool contains(const index3& p) const {
    for (int a = 0; a < axis_count; ++a) {
      if (p[a] < lower[a] || p[a] >= lower[a] + extent[a]) return false;
    }
    return true;
  }
  // True when every voxel of the box lies inside a volume of the given extent.
  PGPS_HD constexpr bool inside(const extent3& volume) const {
    for (int a = 0; a < axis_count; ++a) {
      if (lower[a] < 0 || lower[a] + extent[a] > volume[a]) return false;
    }
    return true;
  }
  PGPS_HD friend constexpr bool operator==(const box& a, const box& b) {
    return a.lower == b.lower && a.extent == b.extent;
  }
  friend std::ostream& operator<<(std::ostream& out, const box& b) {
    return out << "box{lower " << b.lower << ", extent " << b.extent << '}';
  }
};

}  // namespace pgps
