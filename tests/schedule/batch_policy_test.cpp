// Batch sizes per stage, derived by hand: constant voxels is floor(b0 * V_target / V_stage);
// backward planning chains floor(raw_{i+1} * V_{i+1} / V_i) from the last stage, then >= b0.
#include <cmath>
#include <vector>

#include "pgps/schedule/batch_policy.hpp"
#include "pgps/schedule/patch_schedule.hpp"
#include "pgps_catch.hpp"

using pgps::extent3;
using batches_t = std::vector<std::int64_t>;

namespace {
std::vector<extent3> patches_of(const pgps::patch_stage_list& list) {
  std::vector<extent3> out;
  for (const auto& stage : list.candidates) out.push_back(stage[0]);
  return out;
}
}  // namespace

TEST_CASE("constant voxels on 128^3 pool 5,5,5 gives the paper's performance-mode batches") {
  const auto patches =
      patches_of(pgps::progressive_growth::from_pooling({128, 128, 128}, {5, 5, 5}).stages());
  CHECK(pgps::constant_voxels(2).batches(patches, {128, 128, 128}) ==
        batches_t{128, 64, 32, 16, 10, 7, 4, 3, 2, 2});
  CHECK(pgps::constant_batch(2).batches(patches, {128, 128, 128}) == batches_t(10, 2));
}

TEST_CASE("constant voxels on anisotropic plans") {
  // 80x192x160, 2 * V = 4 915 200: / 16384 = 300, / 32768 = 150, / 49152 = 100, / 65536 = 75,
  // / 131072 = 37.5, / 262144 = 18.75, / 327680 = 15, / 491520 = 10, / 737280 = 6.67,
  // / 983040 = 5, / 1310720 = 3.75, / 1638400 = 3, / 2048000 = 2.4, / 2457600 = 2.
  const auto a = patches_of(pgps::progressive_growth::from_pooling({80, 192, 160}, {4, 5, 5}).stages());
  CHECK(pgps::constant_voxels(2).batches(a, {80, 192, 160}) ==
        batches_t{300, 150, 100, 75, 37, 18, 15, 10, 6, 5, 3, 3, 2, 2});
  // 28x256x224, 2 * V = 3 211 264 over 16384 * (1..7), then 229376, 458752, 688128, 1032192,
  // 1376256, 1605632.
  const auto b = patches_of(pgps::progressive_growth::from_pooling({28, 256, 224}, {2, 6, 6}).stages());
  CHECK(pgps::constant_voxels(2).batches(b, {28, 256, 224}) ==
        batches_t{196, 98, 65, 49, 39, 32, 28, 14, 7, 4, 3, 2, 2});
  // The reference's overshooting last patch 28x256x256 holds 1.75 target-batches' worth: 1.
  const auto c = patches_of(
      pgps::progressive_growth::from_pooling({28, 256, 224}, {2, 6, 6}, pgps::overshoot::reference).stages());
  CHECK(pgps::constant_voxels(2).batches(c, {28, 256, 224}).back() == 1);
  // b0 = 5 on 128^3: floor(5 * 64) = 320, ..., 5 * 64/12 = 26.67, 5 * 64/18 = 17.8, 5 * 64/27 =
  // 11.85, 5 * 64/36 = 8.9, 5 * 64/48 = 6.67, 5.
  const auto d = patches_of(pgps::progressive_growth::from_pooling({128, 128, 128}, {5, 5, 5}).stages());
  CHECK(pgps::constant_voxels(5).batches(d, {128, 128, 128}) ==
        batches_t{320, 160, 80, 40, 26, 17, 11, 8, 6, 5});
}

TEST_CASE("backward planning of the first published variant") {
  // 128^3 round robin: from 2 at 128^3, ratios 4/3, 4/3, 4/3 keep 2; then x1.5 -> 3, 4 (4.5),
  // 6, 12, 24.
  const auto patches =
      patches_of(pgps::round_robin_growth::from_pooling({128, 128, 128}, {5, 5, 5}).stages());
  CHECK(pgps::backward_planning(2).batches(patches, {128, 128, 128}) ==
        batches_t{24, 12, 6, 4, 3, 2, 2, 2, 2});
  // b0 = 3 chains from 3: x4/3 -> 4, x4/3 -> 5 (5.33), x4/3 -> 6 (6.67), x1.5 -> 9, x1.5 -> 13
  // (13.5), x1.5 -> 19 (19.5), x2 -> 38, x2 -> 76.
  CHECK(pgps::backward_planning(3).batches(patches, {128, 128, 128}) ==
        batches_t{76, 38, 19, 13, 9, 6, 5, 4, 3});
  // The chain uses the unclamped value: 2 then x0.5 (a shrinking patch) gives raw 1 -> clamped to
  // 2, and the next stage doubles the raw 1, not the clamped 2.
  const std::vector<extent3> shrink{{8, 8, 8}, {16, 8, 8}, {8, 8, 8}};
  CHECK(pgps::backward_planning(2).batches(shrink, {8, 8, 8}) == batches_t{2, 2, 2});
}

TEST_CASE("memory budget with a cap") {
  // 1 GB, 100 bytes per voxel, 64^3 = 262144 voxels: 26.2 MB per sample -> 38 fit; cap 16.
  const pgps::memory_budget budget(1e9, 100, 16);
  CHECK(budget.batch_for({64, 64, 64}) == 16);
  CHECK(budget.batch_for({128, 128, 128}) == 4);  // 209.7 MB per sample: 4.77
  const pgps::memory_budget with_fixed(1e9, 100, 64, 5e8);
  CHECK(with_fixed.batch_for({64, 64, 64}) == 19);  // 5e8 / 26214400 = 19.07
  PGPS_REQUIRE_ERROR(budget.batch_for({512, 512, 512}), "more than the memory budget");
  PGPS_REQUIRE_ERROR(pgps::memory_budget(0, 100, 4), "memory budget 0");
  PGPS_REQUIRE_ERROR(pgps::memory_budget(1e9, -1, 4), "bytes per voxel -1");
  PGPS_REQUIRE_ERROR(pgps::memory_budget(1e9, 1, 0), "batch cap 0");
  PGPS_REQUIRE_ERROR(pgps::memory_budget(1e9, 1, 4, 2e9), "fixed memory");
}

TEST_CASE("learning-rate factor") {
  CHECK(pgps::lr_factor(pgps::lr_scaling::none, 128, 2) == 1.0);
  CHECK(pgps::lr_factor(pgps::lr_scaling::linear, 128, 2) == 64.0);
  CHECK(pgps::lr_factor(pgps::lr_scaling::sqrt, 128, 2) == Approx(8.0));
}

TEST_CASE("batch policies reject non-positive batches") {
  PGPS_REQUIRE_ERROR(pgps::constant_batch(0), "batch size 0 must be >= 1");
  PGPS_REQUIRE_ERROR(pgps::constant_voxels(-2), "batch size -2");
  PGPS_REQUIRE_ERROR(pgps::backward_planning(0), "batch size 0");
}
