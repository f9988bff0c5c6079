// Synthetic label volumes for the sampling tests: blobs (realistic runs) and noise (worst case).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "pgps/core/geometry.hpp"

namespace pgps_test {

// Spheres of classes 1..classes-1 on background 0, at random places and radii.
template <class L>
std::vector<L> blob_labels(const pgps::extent3& e, int classes, std::uint32_t seed, int blobs_per_class = 2) {
  std::vector<L> labels(static_cast<std::size_t>(pgps::voxel_count(e)), L{0});
  std::mt19937 rng(seed);
  for (int c = 1; c < classes; ++c) {
    for (int b = 0; b < blobs_per_class; ++b) {
      const double cz = std::uniform_real_distribution<double>(0, static_cast<double>(e[0]))(rng);
      const double cy = std::uniform_real_distribution<double>(0, static_cast<double>(e[1]))(rng);
      const double cx = std::uniform_real_distribution<double>(0, static_cast<double>(e[2]))(rng);
      const double r =
          std::uniform_real_distribution<double>(1.0, 2.0 + static_cast<double>(e[2]) / 6.0)(rng);
      for (std::int64_t z = 0; z < e[0]; ++z)
        for (std::int64_t y = 0; y < e[1]; ++y)
          for (std::int64_t x = 0; x < e[2]; ++x) {
            const double dz = static_cast<double>(z) - cz, dy = static_cast<double>(y) - cy,
                         dx = static_cast<double>(x) - cx;
            if (dz * dz + dy * dy + dx * dx <= r * r)
              labels[static_cast<std::size_t>(pgps::linear_offset({z, y, x}, e))] = static_cast<L>(c);
          }
    }
  }
  return labels;
}

template <class L>
std::vector<L> noise_labels(const pgps::extent3& e, int classes, std::uint32_t seed) {
  std::vector<L> labels(static_cast<std::size_t>(pgps::voxel_count(e)));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, classes - 1);
  for (auto& v : labels) v = static_cast<L>(pick(rng));
  return labels;
}

}  // namespace pgps_test
