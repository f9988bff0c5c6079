// The cropper against a naive reference crop, voxel for voxel, for random shapes, layouts,
// boxes, pad modes and element types; thread-count invariance; every validation error.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "pgps/adapters/tbb.hpp"
#include "pgps/crop/cropper.hpp"
#include "pgps_catch.hpp"

namespace {

using pgps::box;
using pgps::extent3;
using pgps::index3;
using pgps::pad_mode;

// An owning C×D×H×W volume in a chosen memory layout: any order of the four axes in memory and
// extra pitch per axis, so views are transposed, channel-last or row-padded.
template <class T>
struct test_volume {
  std::vector<T> storage;
  pgps::volume_view<const T> view;
};

template <class T>
test_volume<T> make_test_volume(std::mt19937_64& rng, const extent3& extent, std::int64_t channels,
                                bool scramble_layout, double lo, double hi) {
  // axis 0..2 = z, y, x; axis 3 = channel
  std::array<int, 4> order{3, 0, 1, 2};  // slowest to fastest
  std::array<std::int64_t, 4> pitch_extra{0, 0, 0, 0};
  if (scramble_layout) {
    std::shuffle(order.begin(), order.end(), rng);
    for (auto& p : pitch_extra) p = static_cast<std::int64_t>(rng() % 3);
  }
  const std::array<std::int64_t, 4> count{extent[0], extent[1], extent[2], channels};
  std::array<std::int64_t, 4> stride{};
  std::int64_t step = 1;
  for (int k = 3; k >= 0; --k) {
    const int axis = order[static_cast<std::size_t>(k)];
    stride[static_cast<std::size_t>(axis)] = step;
    step *= count[static_cast<std::size_t>(axis)] + pitch_extra[static_cast<std::size_t>(axis)];
  }
  test_volume<T> v;
  v.storage.resize(static_cast<std::size_t>(step));
  std::uniform_real_distribution<double> value(lo, hi);
  for (auto& x : v.storage) {
    const double d = value(rng);
    x = std::is_integral_v<T> ? static_cast<T>(std::floor(d)) : static_cast<T>(d);
  }
  v.view = pgps::make_volume_view<const T>(v.storage.data(), extent, index3{stride[0], stride[1], stride[2]},
                                           channels, stride[3]);
  return v;
}

// numpy.pad followed by slicing, one voxel at a time: the coordinate of each axis maps through
// the pad mode independently; constant padding wins if any axis is outside.
std::int64_t reference_coordinate(pad_mode mode, std::int64_t i, std::int64_t n) {
  if (i >= 0 && i < n) return i;
  if (mode == pad_mode::constant) return -1;
  if (mode == pad_mode::edge || n == 1) return i < 0 ? 0 : n - 1;
  // Mirror step by step: bounce between 0 and n - 1.
  std::int64_t position = 0, direction = 0, steps = 0;
  if (i < 0) {
    position = 0;
    direction = 1;
    steps = -i;
  } else {
    position = n - 1;
    direction = -1;
    steps = i - (n - 1);
  }
  for (std::int64_t k = 0; k < steps; ++k) {
    if (position + direction < 0 || position + direction > n - 1) direction = -direction;
    position += direction;
  }
  return position;
}

template <class Out, class In>
Out reference_voxel(const pgps::volume_view<const In>& v, std::int64_t channel, const index3& p,
                    pad_mode mode, double pad_value) {
  index3 source;
  for (int a = 0; a < 3; ++a) {
    source[a] = reference_coordinate(mode, p[a], v.extent[a]);
    if (source[a] < 0) return pgps::convert_value<Out>(pad_value);
  }
  return pgps::convert_value<Out>(v.at(source, channel));
}

template <class Out, class In>
std::vector<Out> reference_images(const pgps::batch_plan& plan,
                                  const std::vector<pgps::volume_view<const In>>& images,
                                  const pgps::pad_spec& pad) {
  const std::int64_t channels = images.empty() ? 1 : images[0].channels;
  std::vector<Out> out;
  for (const auto& slot : plan.slots) {
    const auto& v = images[static_cast<std::size_t>(slot.case_id)];
    for (std::int64_t c = 0; c < channels; ++c) {
      for (std::int64_t z = 0; z < plan.patch[0]; ++z) {
        for (std::int64_t y = 0; y < plan.patch[1]; ++y) {
          for (std::int64_t x = 0; x < plan.patch[2]; ++x) {
            out.push_back(
                reference_voxel<Out>(v, c, slot.region.lower + index3{z, y, x}, pad.mode, pad.value));
          }
        }
      }
    }
  }
  return out;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

pad_mode random_mode(std::mt19937_64& rng) { return static_cast<pad_mode>(rng() % 3); }

// Random cases, a random plan with boxes inside, overhanging, entirely outside and larger than
// the volume, then fill and compare with the reference.
template <class I, class L, class OI, class OL>
void check_random_fills(std::uint64_t seed, int rounds) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    const std::int64_t channels = 1 + static_cast<std::int64_t>(rng() % 3);
    const std::size_t case_count = 1 + rng() % 3;
    std::vector<test_volume<I>> images;
    std::vector<test_volume<L>> labels;
    std::vector<pgps::training_case<I, L>> cases;
    std::vector<pgps::volume_view<const I>> image_views;
    std::vector<pgps::volume_view<const L>> label_views;
    for (std::size_t k = 0; k < case_count; ++k) {
      const extent3 extent{1 + static_cast<std::int64_t>(rng() % 7), 1 + static_cast<std::int64_t>(rng() % 7),
                           1 + static_cast<std::int64_t>(rng() % 9)};
      images.push_back(make_test_volume<I>(rng, extent, channels, rng() % 2 == 0, -100.0, 100.0));
      labels.push_back(make_test_volume<L>(rng, extent, 1, rng() % 2 == 0, 0.0, 5.0));
    }
    for (std::size_t k = 0; k < case_count; ++k) {
      cases.push_back({images[k].view, labels[k].view});
      image_views.push_back(images[k].view);
      label_views.push_back(labels[k].view);
    }
    pgps::batch_plan plan;
    plan.patch = {1 + static_cast<std::int64_t>(rng() % 12), 1 + static_cast<std::int64_t>(rng() % 12),
                  1 + static_cast<std::int64_t>(rng() % 16)};
    const std::size_t slots = 1 + rng() % 4;
    for (std::size_t s = 0; s < slots; ++s) {
      pgps::slot_plan slot;
      slot.case_id = static_cast<std::int64_t>(rng() % case_count);
      const extent3 volume = images[static_cast<std::size_t>(slot.case_id)].view.extent;
      for (int a = 0; a < 3; ++a) {
        // From far left (entirely outside) to far right (entirely outside).
        const std::int64_t span = volume[a] + plan.patch[a] + 20;
        slot.region.lower[a] =
            static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span)) - plan.patch[a] - 10;
      }
      slot.region.extent = plan.patch;
      plan.slots.push_back(slot);
    }
    pgps::pad_options pad;
    pad.image = {random_mode(rng), rng() % 2 == 0 ? 0.0 : 7.0};
    pad.label = {random_mode(rng), rng() % 2 == 0 ? -1.0 : 3.0};
    if constexpr (std::is_unsigned_v<OL>) pad.label.value = 3.0;
    const pgps::cropper crop(pad);

    std::vector<OI> image_out(pgps::image_elements(plan, channels));
    std::vector<OL> label_out(pgps::label_elements(plan));
    crop.fill(plan, cases, image_out, label_out);
    INFO("seed " << seed << " round " << round << " patch " << plan.patch << " image pad "
                 << pgps::name_of(pad.image.mode) << " label pad " << pgps::name_of(pad.label.mode));
    REQUIRE(same_bits(image_out, reference_images<OI>(plan, image_views, pad.image)));
    REQUIRE(same_bits(label_out, reference_images<OL>(plan, label_views, pad.label)));

    std::vector<OI> images_only(image_out.size());
    crop.fill_images(plan, image_views, images_only);
    REQUIRE(same_bits(images_only, image_out));
  }
}

struct raw_buffer {
  float* first;
  std::size_t count;
  float* begin() const { return first; }
  float* end() const { return first + count; }
  std::size_t size() const { return count; }
};

}  // namespace

TEST_CASE("crops equal the reference crop for random shapes, layouts, boxes and pad modes") {
  SECTION("float image, int16 labels, same output types (row memcpy path)") {
    check_random_fills<float, std::int16_t, float, std::int16_t>(1, 150);
  }
  SECTION("int16 image to float, uint8 labels to int64 (the LibTorch path)") {
    check_random_fills<std::int16_t, std::uint8_t, float, std::int64_t>(2, 150);
  }
  SECTION("double image to int16 (rounded, saturated), int32 labels to uint8") {
    check_random_fills<double, std::int32_t, std::int16_t, std::uint8_t>(3, 100);
  }
}

TEST_CASE("boxes entirely outside and patches larger than the volume, every pad mode") {
  // A 2-channel 3×4×5 volume whose voxel value encodes its coordinate.
  const extent3 extent{3, 4, 5};
  std::vector<float> image(2 * 60);
  std::iota(image.begin(), image.end(), 0.0f);
  std::vector<std::uint8_t> label(60);
  for (std::size_t i = 0; i < label.size(); ++i) label[i] = static_cast<std::uint8_t>(i % 3);
  const std::vector<pgps::training_case<float, std::uint8_t>> cases{
      {pgps::contiguous_view<const float>(image.data(), extent, 2),
       pgps::contiguous_view<const std::uint8_t>(label.data(), extent)}};
  const std::vector<pgps::volume_view<const float>> image_views{cases[0].image};
  const std::vector<pgps::volume_view<const std::uint8_t>> label_views{cases[0].label};
  for (const pad_mode mode : {pad_mode::constant, pad_mode::edge, pad_mode::reflect}) {
    for (const box region :
         {box{{-40, -41, -42}, {4, 5, 6}}, box{{30, 2, 1}, {4, 5, 6}}, box{{-9, -10, -11}, {21, 24, 27}},
          box{{0, 0, 0}, {3, 4, 5}}, box{{1, 3, 4}, {7, 7, 7}}}) {
      pgps::batch_plan plan;
      plan.patch = region.extent;
      plan.slots = {pgps::slot_plan{0, region, pgps::no_forced_class}};
      const pgps::cropper crop(pgps::pad_options{{mode, -5.0}, {mode, -1.0}});
      std::vector<float> image_out(pgps::image_elements(plan, 2));
      std::vector<std::int64_t> label_out(pgps::label_elements(plan));
      crop.fill(plan, cases, image_out, label_out);
      INFO("mode " << pgps::name_of(mode) << " " << region);
      REQUIRE(same_bits(image_out, reference_images<float>(plan, image_views, {mode, -5.0})));
      REQUIRE(same_bits(label_out, reference_images<std::int64_t>(plan, label_views, {mode, -1.0})));
      if (mode == pad_mode::constant && !region.inside(extent) && region.lower[0] < -9) {
        CHECK(std::all_of(image_out.begin(), image_out.end(), [](float v) { return v == -5.0f; }));
        CHECK(std::all_of(label_out.begin(), label_out.end(), [](std::int64_t v) { return v == -1; }));
      }
    }
  }
}

TEST_CASE("nnU-Net's defaults: image padded with 0, labels with -1") {
  const pgps::pad_options defaults;
  CHECK(defaults.image.mode == pad_mode::constant);
  CHECK(defaults.image.value == 0.0);
  CHECK(defaults.label.mode == pad_mode::constant);
  CHECK(defaults.label.value == -1.0);
  std::vector<float> image{1, 2, 3, 4};
  std::vector<std::int16_t> label{1, 1, 0, 1};
  const std::vector<pgps::training_case<float, std::int16_t>> cases{
      {pgps::contiguous_view<const float>(image.data(), {1, 2, 2}),
       pgps::contiguous_view<const std::int16_t>(label.data(), {1, 2, 2})}};
  pgps::batch_plan plan;
  plan.patch = {1, 2, 3};
  plan.slots = {pgps::slot_plan{0, box{{0, 0, -1}, {1, 2, 3}}, pgps::no_forced_class}};
  std::vector<float> image_out(6);
  std::vector<std::int64_t> label_out(6);
  pgps::cropper<>{}.fill(plan, cases, image_out, label_out);
  CHECK(image_out == std::vector<float>{0, 1, 2, 0, 3, 4});
  CHECK(label_out == std::vector<std::int64_t>{-1, 1, 1, -1, 0, 1});
}

TEST_CASE("dtype conversion rounds to nearest even and saturates") {
  CHECK(pgps::convert_value<std::int16_t>(2.5) == 2);
  CHECK(pgps::convert_value<std::int16_t>(3.5) == 4);
  CHECK(pgps::convert_value<std::int16_t>(-2.5) == -2);
  CHECK(pgps::convert_value<std::int16_t>(-3.5f) == -4);
  CHECK(pgps::convert_value<std::int16_t>(2.4999) == 2);
  CHECK(pgps::convert_value<std::int16_t>(-0.7) == -1);
  CHECK(pgps::convert_value<std::int16_t>(1e9) == 32767);
  CHECK(pgps::convert_value<std::int16_t>(-1e9f) == -32768);
  CHECK(pgps::convert_value<std::uint8_t>(-3.0) == 0);
  CHECK(pgps::convert_value<std::uint8_t>(255.6f) == 255);
  CHECK(pgps::convert_value<std::int32_t>(std::numeric_limits<double>::quiet_NaN()) == 0);
  CHECK(pgps::convert_value<std::int64_t>(1e30f) == std::numeric_limits<std::int64_t>::max());
  CHECK(pgps::convert_value<std::int64_t>(-1e30) == std::numeric_limits<std::int64_t>::lowest());
  CHECK(pgps::convert_value<std::int64_t>(std::numeric_limits<float>::infinity()) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK(pgps::convert_value<std::int32_t>(2147483647.0) == 2147483647);
  CHECK(pgps::convert_value<std::int32_t>(-2147483647.7) == -2147483647 - 1);
  CHECK(pgps::convert_value<std::int16_t>(std::int32_t{70000}) == 32767);
  CHECK(pgps::convert_value<std::int16_t>(std::int32_t{-70000}) == -32768);
  CHECK(pgps::convert_value<std::uint8_t>(std::int16_t{-1}) == 0);
  CHECK(pgps::convert_value<std::uint8_t>(std::int16_t{300}) == 255);
  CHECK(pgps::convert_value<std::int16_t>(std::uint16_t{65535}) == 32767);
  CHECK(pgps::convert_value<std::uint64_t>(std::int8_t{-5}) == 0);
  CHECK(pgps::convert_value<std::int64_t>(std::uint64_t{1} << 63) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK(pgps::convert_value<std::int64_t>(std::uint8_t{200}) == 200);
  CHECK(pgps::convert_value<float>(std::int16_t{-1234}) == -1234.0f);
  CHECK(pgps::representable_as<std::uint8_t>(255.0));
  CHECK_FALSE(pgps::representable_as<std::uint8_t>(-1.0));
  CHECK_FALSE(pgps::representable_as<std::int16_t>(0.5));
  CHECK(pgps::representable_as<float>(std::numeric_limits<double>::quiet_NaN()));
  CHECK_FALSE(pgps::representable_as<std::int32_t>(std::numeric_limits<double>::quiet_NaN()));
}

TEST_CASE("output is bit-identical for any executor and thread count") {
  std::mt19937_64 rng(11);
  const extent3 extent{29, 37, 45};
  const auto image = make_test_volume<std::int16_t>(rng, extent, 2, true, -1000.0, 1000.0);
  const auto label = make_test_volume<std::uint8_t>(rng, extent, 1, false, 0.0, 4.0);
  const std::vector<pgps::training_case<std::int16_t, std::uint8_t>> cases{{image.view, label.view}};
  pgps::batch_plan plan;
  plan.patch = {24, 20, 31};
  for (std::int64_t s = 0; s < 6; ++s) {
    plan.slots.push_back({0, box{{-8 + 5 * s, 20 - 4 * s, -10 + 6 * s}, plan.patch}, pgps::no_forced_class});
  }
  const pgps::pad_options pad{{pad_mode::reflect, 0.0}, {pad_mode::constant, -1.0}};
  std::vector<float> expected_image(pgps::image_elements(plan, 2));
  std::vector<std::int64_t> expected_label(pgps::label_elements(plan));
  pgps::cropper(pad).fill(plan, cases, expected_image, expected_label);
  REQUIRE(same_bits(expected_image, reference_images<float, std::int16_t>(plan, {image.view}, pad.image)));

  auto check = [&](const auto& crop) {
    std::vector<float> image_out(expected_image.size(), 123.0f);
    std::vector<std::int64_t> label_out(expected_label.size(), 77);
    for (int repeat = 0; repeat < 3; ++repeat) {  // pools are reused across calls
      crop.fill(plan, cases, image_out, label_out);
      REQUIRE(same_bits(image_out, expected_image));
      REQUIRE(same_bits(label_out, expected_label));
    }
  };
  for (std::size_t threads : {1u, 2u, 3u}) {
    INFO("threads " << threads);
    check(pgps::cropper<pgps::thread_pool>(pad, pgps::thread_pool(threads)));
    pgps::thread_pool shared(threads);
    check(pgps::cropper<pgps::thread_pool&>(pad, shared));
    check(pgps::cropper<pgps::tbb_executor>(pad, pgps::tbb_executor(static_cast<int>(threads))));
  }
}

// A float32 image and its int16 labels in C order, random contents: the nnU-Net batch types,
// whose same-type rows take the inline copy and, when asked, streaming stores.
struct float_int16_case {
  test_volume<float> image;
  test_volume<std::int16_t> label;
};

float_int16_case make_float_int16_case(std::uint64_t seed, const extent3& extent) {
  std::mt19937_64 rng(seed);
  auto image = make_test_volume<float>(rng, extent, 1, false, -50.0, 50.0);
  auto label = make_test_volume<std::int16_t>(rng, extent, 1, false, 0.0, 3.0);
  return {std::move(image), std::move(label)};
}

// Fills sentinel-initialised buffers with `crop` and requires the naive reference crop.
template <class Crop>
void require_reference_fill(const Crop& crop, const pgps::batch_plan& plan, const float_int16_case& source,
                            const pgps::pad_options& pad) {
  const std::vector<pgps::training_case<float, std::int16_t>> cases{{source.image.view, source.label.view}};
  std::vector<float> image_out(pgps::image_elements(plan, 1), -1.0f);
  std::vector<std::int16_t> label_out(pgps::label_elements(plan), std::int16_t{7});
  crop.fill(plan, cases, image_out, label_out);
  REQUIRE(same_bits(image_out, reference_images<float, float>(plan, {source.image.view}, pad.image)));
  REQUIRE(same_bits(label_out,
                    reference_images<std::int16_t, std::int16_t>(plan, {source.label.view}, pad.label)));
}

TEST_CASE("large batches (streaming stores) equal the reference too") {
  // Over pgps::detail::streaming_store_bytes of output; odd row bytes exercise unaligned heads.
  const extent3 extent{16, 128, 301};
  const float_int16_case source = make_float_int16_case(21, extent);
  pgps::batch_plan plan;
  plan.patch = extent;
  for (const index3 lower : {index3{0, 0, 0}, index3{-3, 5, 0}, index3{2, -4, -7}, index3{1, 1, 0},
                             index3{0, 9, 3}, index3{-1, -1, 0}}) {
    plan.slots.push_back({0, box{lower, extent}, pgps::no_forced_class});
  }
  REQUIRE(pgps::image_elements(plan, 1) * sizeof(float) + pgps::label_elements(plan) * sizeof(std::int16_t) >=
          pgps::detail::streaming_store_bytes);
  const pgps::pad_options pad{{pad_mode::edge, 0.0}, {pad_mode::constant, -1.0}};
  // The store policy changes where the writes go, never what is written.
  for (const pgps::store_policy stores :
       {pgps::store_policy::automatic, pgps::store_policy::cached, pgps::store_policy::streaming}) {
    INFO("store policy " << static_cast<int>(stores));
    const pgps::cropper crop(pad, pgps::thread_pool(2), stores);
    REQUIRE(crop.stores() == stores);
    require_reference_fill(crop, plan, source, pad);
  }
}

TEST_CASE("small batches with streaming stores equal the reference") {
  // Forced streaming on rows of 1 to 37 voxels at every alignment: heads, 64-byte bodies,
  // 16-byte steps and tails of stream_bytes.
  const float_int16_case source = make_float_int16_case(22, extent3{5, 7, 40});
  const pgps::pad_options pad{{pad_mode::reflect, 0.0}, {pad_mode::constant, -1.0}};
  const pgps::cropper<> crop(pad, pgps::inline_executor{}, pgps::store_policy::streaming);
  for (std::int64_t width = 1; width <= 37; ++width) {
    INFO("width " << width);
    pgps::batch_plan plan;
    plan.patch = {3, 4, width};
    for (std::int64_t x = -2; x < 5; ++x)
      plan.slots.push_back({0, box{{1, 2, x}, plan.patch}, pgps::no_forced_class});
    require_reference_fill(crop, plan, source, pad);
  }
}

TEST_CASE("invalid input is reported before anything is written") {
  const extent3 extent{4, 5, 6};
  std::vector<float> image(2 * 120, 1.0f);
  std::vector<std::int16_t> label(120, 1);
  std::vector<std::int16_t> other_label(4 * 5 * 7, 1);
  using case_t = pgps::training_case<float, std::int16_t>;
  const case_t good{pgps::contiguous_view<const float>(image.data(), extent, 2),
                    pgps::contiguous_view<const std::int16_t>(label.data(), extent)};
  pgps::batch_plan plan;
  plan.patch = {3, 3, 3};
  plan.slots = {{0, box{{-1, 0, 2}, {3, 3, 3}}, pgps::no_forced_class}, {1, box{{2, 2, 2}, {3, 3, 3}}, 1}};
  std::vector<case_t> cases{good, good};
  const pgps::cropper<> crop;

  constexpr float image_sentinel = -777.0f;
  constexpr std::int64_t label_sentinel = 4242;
  std::vector<float> image_out(pgps::image_elements(plan, 2), image_sentinel);
  std::vector<std::int64_t> label_out(pgps::label_elements(plan), label_sentinel);
  auto untouched = [&] {
    return std::all_of(image_out.begin(), image_out.end(), [](float v) { return v == image_sentinel; }) &&
           std::all_of(label_out.begin(), label_out.end(),
                       [](std::int64_t v) { return v == label_sentinel; });
  };
  auto fill = [&] { crop.fill(plan, cases, image_out, label_out); };

  SECTION("null image data") {
    cases[1].image.data = nullptr;
    PGPS_REQUIRE_ERROR(fill(), "case 1: image data pointer is null");
  }
  SECTION("null label data") {
    cases[0].label.data = nullptr;
    PGPS_REQUIRE_ERROR(fill(), "case 0: label data pointer is null");
  }
  SECTION("image and label shapes differ") {
    cases[1].label = pgps::contiguous_view<const std::int16_t>(other_label.data(), {4, 5, 7});
    PGPS_REQUIRE_ERROR(fill(), "case 1: image extent [4, 5, 6] and label extent [4, 5, 7] differ");
  }
  SECTION("label with two channels") {
    cases[1].label.channels = 2;
    PGPS_REQUIRE_ERROR(fill(), "label volume has 2 channels");
  }
  SECTION("cases with different channel counts") {
    cases[1].image = pgps::contiguous_view<const float>(image.data(), extent, 1);
    PGPS_REQUIRE_ERROR(fill(), "case 1 has 1 image channels but case 0 has 2");
  }
  SECTION("overlapping strides") {
    cases[0].image.stride = {6, 5, 1};
    PGPS_REQUIRE_ERROR(fill(), "case 0: image");
    PGPS_REQUIRE_ERROR(fill(), "overlap");
  }
  SECTION("non-positive extent") {
    cases[0].image.extent = {4, 0, 6};
    PGPS_REQUIRE_ERROR(fill(), "case 0: image extent [4, 0, 6] has a non-positive axis");
  }
  SECTION("case id out of range") {
    plan.slots[1].case_id = 2;
    PGPS_REQUIRE_ERROR(fill(), "slot 1 (global slot 1) names case 2; valid case ids are [0, 2)");
    plan.slots[1].case_id = -1;
    PGPS_REQUIRE_ERROR(fill(), "names case -1");
  }
  SECTION("box extent differs from the plan's patch") {
    plan.slots[0].region.extent = {3, 3, 4};
    PGPS_REQUIRE_ERROR(fill(), "slot 0 box extent [3, 3, 4] differs from the plan's patch [3, 3, 3]");
  }
  SECTION("non-positive patch") {
    plan.patch = {3, -3, 3};
    PGPS_REQUIRE_ERROR(fill(), "patch extent [3, -3, 3] has a non-positive axis");
  }
  SECTION("image buffer of the wrong size") {
    std::vector<float> small(image_out.size() - 1, image_sentinel);
    PGPS_REQUIRE_ERROR(crop.fill(plan, cases, small, label_out),
                       "image buffer has 107 elements; the plan fills exactly 108");
    CHECK(std::all_of(small.begin(), small.end(), [](float v) { return v == image_sentinel; }));
  }
  SECTION("label buffer of the wrong size") {
    std::vector<std::int64_t> large(label_out.size() + 1, label_sentinel);
    PGPS_REQUIRE_ERROR(crop.fill(plan, cases, image_out, large),
                       "label buffer has 55 elements; the plan fills exactly 54");
    CHECK(std::all_of(large.begin(), large.end(), [](std::int64_t v) { return v == label_sentinel; }));
  }
  SECTION("null output buffer") {
    PGPS_REQUIRE_ERROR(crop.fill(plan, cases, raw_buffer{nullptr, image_out.size()}, label_out),
                       "image buffer data pointer is null");
  }
  SECTION("label pad value the output type cannot hold") {
    std::vector<std::uint8_t> label_u8(label_out.size(), 99);
    PGPS_REQUIRE_ERROR(crop.fill(plan, cases, image_out, label_u8),
                       "label pad value -1 is not representable");
    CHECK(std::all_of(label_u8.begin(), label_u8.end(), [](std::uint8_t v) { return v == 99; }));
  }
  SECTION("image pad value the output type cannot hold") {
    const pgps::cropper<> half(pgps::pad_options{{pad_mode::constant, 0.5}, {pad_mode::constant, -1.0}});
    std::vector<std::int16_t> image_i16(image_out.size(), 99);
    PGPS_REQUIRE_ERROR(half.fill(plan, cases, image_i16, label_out),
                       "image pad value 0.5 is not representable");
    CHECK(std::all_of(image_i16.begin(), image_i16.end(), [](std::int16_t v) { return v == 99; }));
  }
  SECTION("images only: bad case id and wrong buffer") {
    const std::vector<pgps::volume_view<const float>> images{good.image};
    PGPS_REQUIRE_ERROR(crop.fill_images(plan, images, image_out), "names case 1; valid case ids are [0, 1)");
    plan.slots[1].case_id = 0;
    std::vector<float> small(3);
    PGPS_REQUIRE_ERROR(crop.fill_images(plan, images, small), "image buffer has 3 elements");
  }
  CHECK(untouched());
}

TEST_CASE("unknown pad modes and store policies are rejected when the cropper is made") {
  const auto bad = static_cast<pad_mode>(7);
  PGPS_REQUIRE_ERROR(pgps::cropper<>(pgps::pad_options{{bad, 0.0}, {pad_mode::constant, -1.0}}),
                     "unknown image pad mode 7");
  PGPS_REQUIRE_ERROR(pgps::cropper<>(pgps::pad_options{{pad_mode::edge, 0.0}, {bad, -1.0}}),
                     "unknown label pad mode 7");
  PGPS_REQUIRE_ERROR(
      pgps::cropper<>(pgps::pad_options{}, pgps::inline_executor{}, static_cast<pgps::store_policy>(9)),
      "unknown store policy 9; use store_policy::automatic, store_policy::cached or "
      "store_policy::streaming");
}

TEST_CASE("an empty plan fills nothing") {
  pgps::batch_plan plan;
  plan.patch = {2, 2, 2};
  const std::vector<pgps::training_case<float, std::int16_t>> cases;
  std::vector<float> image_out;
  std::vector<std::int16_t> label_out;
  pgps::cropper<>{}.fill(plan, cases, image_out, label_out);
  CHECK(pgps::image_elements(plan, 3) == 0);
}
