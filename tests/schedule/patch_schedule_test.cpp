// Stage lists of the patch schedules for nnU-Net-like plans. The expected lists are derived by
// hand from the growth rule (see the comments), not from the code.
#include <vector>

#include "pgps/schedule/patch_schedule.hpp"
#include "pgps_catch.hpp"

using pgps::extent3;

namespace {
std::vector<extent3> single_patches(const pgps::patch_stage_list& list) {
  std::vector<extent3> out;
  for (const auto& stage : list.candidates) {
    REQUIRE(stage.size() == 1);
    out.push_back(stage[0]);
  }
  return out;
}
}  // namespace

TEST_CASE("progressive growth of 128^3 with pooling 5,5,5 is the paper's 10-stage list") {
  const auto schedule = pgps::progressive_growth::from_pooling({128, 128, 128}, {5, 5, 5});
  const std::vector<extent3> expected{{32, 32, 32},   {64, 32, 32},   {64, 64, 32}, {64, 64, 64},
                                      {96, 64, 64},   {96, 96, 64},   {96, 96, 96}, {128, 96, 96},
                                      {128, 128, 96}, {128, 128, 128}};
  CHECK(single_patches(schedule.stages()) == expected);
  CHECK(schedule.stages().target == extent3{128, 128, 128});
  CHECK(schedule.step() == extent3{32, 32, 32});
}

TEST_CASE("progressive growth of 80x192x160 with pooling 4,5,5 (steps 16,32,32)") {
  // Next sizes z+16, y+32, x+32; the smallest grows, ties to z. z reaches 64 before y and x move
  // (48+16 = 64 ties with 32+32 and z wins), then the axes alternate until z stops at 80.
  const std::vector<extent3> expected{{16, 32, 32},   {32, 32, 32},  {48, 32, 32},   {64, 32, 32},
                                      {64, 64, 32},   {64, 64, 64},  {80, 64, 64},   {80, 96, 64},
                                      {80, 96, 96},   {80, 128, 96}, {80, 128, 128}, {80, 160, 128},
                                      {80, 160, 160}, {80, 192, 160}};
  const auto schedule = pgps::progressive_growth::from_pooling({80, 192, 160}, {4, 5, 5});
  CHECK(single_patches(schedule.stages()) == expected);
}

TEST_CASE("progressive growth of 28x256x224 with pooling 2,6,6 clamps x, or overshoots like the reference") {
  // Steps 4,64,64: z grows alone to 28 (its next size stays below 128), then y and x alternate,
  // y first on ties; 224 is not a multiple of 64, so the last x step is clamped to 224.
  std::vector<extent3> expected{{4, 64, 64},    {8, 64, 64},    {12, 64, 64},  {16, 64, 64},   {20, 64, 64},
                                {24, 64, 64},   {28, 64, 64},   {28, 128, 64}, {28, 128, 128}, {28, 192, 128},
                                {28, 192, 192}, {28, 256, 192}, {28, 256, 224}};
  CHECK(single_patches(pgps::progressive_growth::from_pooling({28, 256, 224}, {2, 6, 6}).stages()) ==
        expected);
  expected.back() = {28, 256, 256};  // the paper's code does not clamp
  CHECK(single_patches(
            pgps::progressive_growth::from_pooling({28, 256, 224}, {2, 6, 6}, pgps::overshoot::reference)
                .stages()) == expected);
}

TEST_CASE("progressive growth from an explicit smallest patch and step") {
  const pgps::progressive_growth schedule({8, 24, 24}, {4, 8, 8}, {4, 8, 8});
  // next sizes: z 8, y 16, x 16 -> z (8 done); y 16 = x 16 -> y; x; y 24 (done); x 24.
  const std::vector<extent3> expected{{4, 8, 8},   {8, 8, 8},   {8, 16, 8},
                                      {8, 16, 16}, {8, 24, 16}, {8, 24, 24}};
  CHECK(single_patches(schedule.stages()) == expected);
  const pgps::progressive_growth single({16, 16, 16}, {16, 16, 16}, {4, 4, 4});
  CHECK(single.stages().stage_count() == 1);
}

TEST_CASE("round-robin growth (the first published variant) starts at y with 2^(k+1) on z") {
  const std::vector<extent3> isotropic{{64, 32, 32},  {64, 64, 32},   {64, 64, 64},
                                       {96, 64, 64},  {96, 96, 64},   {96, 96, 96},
                                       {128, 96, 96}, {128, 128, 96}, {128, 128, 128}};
  CHECK(single_patches(pgps::round_robin_growth::from_pooling({128, 128, 128}, {5, 5, 5}).stages()) ==
        isotropic);
  // Turns y, x, z, y, x, z, ... skipping axes at their target; x clamps at 224.
  const std::vector<extent3> anisotropic{{8, 64, 64},    {8, 128, 64},   {8, 128, 128},  {12, 128, 128},
                                         {12, 192, 128}, {12, 192, 192}, {16, 192, 192}, {16, 256, 192},
                                         {16, 256, 224}, {20, 256, 224}, {24, 256, 224}, {28, 256, 224}};
  CHECK(single_patches(pgps::round_robin_growth::from_pooling({28, 256, 224}, {2, 6, 6}).stages()) ==
        anisotropic);
}

TEST_CASE("random per iteration pools another schedule's stages into one stage") {
  const auto source = pgps::round_robin_growth::from_pooling({128, 128, 128}, {5, 5, 5});
  const auto random = pgps::random_per_iteration::from(source);
  REQUIRE(random.stages().stage_count() == 1);
  CHECK(random.stages().candidates[0] == single_patches(source.stages()));
  CHECK(random.stages().target == extent3{128, 128, 128});
  PGPS_REQUIRE_ERROR(pgps::random_per_iteration({}, {8, 8, 8}), "non-empty pool");
}

TEST_CASE("linear ramp follows Composer's scale per axis") {
  // E = 10, s0 = 0.5, delay 0.5, fine-tune 0.2: epochs 0-5 at scale 0.5 (64), epoch 6 at 2/3
  // (128 * 2/3 / 32 = 2.67 -> 3 -> 96), epoch 7 at 5/6 (3.33 -> 3 -> 96), epochs 8-9 at 1 (128).
  const pgps::linear_ramp ramp({128, 128, 128}, {32, 32, 32}, 10);
  const std::vector<extent3> expected{{64, 64, 64}, {96, 96, 96}, {128, 128, 128}};
  CHECK(single_patches(ramp.stages()) == expected);
  CHECK(ramp.stage_epochs() == std::vector<std::int64_t>{6, 2, 2});
  CHECK(ramp.scale_at(0.0) == Approx(0.5));
  CHECK(ramp.scale_at(0.65) == Approx(0.75));
  CHECK(ramp.scale_at(0.95) == Approx(1.0));
  // Anisotropic: z 28 with increment 4 -> round(14 / 4) = 4 (half to even: 3.5 -> 4) -> 16.
  const pgps::linear_ramp aniso({28, 256, 224}, {4, 64, 64}, 10);
  CHECK(aniso.stages().candidates.front()[0] == extent3{16, 128, 128});
  CHECK(aniso.stages().candidates.back()[0] == extent3{28, 256, 224});
  PGPS_REQUIRE_ERROR(pgps::linear_ramp({8, 8, 8}, {4, 4, 4}, 10, {0.5, 0.6, 0.4}), "sum to less than 1");
  PGPS_REQUIRE_ERROR(pgps::linear_ramp({8, 8, 8}, {4, 4, 4}, 10, {0.0, 0.5, 0.2}), "initial scale 0");
  PGPS_REQUIRE_ERROR(pgps::linear_ramp({8, 8, 8}, {4, 4, 4}, 0), "total epochs 0");
}

TEST_CASE("constant and explicit schedules") {
  CHECK(single_patches(pgps::constant_patch({40, 56, 40}).stages()) == std::vector<extent3>{{40, 56, 40}});
  const pgps::explicit_patches list({{8, 8, 8}, {16, 16, 16}});
  CHECK(list.stages().target == extent3{16, 16, 16});
  CHECK(list.stages().stage_count() == 2);
  PGPS_REQUIRE_ERROR(pgps::explicit_patches(std::vector<extent3>{}), "at least one patch");
  PGPS_REQUIRE_ERROR(pgps::explicit_patches({{8, 0, 8}}), "axis y");
}

TEST_CASE("schedules reject bad sizes and pooling with messages that name the value") {
  PGPS_REQUIRE_ERROR(pgps::progressive_growth::from_pooling({28, 256, 224}, {5, 6, 6}),
                     "pooling 5 on axis z gives a smallest patch of 32 voxels, larger than the target 28");
  PGPS_REQUIRE_ERROR(pgps::progressive_growth::from_pooling({28, 256, 224}, {5, 6, 6}),
                     "at most 4 pooling steps");
  PGPS_REQUIRE_ERROR(pgps::progressive_growth::from_pooling({0, 64, 64}, {1, 1, 1}), "target patch");
  PGPS_REQUIRE_ERROR(pgps::progressive_growth::from_pooling({-8, 64, 64}, {1, 1, 1}), "-8 voxels on axis z");
  PGPS_REQUIRE_ERROR(pgps::progressive_growth::from_pooling({8, 64, 64}, {1, -1, 1}),
                     "pooling count -1 on axis y");
  PGPS_REQUIRE_ERROR(pgps::progressive_growth({8, 8, 8}, {16, 4, 4}, {4, 4, 4}), "larger than the target");
  PGPS_REQUIRE_ERROR(pgps::progressive_growth({8, 8, 8}, {4, 4, 4}, {4, 0, 4}), "step");
  PGPS_REQUIRE_ERROR(pgps::round_robin_growth({8, 8, 8}, {4, 4, 4}, {4, 4, 4}, 3), "first growing axis 3");
  PGPS_REQUIRE_ERROR(pgps::constant_patch({8, 8, 0}), "axis x");
}
