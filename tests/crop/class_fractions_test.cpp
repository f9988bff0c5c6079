// Class fractions of label buffers: counts, the ignored pad label, errors, thread invariance.
#include <cstdint>
#include <random>
#include <vector>

#include "pgps/adapters/tbb.hpp"
#include "pgps/crop/class_fractions.hpp"
#include "pgps/crop/cropper.hpp"
#include "pgps_catch.hpp"

TEST_CASE("class fractions count each class and leave the pad label out") {
  const std::vector<std::int64_t> labels{0, 0, 1, 2, 2, 2, -1, -1, 0, 2};
  const pgps::class_fractions f = pgps::count_classes(labels, 3);
  CHECK(f.voxels == std::vector<std::int64_t>{3, 1, 4});
  CHECK(f.ignored == 2);
  CHECK(f.counted() == 8);
  CHECK(f.fraction(0) == Approx(3.0 / 8));
  CHECK(f.fraction(1) == Approx(1.0 / 8));
  CHECK(f.fractions() == std::vector<double>{3.0 / 8, 1.0 / 8, 4.0 / 8});
}

TEST_CASE("class fractions of a filled batch with padding") {
  // A 1×2×2 volume, all foreground, cropped into a 1×2×4 patch: half the patch is padding.
  std::vector<float> image(4, 1.0f);
  std::vector<std::uint8_t> label(4, 1);
  const std::vector<pgps::training_case<float, std::uint8_t>> cases{
      {pgps::contiguous_view<const float>(image.data(), {1, 2, 2}),
       pgps::contiguous_view<const std::uint8_t>(label.data(), {1, 2, 2})}};
  pgps::batch_plan plan;
  plan.patch = {1, 2, 4};
  plan.slots = {{0, pgps::box{{0, 0, -2}, plan.patch}, 1}};
  std::vector<float> image_out(8);
  std::vector<std::int16_t> label_out(8);
  pgps::cropper<>{}.fill(plan, cases, image_out, label_out);
  const auto f = pgps::count_classes(label_out, 2);
  CHECK(f.ignored == 4);
  CHECK(f.fraction(1) == 1.0);  // padding does not dilute the foreground
  CHECK(f.fraction(0) == 0.0);
}

TEST_CASE("nothing counted gives zero fractions") {
  const std::vector<std::int16_t> labels(5, -1);
  const auto f = pgps::count_classes(labels, 2);
  CHECK(f.counted() == 0);
  CHECK(f.ignored == 5);
  CHECK(f.fractions() == std::vector<double>{0.0, 0.0});
  CHECK(pgps::count_classes(std::vector<std::uint8_t>{}, 4).counted() == 0);
}

TEST_CASE("a custom ignore label and unsigned labels") {
  const std::vector<std::uint8_t> labels{0, 255, 1, 255};
  const auto f = pgps::count_classes(labels, 2, 255);
  CHECK(f.voxels == std::vector<std::int64_t>{1, 1});
  CHECK(f.ignored == 2);
}

TEST_CASE("values outside the declared classes are errors") {
  std::vector<std::int16_t> labels(200000, 0);
  labels[150001] = 3;
  labels[170000] = -2;
  PGPS_REQUIRE_ERROR(pgps::count_classes(labels, 3),
                     "label value 3 at element 150001 is outside the declared classes [0, 3)");
  labels[150001] = 0;
  PGPS_REQUIRE_ERROR(pgps::count_classes(labels, 3), "label value -2 at element 170000");
  labels[170000] = -1;
  CHECK(pgps::count_classes(labels, 3).ignored == 1);
  PGPS_REQUIRE_ERROR(pgps::count_classes(labels, 3, 2),
                     "ignore label 2 is one of the declared classes [0, 3)");
  PGPS_REQUIRE_ERROR(pgps::count_classes(labels, 0), "class count 0 must be in [1, 2^24]");
  const std::vector<std::uint64_t> huge{0, std::uint64_t{1} << 63};
  PGPS_REQUIRE_ERROR(pgps::count_classes(huge, 2), "label value 9223372036854775808 at element 1");
}

TEST_CASE("class counts are identical for any thread count, and the first bad value is reported") {
  std::mt19937 rng(5);
  std::vector<std::int32_t> labels(600000);
  for (auto& v : labels) v = static_cast<std::int32_t>(rng() % 5) - 1;
  const auto expected = pgps::count_classes(labels, 4);
  std::int64_t total = expected.ignored;
  for (const auto v : expected.voxels) total += v;
  CHECK(total == static_cast<std::int64_t>(labels.size()));
  for (std::size_t threads : {1u, 2u, 3u}) {
    const pgps::thread_pool pool(threads);
    const auto f = pgps::count_classes(labels, 4, pgps::default_ignore_label, pool);
    CHECK(f.voxels == expected.voxels);
    CHECK(f.ignored == expected.ignored);
    const auto t = pgps::count_classes(labels, 4, pgps::default_ignore_label,
                                       pgps::tbb_executor(static_cast<int>(threads)));
    CHECK(t.voxels == expected.voxels);
  }
  labels[500000] = 9;
  labels[70000] = 8;
  const pgps::thread_pool pool(2);
  PGPS_REQUIRE_ERROR(pgps::count_classes(labels, 4, pgps::default_ignore_label, pool),
                     "label value 8 at element 70000");
}
