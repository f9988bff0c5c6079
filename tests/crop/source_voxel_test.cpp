// source_voxel is the per-voxel index math the CUDA cropper runs. Here a per-voxel crop built on
// it must equal the CPU cropper's row-wise fill, so the CPU tests cover the device's math.
#include <cstdint>
#include <vector>

#include "pgps/core/rng.hpp"
#include "pgps/crop/cropper.hpp"
#include "pgps/crop/padding.hpp"
#include "pgps_catch.hpp"

TEST_CASE("per-voxel source_voxel crops equal the row-wise cropper", "[crop][cuda-math]") {
  pgps::random_stream draw(pgps::counter{2024, 0, 0, 0, 0});
  for (int round = 0; round < 60; ++round) {
    const pgps::extent3 extent{draw.uniform_int(1, 9), draw.uniform_int(1, 9), draw.uniform_int(1, 12)};
    const pgps::extent3 patch{draw.uniform_int(1, 14), draw.uniform_int(1, 14), draw.uniform_int(1, 20)};
    std::vector<float> image(static_cast<std::size_t>(pgps::voxel_count(extent)));
    std::vector<std::int16_t> label(image.size());
    for (std::size_t i = 0; i < image.size(); ++i) {
      image[i] = static_cast<float>(i);
      label[i] = static_cast<std::int16_t>(i % 7);
    }
    const pgps::training_case<float, std::int16_t> cases[] = {
        {pgps::contiguous_view<const float>(image.data(), extent),
         pgps::contiguous_view<const std::int16_t>(label.data(), extent)}};
    pgps::batch_plan plan;
    plan.patch = patch;
    plan.global_batch = 3;
    for (int s = 0; s < 3; ++s) {
      const pgps::index3 lower{draw.uniform_int(-20, 15), draw.uniform_int(-20, 15),
                               draw.uniform_int(-25, 15)};
      plan.slots.push_back({0, pgps::box{lower, patch}, pgps::no_forced_class});
    }
    for (pgps::pad_mode mode : {pgps::pad_mode::constant, pgps::pad_mode::edge, pgps::pad_mode::reflect}) {
      pgps::pad_options pad;
      pad.image = {mode, -5.0};
      pad.label = {mode, -1.0};
      std::vector<float> image_out(pgps::image_elements(plan, 1));
      std::vector<std::int64_t> label_out(pgps::label_elements(plan));
      pgps::cropper<>(pad).fill(plan, cases, image_out, label_out);

      const std::int64_t voxels = pgps::voxel_count(patch);
      for (std::size_t s = 0; s < plan.slots.size(); ++s) {
        for (std::int64_t i = 0; i < voxels; ++i) {
          const pgps::index3 p = plan.slots[s].region.lower + pgps::unravel(i, patch);
          pgps::index3 source;
          const bool inside = pgps::source_voxel(mode, p, extent, source);
          REQUIRE(inside == (mode != pgps::pad_mode::constant || pgps::box{{0, 0, 0}, extent}.contains(p)));
          const auto at = static_cast<std::size_t>(static_cast<std::int64_t>(s) * voxels + i);
          const float expected_image = inside ? cases[0].image.at(source) : -5.0f;
          const std::int64_t expected_label = inside ? cases[0].label.at(source) : -1;
          REQUIRE(image_out[at] == expected_image);
          REQUIRE(label_out[at] == expected_label);
        }
      }
    }
  }
}
