#include "pgps/adapters/torch.hpp"

#include <cstdint>
#include <memory>
#include <sstream>
#include <vector>

#include "pgps/crop/cropper.hpp"
#include "pgps/crop/executor.hpp"
#include "pgps/curriculum.hpp"
#include "pgps/sampling/class_index.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/foreground_sampler.hpp"
#include "pgps_catch.hpp"

namespace {

// A small labelled case: image value = linear offset, label = 1 inside a cube, 0 elsewhere.
struct small_case {
  pgps::extent3 extent{12, 14, 16};
  std::vector<float> image;
  std::vector<std::uint8_t> label;
  small_case() {
    const auto n = static_cast<std::size_t>(pgps::voxel_count(extent));
    image.resize(n);
    label.resize(n);
    for (std::int64_t z = 0; z < extent[0]; ++z)
      for (std::int64_t y = 0; y < extent[1]; ++y)
        for (std::int64_t x = 0; x < extent[2]; ++x) {
          const auto i = static_cast<std::size_t>(pgps::linear_offset({z, y, x}, extent));
          image[i] = static_cast<float>(i);
          label[i] = (z >= 4 && z < 8 && y >= 5 && y < 9 && x >= 6 && x < 10) ? 1 : 0;
        }
  }
  pgps::training_case<float, std::uint8_t> view() const {
    return {pgps::contiguous_view(image.data(), extent), pgps::contiguous_view(label.data(), extent)};
  }
};

pgps::dataset dataset_of(const std::vector<small_case>& cases) {
  pgps::dataset data;
  for (const auto& c : cases) {
    data.add_case(pgps::class_index::build(pgps::contiguous_view(c.label.data(), c.extent),
                                           pgps::class_index_options::nnunet(2)));
  }
  return data;
}

// Voxel (z, y, x) of a box cut from a case, with the cropper's default padding (image 0, label −1).
float expected_image(const small_case& c, const pgps::box& b, std::int64_t z, std::int64_t y,
                     std::int64_t x) {
  const pgps::index3 p{b.lower[0] + z, b.lower[1] + y, b.lower[2] + x};
  if (!pgps::box{{0, 0, 0}, c.extent}.contains(p)) return 0.0f;
  return c.image[static_cast<std::size_t>(pgps::linear_offset(p, c.extent))];
}
std::int64_t expected_label(const small_case& c, const pgps::box& b, std::int64_t z, std::int64_t y,
                            std::int64_t x) {
  const pgps::index3 p{b.lower[0] + z, b.lower[1] + y, b.lower[2] + x};
  if (!pgps::box{{0, 0, 0}, c.extent}.contains(p)) return -1;
  return c.label[static_cast<std::size_t>(pgps::linear_offset(p, c.extent))];
}

void require_batch_matches(const pgps::libtorch::batch& b, const std::vector<small_case>& cases) {
  const pgps::extent3 p = b.plan.patch;
  REQUIRE(b.image.sizes() ==
          std::vector<std::int64_t>{static_cast<std::int64_t>(b.plan.slots.size()), 1, p[0], p[1], p[2]});
  REQUIRE(b.label.sizes() ==
          std::vector<std::int64_t>{static_cast<std::int64_t>(b.plan.slots.size()), p[0], p[1], p[2]});
  REQUIRE(b.image.scalar_type() == torch::kFloat32);
  REQUIRE(b.label.scalar_type() == torch::kInt64);
  const auto image = b.image.accessor<float, 5>();
  const auto label = b.label.accessor<std::int64_t, 4>();
  std::int64_t mismatches = 0;
  for (std::size_t s = 0; s < b.plan.slots.size(); ++s) {
    const auto& slot = b.plan.slots[s];
    const small_case& c = cases[static_cast<std::size_t>(slot.case_id)];
    const auto n = static_cast<std::int64_t>(s);
    for (std::int64_t z = 0; z < p[0]; ++z)
      for (std::int64_t y = 0; y < p[1]; ++y)
        for (std::int64_t x = 0; x < p[2]; ++x) {
          mismatches += image[n][0][z][y][x] != expected_image(c, slot.region, z, y, x) ? 1 : 0;
          mismatches += label[n][z][y][x] != expected_label(c, slot.region, z, y, x) ? 1 : 0;
        }
  }
  REQUIRE(mismatches == 0);
}

}  // namespace

TEST_CASE("torch adapter maps element types to dtypes", "[torch]") {
  STATIC_REQUIRE(pgps::libtorch::dtype_of<float>() == torch::kFloat32);
  STATIC_REQUIRE(pgps::libtorch::dtype_of<double>() == torch::kFloat64);
  STATIC_REQUIRE(pgps::libtorch::dtype_of<std::uint8_t>() == torch::kUInt8);
  STATIC_REQUIRE(pgps::libtorch::dtype_of<std::int16_t>() == torch::kInt16);
  STATIC_REQUIRE(pgps::libtorch::dtype_of<std::int64_t>() == torch::kInt64);
}

TEST_CASE("span_of gives the tensor's own memory and refuses what pgps cannot fill", "[torch]") {
  torch::Tensor t = torch::zeros({2, 3, 4});
  const std::span<float> s = pgps::libtorch::span_of<float>(t);
  REQUIRE(s.size() == 24);
  s[5] = 7.0f;
  CHECK(t.view({-1})[5].item<float>() == 7.0f);  // the same memory, no copy

  PGPS_REQUIRE_ERROR(pgps::libtorch::span_of<float>(torch::Tensor()), "undefined");
  PGPS_REQUIRE_ERROR(pgps::libtorch::span_of<std::int64_t>(t), "dtype");
  PGPS_REQUIRE_ERROR(pgps::libtorch::span_of<float>(t.transpose(0, 2)), "not contiguous");
}

TEST_CASE("wrap shares pgps-owned memory and keeps it alive as long as the tensor", "[torch]") {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> watch = owner;
  torch::Tensor t = pgps::libtorch::wrap(owner, {2, 3});
  CHECK(t.data_ptr<float>() == owner->data());
  owner.reset();
  REQUIRE_FALSE(watch.expired());  // the tensor holds the buffer
  CHECK(t[1][2].item<float>() == 6.0f);
  torch::Tensor view = t.slice(1, 1, 3);
  t = torch::Tensor();
  REQUIRE_FALSE(watch.expired());  // a view of the storage holds it too
  CHECK(view[0][0].item<float>() == 2.0f);
  view = torch::Tensor();
  CHECK(watch.expired());  // released with the last tensor

  PGPS_REQUIRE_ERROR(pgps::libtorch::wrap(std::make_shared<std::vector<float>>(5), {2, 3}),
                     "sizes hold 6 elements");
  PGPS_REQUIRE_ERROR(pgps::libtorch::wrap(std::shared_ptr<std::vector<float>>(), {1}), "null");
  PGPS_REQUIRE_ERROR(pgps::libtorch::wrap(std::make_shared<std::vector<float>>(1), {-1}), "negative");
}

TEST_CASE("fill_batch crops straight into float/int64 tensors with nnU-Net padding", "[torch]") {
  const std::vector<small_case> cases(2);
  const std::vector<pgps::training_case<float, std::uint8_t>> views{cases[0].view(), cases[1].view()};
  pgps::batch_plan plan;
  plan.patch = {6, 7, 8};
  plan.global_batch = 3;
  plan.slots = {{0, {{0, 0, 0}, plan.patch}, pgps::no_forced_class},
                {1, {{-3, 10, 12}, plan.patch}, pgps::no_forced_class},  // overhangs: padded
                {0, {{3, 4, 5}, plan.patch}, 1}};
  const pgps::cropper<> cropper;
  const pgps::libtorch::batch b = pgps::libtorch::fill_batch(cropper, plan, views, 1);
  CHECK(b.plan == plan);
  require_batch_matches(b, cases);
  CHECK(b.label.min().item<std::int64_t>() == -1);

  SECTION("other element types") {
    const auto small = pgps::libtorch::fill_batch<pgps::libtorch::tensor_types<double, std::int32_t>>(
        cropper, plan, views, 1);
    CHECK(small.image.scalar_type() == torch::kFloat64);
    CHECK(small.label.scalar_type() == torch::kInt32);
    CHECK(torch::equal(small.label.to(torch::kInt64), b.label));
  }
  SECTION("bad input is refused before anything is written") {
    PGPS_REQUIRE_ERROR(pgps::libtorch::fill_batch(cropper, plan, views, 0), "channel count 0");
    pgps::batch_plan bad = plan;
    bad.slots[1].case_id = 2;
    PGPS_REQUIRE_ERROR(pgps::libtorch::fill_batch(cropper, bad, views, 1), "names case 2");
  }
}

TEST_CASE("feed follows the curriculum and keeps its state in a torch archive", "[torch]") {
  const std::vector<small_case> cases(3);
  std::vector<pgps::training_case<float, std::uint8_t>> views;
  for (const auto& c : cases) views.push_back(c.view());
  const pgps::foreground_sampler sampler(dataset_of(cases));
  auto curriculum =
      pgps::presets::pgps_efficiency(pgps::extent3{8, 8, 8}, pgps::extent3{2, 2, 2}, 2, 6, 3, sampler, 99);
  using curriculum_type = decltype(curriculum);
  pgps::thread_pool pool(2);
  using cropper_type = pgps::cropper<pgps::thread_pool&>;
  const cropper_type cropper(pgps::pad_options{}, pool);
  using feed_type = pgps::libtorch::feed<curriculum_type, cropper_type, float, std::uint8_t>;
  feed_type feed(curriculum, cropper, views);

  REQUIRE(curriculum.stage_count() == 4);  // 4³, 8·4·4, 8·8·4, 8³
  for (std::int64_t epoch = 0; epoch < 6; ++epoch) {
    CHECK(feed.stage_for(epoch) == curriculum.stage_at(epoch));
    for (std::int64_t iteration = 0; iteration < 3; ++iteration) {
      const pgps::libtorch::batch b = feed.next(epoch, iteration);
      REQUIRE(b.plan == curriculum.plan(epoch, iteration));
      CHECK(b.plan.patch == feed.stage_for(epoch).patch);
      require_batch_matches(b, cases);
    }
  }

  SECTION("ranks fill their share of the global batch") {
    feed_type rank1(curriculum, cropper, views, 1, 2);
    const pgps::libtorch::batch whole = feed.next(5, 2);
    const pgps::libtorch::batch part = rank1.next(5, 2);
    REQUIRE(part.image.size(0) == 1);
    CHECK(part.plan.slots[0] == whole.plan.slots[1]);
    CHECK(torch::equal(part.image[0], whole.image[1]));
    CHECK(torch::equal(part.label[0], whole.label[1]));
  }
  SECTION("state round trip through a torch archive") {
    std::stringstream bytes;
    {
      torch::serialize::OutputArchive archive;
      feed.save(archive);
      archive.write("other", torch::ones({2}));
      archive.save_to(bytes);
    }
    auto restored_curriculum =
        pgps::presets::pgps_efficiency(pgps::extent3{8, 8, 8}, pgps::extent3{2, 2, 2}, 2, 6, 3, sampler, 99);
    feed_type restored(restored_curriculum, cropper, views);
    torch::serialize::InputArchive archive;
    archive.load_from(bytes);
    restored.load(archive);
    CHECK(restored.state() == feed.state());
    CHECK(restored.next(4, 1).plan == feed.next(4, 1).plan);

    PGPS_REQUIRE_ERROR(restored.load(archive, "missing"), "has no entry 'missing'");
    PGPS_REQUIRE_ERROR(restored.load(archive, "other"), "is not a string");
  }
  SECTION("a state from another configuration is refused") {
    auto other =
        pgps::presets::pgps_efficiency(pgps::extent3{8, 8, 8}, pgps::extent3{2, 2, 2}, 2, 6, 3, sampler, 7);
    PGPS_REQUIRE_ERROR(feed.restore(other.save_state()), "seed");
  }
  SECTION("bad construction") {
    PGPS_REQUIRE_ERROR(feed_type(curriculum, cropper, {}), "no training cases");
    PGPS_REQUIRE_ERROR(feed_type(curriculum, cropper, views, 2, 2), "rank 2 of world size 2");
  }
}
