// The README's C++ example, compiled and run, so the README cannot drift from the API.
// Keep the part between the markers identical to the README's code block.
#include <cstdint>
#include <vector>

#include <pgps/pgps.hpp>
#include "pgps_catch.hpp"

namespace {
struct training_result {
  std::int64_t batches = 0;
  std::int64_t last_batch_size = 0;
  std::int64_t foreground_voxels = 0;
};

training_result readme_example(const std::vector<float>& image, const std::vector<std::uint8_t>& label,
                               pgps::extent3 shape, std::int64_t epochs, std::int64_t iterations) {
  training_result result;
  // --- README example begins ---
  // One case: image and labels in C order (z, y, x); any container works through volume_traits.
  const auto image_view = pgps::contiguous_view(image.data(), shape);
  const auto label_view = pgps::contiguous_view(label.data(), shape);

  // Index the labels once (nnU-Net's subsampled foreground locations), then sample from them.
  pgps::dataset data;
  data.add_case(pgps::class_index::build(label_view, pgps::class_index_options::nnunet(/*num_classes=*/3)));
  const pgps::foreground_sampler sampler(data, pgps::foreground_sampler_options::pgps());

  // The paper's resource-efficient curriculum: grow 16³ → 64³ (4 poolings), batch 2 throughout.
  auto curriculum = pgps::presets::pgps_efficiency(pgps::extent3{64, 64, 64}, pgps::extent3{4, 4, 4},
                                                   /*batch=*/2, epochs, iterations, sampler, /*seed=*/42);

  const std::vector<pgps::training_case<float, std::uint8_t>> cases{{image_view, label_view}};
  const pgps::cropper<pgps::thread_pool> cropper(pgps::pad_options{}, pgps::thread_pool(2));
  std::vector<float> images;
  std::vector<std::int64_t> labels;
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (std::int64_t iteration = 0; iteration < iterations; ++iteration) {
      const pgps::batch_plan plan = curriculum.plan(epoch, iteration);  // which case, which box
      images.resize(pgps::image_elements(plan, /*channels=*/1));
      labels.resize(pgps::label_elements(plan));
      cropper.fill(plan, cases, images, labels);  // N×1×D×H×W images, N×D×H×W labels (pad −1)
      // ... forward, loss, backward on (images, labels) ...
      // --- README example ends ---
      ++result.batches;
      result.last_batch_size = static_cast<std::int64_t>(plan.slots.size());
      for (const std::int64_t l : labels) result.foreground_voxels += l > 0 ? 1 : 0;
    }
  }
  return result;
}
}  // namespace

TEST_CASE("the README example runs and samples foreground", "[docs]") {
  const pgps::extent3 shape{40, 48, 56};
  std::vector<float> image(static_cast<std::size_t>(pgps::voxel_count(shape)));
  std::vector<std::uint8_t> label(image.size(), 0);
  for (std::int64_t z = 18; z < 22; ++z) {
    for (std::int64_t y = 20; y < 26; ++y) {
      for (std::int64_t x = 30; x < 34; ++x) {
        label[static_cast<std::size_t>(pgps::linear_offset({z, y, x}, shape))] = z < 20 ? 1 : 2;
      }
    }
  }
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(label[i]) + 0.5f;
  const auto result = readme_example(image, label, shape, /*epochs=*/10, /*iterations=*/3);
  CHECK(result.batches == 30);
  CHECK(result.last_batch_size == 2);
  CHECK(result.foreground_voxels > 0);
}
