// The curriculum composed from its parts: stage lists, batches, cost, plans, presets, errors.
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "corner_sampler.hpp"
#include "pgps/curriculum.hpp"
#include "pgps_catch.hpp"

using pgps::extent3;

namespace {
using pgps_test::corner_sampler;

// The stage list of the example, written out: patch, batch (performance mode).
struct expected_stage {
  extent3 patch;
  std::int64_t batch;
};
const std::vector<expected_stage> paper_example{
    {{32, 32, 32}, 128}, {{64, 32, 32}, 64}, {{64, 64, 32}, 32}, {{64, 64, 64}, 16},  {{96, 64, 64}, 10},
    {{96, 96, 64}, 7},   {{96, 96, 96}, 4},  {{128, 96, 96}, 3}, {{128, 128, 96}, 2}, {{128, 128, 128}, 2}};
}  // namespace

TEST_CASE("the paper's example in performance and efficiency mode") {
  const auto performance =
      pgps::presets::pgps_performance({128, 128, 128}, {5, 5, 5}, 2, 1000, 250, corner_sampler{}, 7);
  const std::vector<pgps::stage> stages = performance.stages();
  REQUIRE(stages.size() == paper_example.size());
  for (std::size_t i = 0; i < stages.size(); ++i) {
    CHECK(stages[i] == pgps::stage{static_cast<std::int32_t>(i), paper_example[i].patch,
                                   paper_example[i].batch, static_cast<std::int64_t>(i) * 100, 100});
  }
  // Performance: sum of batch * V over stages in units of 32^3 = 1198, baseline 10 * 2 * 64.
  CHECK(performance.voxel_fraction() == Approx(1198.0 / 1280.0));
  CHECK(std::round(performance.voxel_fraction() * 1000) == 936);

  const auto efficiency =
      pgps::presets::pgps_efficiency({128, 128, 128}, {5, 5, 5}, 2, 1000, 250, corner_sampler{}, 7);
  for (const pgps::stage& s : efficiency.stages()) CHECK(s.batch == 2);
  // Efficiency: (1+2+4+8+12+18+27+36+48+64) / (10 * 64) = 220 / 640.
  CHECK(efficiency.voxel_fraction() == Approx(0.34375));
  CHECK(std::round(efficiency.voxel_fraction() * 1000) == 344);
  CHECK(efficiency.target_patch() == extent3{128, 128, 128});
  CHECK(efficiency.baseline_batch() == 2);

  const pgps::cost_summary cost = efficiency.cost();
  CHECK(cost.baseline_voxels == Approx(2097152.0 * 2 * 1000 * 250));
  CHECK(cost.stages[0].voxels_per_iteration == Approx(2.0 * 32768));
  CHECK(cost.stages[0].fraction_of_baseline == Approx(1.0 / 640));
}

TEST_CASE("stage_at, patch_at and plan follow the equal-epochs rule") {
  const auto c = pgps::presets::pgps_performance({80, 192, 160}, {4, 5, 5}, 2, 100, 4, corner_sampler{}, 11);
  // 14 stages over 100 epochs: L = 7, the last stage starts at 91 and lasts 9 epochs.
  CHECK(c.stage_count() == 14);
  CHECK(c.stage_at(0).patch == extent3{16, 32, 32});
  CHECK(c.stage_at(6).index == 0);
  CHECK(c.stage_at(7).index == 1);
  CHECK(c.stage_at(90).index == 12);
  CHECK(c.stage_at(91) == pgps::stage{13, {80, 192, 160}, 2, 91, 9});
  CHECK(c.stage_at(99).index == 13);
  CHECK(c.patch_at(7, 3) == extent3{32, 32, 32});
  CHECK(c.batch_at(7, 3) == 150);

  const pgps::batch_plan whole = c.plan(7, 3);
  CHECK(whole.patch == extent3{32, 32, 32});
  CHECK(whole.global_batch == 150);
  REQUIRE(whole.slots.size() == 150);
  // Ranks split the same global batch into contiguous blocks that together make the whole.
  std::vector<pgps::slot_plan> joined;
  for (std::int32_t rank = 0; rank < 4; ++rank) {
    const pgps::batch_plan part = c.plan(7, 3, rank, 4);
    CHECK(part.global_batch == 150);
    CHECK(part.first_slot == static_cast<std::int64_t>(joined.size()));
    joined.insert(joined.end(), part.slots.begin(), part.slots.end());
  }
  CHECK(joined == whole.slots);
}

TEST_CASE("the random schedule draws a patch per iteration, the same on every rank") {
  const auto c = pgps::presets::random_patch_size({128, 128, 128}, {5, 5, 5}, 2, 20, 50, corner_sampler{}, 3);
  REQUIRE(c.stage_count() == 1);
  CHECK(c.stages()[0] == pgps::stage{0, {128, 128, 128}, 2, 0, 20});
  CHECK(c.candidates(0).size() == 9);
  std::set<std::int64_t> seen;
  double voxels = 0;
  for (std::int64_t e = 0; e < 20; ++e) {
    for (std::int64_t i = 0; i < 50; ++i) {
      const extent3 p = c.patch_at(e, i);
      REQUIRE(p == c.patch_at(e, i));
      REQUIRE(c.plan(e, i, 1, 2).patch == p);
      seen.insert(pgps::voxel_count(p));
      voxels += static_cast<double>(pgps::voxel_count(p));
    }
  }
  CHECK(seen.size() == 9);  // 1000 draws reach every one of the 9 patches
  // The cost model uses the expectation: mean over the pool of 2 * V, in units of 32^3:
  // (2+4+8+12+18+27+36+48+64) / 9 / 64.
  CHECK(c.voxel_fraction() == Approx(219.0 / 9.0 / 64.0));
  CHECK(voxels / 1000.0 / 2097152.0 == Approx(219.0 / 9.0 / 64.0).epsilon(0.1));
  const auto other_seed =
      pgps::presets::random_patch_size({128, 128, 128}, {5, 5, 5}, 2, 20, 50, corner_sampler{}, 4);
  int differ = 0;
  for (std::int64_t i = 0; i < 50; ++i) differ += c.patch_at(0, i) == other_seed.patch_at(0, i) ? 0 : 1;
  CHECK(differ > 20);
}

TEST_CASE("plus, ramp and baseline presets") {
  const auto plus = pgps::presets::pgps_plus({128, 128, 128}, {5, 5, 5}, 2, 900, 250, corner_sampler{}, 0);
  std::vector<std::int64_t> batches;
  for (const auto& s : plus.stages()) batches.push_back(s.batch);
  CHECK(batches == std::vector<std::int64_t>{24, 12, 6, 4, 3, 2, 2, 2, 2});
  CHECK(plus.stage_at(100).patch == extent3{64, 64, 32});

  const auto ramp =
      pgps::presets::linear_ramp_resizing({128, 128, 128}, {5, 5, 5}, 2, 10, 250, corner_sampler{}, 0);
  REQUIRE(ramp.stage_count() == 3);
  CHECK(ramp.stages()[1] == pgps::stage{1, {96, 96, 96}, 2, 6, 2});

  const auto baseline = pgps::presets::constant_baseline({28, 256, 224}, 2, 1000, 250, corner_sampler{}, 0);
  CHECK(baseline.stages() == std::vector<pgps::stage>{{0, {28, 256, 224}, 2, 0, 1000}});
  CHECK(baseline.voxel_fraction() == Approx(1.0));
}

TEST_CASE("learning-rate factor follows the stage batch") {
  const auto c = pgps::presets::pgps_performance({128, 128, 128}, {5, 5, 5}, 2, 1000, 250, corner_sampler{},
                                                 0, {pgps::lr_scaling::sqrt});
  CHECK(c.lr_factor(0) == Approx(8.0));  // sqrt(128 / 2)
  CHECK(c.lr_factor(999) == Approx(1.0));
  const auto off =
      pgps::presets::pgps_performance({128, 128, 128}, {5, 5, 5}, 2, 1000, 250, corner_sampler{}, 0);
  CHECK(off.lr_factor(0) == 1.0);
}

TEST_CASE("compute-proportional and plateau curricula") {
  pgps::curriculum c(pgps::progressive_growth::from_pooling({128, 128, 128}, {5, 5, 5}),
                     pgps::constant_batch(2), pgps::compute_proportional{}, corner_sampler{}, 1000, 250, 1);
  // Equal voxels per stage: the 32^3 stage gets 64x the epochs of the 128^3 stage.
  const auto stages = c.stages();
  CHECK(stages.front().epochs > 40 * stages.back().epochs);
  CHECK(c.cost().stages[0].voxels == Approx(c.cost().stages[9].voxels).epsilon(0.1));

  auto adaptive = pgps::presets::pgps_plateau({64, 64, 64}, {4, 4, 4}, pgps::constant_voxels(2),
                                              {.patience = 2, .min_epochs = 2, .max_epochs = 5}, 40, 10,
                                              corner_sampler{}, 1);
  REQUIRE(adaptive.stage_count() == 10);   // 3 steps of 16 per axis + the smallest
  CHECK(adaptive.stage_at(5).index == 1);  // projection: max epochs each
  adaptive.report(0, 0.5);
  adaptive.report(1, 0.4);
  adaptive.report(2, 0.4);  // no improvement for 2 epochs: stage 1 starts at 3
  CHECK(adaptive.stage_at(3).index == 1);
  CHECK(adaptive.stages()[1].first_epoch == 3);
}

TEST_CASE("curriculum errors name the value") {
  PGPS_REQUIRE_ERROR(
      pgps::presets::pgps_efficiency({128, 128, 128}, {5, 5, 5}, 2, 9, 250, corner_sampler{}, 0),
      "total epochs 9 are fewer than the 10 stages");
  PGPS_REQUIRE_ERROR(
      pgps::presets::pgps_efficiency({128, 128, 128}, {5, 5, 5}, 2, 100, 0, corner_sampler{}, 0),
      "iterations per epoch 0");
  PGPS_REQUIRE_ERROR(
      pgps::presets::pgps_efficiency({128, 128, 128}, {5, 5, 5}, 0, 100, 1, corner_sampler{}, 0),
      "batch size 0");
  PGPS_REQUIRE_ERROR(
      pgps::presets::pgps_efficiency({128, 128, 128}, {8, 5, 5}, 2, 100, 1, corner_sampler{}, 0),
      "pooling 8 on axis z gives a smallest patch of 256 voxels");
  PGPS_REQUIRE_ERROR(pgps::presets::constant_baseline({128, 0, 128}, 2, 100, 1, corner_sampler{}, 0),
                     "axis y");
  const auto c = pgps::presets::pgps_efficiency({128, 128, 128}, {5, 5, 5}, 2, 100, 1, corner_sampler{}, 0);
  PGPS_REQUIRE_ERROR((void)c.plan(0, 0, 2, 2), "rank 2 is outside [0, 2)");
  PGPS_REQUIRE_ERROR((void)c.plan(0, 0, 0, 3), "smaller than the world size 3");
}
