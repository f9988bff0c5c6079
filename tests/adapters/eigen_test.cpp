#include "pgps/adapters/eigen.hpp"

#include <cmath>
#include <numbers>

#include "pgps_catch.hpp"

using pgps::extent3;
using pgps::index3;

TEST_CASE("Eigen tensors become volume views, row- and column-major", "[adapters][eigen]") {
  Eigen::Tensor<float, 3, Eigen::RowMajor> r(3, 4, 5);
  r.setZero();
  r(1, 2, 3) = 4.0f;
  const auto rv = pgps::view_of(r);
  REQUIRE(rv.extent == extent3{3, 4, 5});
  REQUIRE(rv(1, 2, 3) == 4.0f);

  // Column-major: t(x, y, z), x fastest; pgps sees extent (z, y, x) = reversed dimensions.
  Eigen::Tensor<std::int16_t, 3> c(5, 4, 3);
  c.setZero();
  c(4, 1, 2) = 6;  // x = 4, y = 1, z = 2
  const auto cv = pgps::view_of(c);
  REQUIRE(cv.extent == extent3{3, 4, 5});
  REQUIRE(cv.stride == index3{20, 5, 1});
  REQUIRE(cv(2, 1, 4) == 6);
  const Eigen::Tensor<std::int16_t, 3>& cc = c;
  const auto ccv = pgps::view_of(cc);
  static_assert(std::is_same_v<decltype(ccv), const pgps::volume_view<const std::int16_t>>);
  REQUIRE(ccv(2, 1, 4) == 6);

  // Rank 4: row-major (c, z, y, x); column-major (x, y, z, c).
  Eigen::Tensor<double, 4, Eigen::RowMajor> r4(2, 3, 4, 5);
  r4.setZero();
  r4(1, 2, 3, 4) = 1.5;
  const auto r4v = pgps::view_of(r4);
  REQUIRE(r4v.channels == 2);
  REQUIRE(r4v.at(index3{2, 3, 4}, 1) == 1.5);
  Eigen::Tensor<double, 4> c4(5, 4, 3, 2);
  c4.setZero();
  c4(4, 3, 2, 1) = 2.5;
  const auto c4v = pgps::view_of(c4);
  REQUIRE(c4v.extent == extent3{3, 4, 5});
  REQUIRE(c4v.channels == 2);
  REQUIRE(c4v.at(index3{2, 3, 4}, 1) == 2.5);

  // Maps over user memory, mutable and const.
  std::vector<float> memory(60, 0.0f);
  memory[59] = 8.0f;
  Eigen::TensorMap<Eigen::Tensor<float, 3, Eigen::RowMajor>> map(memory.data(), 3, 4, 5);
  const auto mv = pgps::view_of(map);
  static_assert(std::is_same_v<decltype(mv), const pgps::volume_view<float>>);
  REQUIRE(mv(2, 3, 4) == 8.0f);
  Eigen::TensorMap<const Eigen::Tensor<float, 3>> const_map(memory.data(), 5, 4, 3);
  const auto cmv = pgps::view_of(const_map);
  static_assert(std::is_same_v<decltype(cmv), const pgps::volume_view<const float>>);
  REQUIRE(cmv(2, 3, 4) == 8.0f);
}

namespace {
// Independent closed forms of a row vector (p0, p1, p2) times the single-axis rotations.
double rad(double degrees) { return degrees / 180.0 * std::numbers::pi; }
}  // namespace

TEST_CASE("nnU-Net's initial patch size for the rotation and scale ranges",
          "[adapters][eigen][augmentation]") {
  // 128³, ±30° everywhere, scale (0.85, 1.25): every axis reaches 128·(cos 30° + sin 30°) = 174.85;
  // / 0.85 = 205.7 -> 205 (nnU-Net's well-known initial patch for 128³).
  REQUIRE(pgps::nnunet_initial_patch_size(extent3{128, 128, 128}) == extent3{205, 205, 205});

  // Anisotropic patch (40, 192, 160) with ±30°/±15°/±5°, computed by hand for each axis.
  const double p0 = 40, p1 = 192, p2 = 160;
  const double ax = rad(30), ay = rad(15), az = rad(5);
  double f0 = p0, f1 = p1, f2 = p2;
  // About axis 0: (p0, p1 c + p2 s, -p1 s + p2 c).
  f1 = std::max(f1, std::abs(p1 * std::cos(ax) + p2 * std::sin(ax)));
  f2 = std::max(f2, std::abs(-p1 * std::sin(ax) + p2 * std::cos(ax)));
  // About axis 1: (p0 c - p2 s, p1, p0 s + p2 c).
  f0 = std::max(f0, std::abs(p0 * std::cos(ay) - p2 * std::sin(ay)));
  f2 = std::max(f2, std::abs(p0 * std::sin(ay) + p2 * std::cos(ay)));
  // About axis 2: (p0 c + p1 s, -p0 s + p1 c, p2).
  f0 = std::max(f0, std::abs(p0 * std::cos(az) + p1 * std::sin(az)));
  f1 = std::max(f1, std::abs(-p0 * std::sin(az) + p1 * std::cos(az)));
  const extent3 expected{static_cast<std::int64_t>(f0 / 0.7), static_cast<std::int64_t>(f1 / 0.7),
                         static_cast<std::int64_t>(f2 / 0.7)};
  const std::array<pgps::angle_range, 3> rotation{{{-ax, ax}, {-ay * 0.5, ay}, {-az, az * 0.2}}};
  REQUIRE(pgps::nnunet_initial_patch_size(extent3{40, 192, 160}, rotation, {1.4, 0.7}) == expected);
  // Worked by hand: axis 1 = 192·cos30 + 160·sin30 = 246.28 -> /0.7 = 351.8.
  REQUIRE(expected[1] == 351);
  REQUIRE(pgps::augmentation_margin(extent3{40, 192, 160}, rotation, {1.4, 0.7}) ==
          expected - extent3{40, 192, 160});

  // Dummy 2D: ±180° about axis 0 is capped at 90° (swaps axes 1 and 2), axis 0 keeps the patch.
  // (20, 160, 192): max((160, 192), (192, 160)) = (192, 192) / 0.85 = 225.9.
  REQUIRE(pgps::nnunet_initial_patch_size(extent3{20, 160, 192}, true) == extent3{20, 225, 225});
  // No rotation, no scaling: the patch itself.
  REQUIRE(pgps::nnunet_initial_patch_size(extent3{7, 8, 9}, {}, {1.0, 1.0}) == extent3{7, 8, 9});

  PGPS_REQUIRE_ERROR(pgps::nnunet_initial_patch_size(extent3{7, 0, 9}), "non-positive");
  PGPS_REQUIRE_ERROR(pgps::nnunet_initial_patch_size(extent3{7, 8, 9}, {}, {0.0, 1.0}), "scale range (0, 1)");
  PGPS_REQUIRE_ERROR(pgps::nnunet_initial_patch_size(extent3{7, 8, 9}, {{{0, NAN}, {}, {}}}, {1.0, 1.0}),
                     "rotation range of axis 0");
}

TEST_CASE("patch sizes in millimetres become voxels", "[adapters][eigen]") {
  REQUIRE(pgps::patch_from_millimetres({160, 160, 160}, {2.5, 0.8, 0.8}) == extent3{64, 200, 200});
  REQUIRE(pgps::patch_from_millimetres({10, 10, 10}, {3, 3, 3}) == extent3{3, 3, 3});
  REQUIRE(pgps::patch_from_millimetres({10, 10, 10}, {3, 3, 3}, pgps::voxel_rounding::up) ==
          extent3{4, 4, 4});
  REQUIRE(pgps::patch_from_millimetres({9, 9, 9}, {3, 3, 3}, pgps::voxel_rounding::up) == extent3{3, 3, 3});
  REQUIRE(pgps::patch_from_millimetres({1, 1, 1}, {5, 5, 5}) == extent3{1, 1, 1});
  PGPS_REQUIRE_ERROR(pgps::patch_from_millimetres({1, -1, 1}, {1, 1, 1}), "patch size -1 mm on axis 1");
  PGPS_REQUIRE_ERROR(pgps::patch_from_millimetres({1, 1, 1}, {1, 1, 0}), "voxel spacing 0 mm on axis 2");
}
