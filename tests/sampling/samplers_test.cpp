#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "pgps/sampling/balance_estimate.hpp"
#include "pgps/sampling/box_placement.hpp"
#include "pgps/sampling/class_ratio_sampler.hpp"
#include "pgps/sampling/foreground_sampler.hpp"
#include "pgps/sampling/grid_sampler.hpp"
#include "pgps/sampling/pos_neg_sampler.hpp"
#include "pgps/sampling/uniform_sampler.hpp"
#include "pgps/sampling/weight_map_sampler.hpp"
#include "pgps_catch.hpp"
#include "synthetic_labels.hpp"

using namespace pgps;

namespace {

// Cases of random shapes (some smaller than the patches used) with their labels kept for
// checking boxes against the real voxels.
struct test_cases {
  std::vector<std::vector<std::int16_t>> labels;
  dataset data;
};

test_cases make_cases(std::uint32_t seed, int count, int classes, bool subsample = false,
                      bool background = true) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> side(3, 24);
  test_cases t;
  for (int i = 0; i < count; ++i) {
    const extent3 e{side(rng), side(rng), side(rng)};
    t.labels.push_back(
        pgps_test::blob_labels<std::int16_t>(e, classes, static_cast<std::uint32_t>(rng()), 2));
    class_index_options o;
    o.num_classes = classes;
    o.index_background = background;
    o.subsample = subsample;
    o.min_samples = 20;
    t.data.add_case(class_index::build(contiguous_view(t.labels.back().data(), e), o));
  }
  return t;
}

bool box_has_class(const test_cases& t, const slot_plan& s, std::int32_t c) {
  const extent3& e = t.data[s.case_id].shape;
  const index3 lo = elementwise_max(s.region.lower, index3{0, 0, 0});
  const index3 hi = elementwise_min(s.region.upper(), e);
  for (std::int64_t z = lo[0]; z < hi[0]; ++z)
    for (std::int64_t y = lo[1]; y < hi[1]; ++y)
      for (std::int64_t x = lo[2]; x < hi[2]; ++x)
        if (t.labels[static_cast<std::size_t>(s.case_id)]
                    [static_cast<std::size_t>(linear_offset({z, y, x}, e))] == c)
          return true;
  return false;
}

// The lower corner lies where the placement allows.
void check_bounds(const slot_plan& s, const extent3& shape, const extent3& patch, placement p, bool forced,
                  const extent3& extra = {}) {
  REQUIRE(s.region.extent == patch);
  const lower_corner_range r = nnunet_lower_bounds(shape, patch, extra);
  for (int a = 0; a < axis_count; ++a) {
    const std::int64_t lower = s.region.lower[a];
    switch (p) {
      case placement::nnunet:
        REQUIRE(lower >= r.min[a]);
        REQUIRE(lower <= (forced ? std::max(r.max[a], shape[a] - 1 - patch[a] / 2) : r.max[a]));
        break;
      case placement::nnunet_clamped:
        REQUIRE(lower >= r.min[a]);
        REQUIRE(lower <= r.max[a]);
        break;
      case placement::inside_image:
        REQUIRE(lower >= 0);
        REQUIRE(lower + patch[a] <= shape[a]);
        break;
      case placement::inside_image_allow_smaller:
        if (patch[a] > shape[a]) {
          REQUIRE(lower == -((patch[a] - shape[a]) / 2));
        } else {
          REQUIRE(lower >= 0);
          REQUIRE(lower + patch[a] <= shape[a]);
        }
        break;
    }
  }
}

template <class S>
std::vector<slot_plan> plan_many(const S& sampler, const extent3& patch, std::int64_t batch,
                                 std::int64_t iterations, std::uint64_t seed) {
  std::vector<slot_plan> out;
  for (std::int64_t it = 0; it < iterations; ++it) {
    const batch_plan plan = make_batch_plan(sampler, patch, batch, seed, 3, static_cast<std::uint64_t>(it));
    out.insert(out.end(), plan.slots.begin(), plan.slots.end());
  }
  return out;
}

template <class S>
void check_ranks_and_determinism(const S& sampler, const extent3& patch) {
  for (std::uint64_t seed : {1ull, 77ull}) {
    const batch_plan single = make_batch_plan(sampler, patch, 9, seed, 2, 5);
    std::vector<slot_plan> joined;
    for (std::int32_t rank = 0; rank < 4; ++rank) {
      const batch_plan part = make_batch_plan(sampler, patch, 9, seed, 2, 5, rank, 4);
      REQUIRE(part.first_slot == static_cast<std::int64_t>(joined.size()));
      joined.insert(joined.end(), part.slots.begin(), part.slots.end());
    }
    REQUIRE(joined == single.slots);
    REQUIRE(make_batch_plan(sampler, patch, 9, seed, 2, 5) == single);
  }
}

double chi_square(const std::vector<double>& observed, const std::vector<double>& expected) {
  double chi2 = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    if (expected[i] > 0) chi2 += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  }
  return chi2;
}

}  // namespace

TEST_CASE("nnU-Net bounds follow get_bbox with Python floor division", "[placement]") {
  // need = 3: lb = (-3) // 2 = -2, ub = 10 + 1 + 1 - 13 = -1.
  lower_corner_range r = nnunet_lower_bounds(extent3{10, 100, 64}, extent3{13, 64, 64});
  REQUIRE(r.min == index3{-2, 0, 0});
  REQUIRE(r.max == index3{-1, 36, 0});
  // extra need_to_pad 5 on y: lb = -3, ub = 100 + 2 + 1 - 64 = 39; z need 4 > 3 keeps 4.
  r = nnunet_lower_bounds(extent3{10, 100, 64}, extent3{13, 64, 64}, extent3{4, 5, 0});
  REQUIRE(r.min == index3{-2, -3, 0});
  REQUIRE(r.max == index3{-1, 39, 0});  // z: 10 + 2 + 0 - 13
  // Forced centring: lower = max(lb, v - p // 2), nnU-Net does not clamp to ub.
  REQUIRE(place_around(index3{99, 99, 63}, extent3{100, 100, 64}, extent3{64, 64, 64}, placement::nnunet) ==
          index3{67, 67, 31});
  REQUIRE(place_around(index3{99, 99, 63}, extent3{100, 100, 64}, extent3{64, 64, 64},
                       placement::nnunet_clamped) == index3{36, 36, 0});
  REQUIRE(place_around(index3{0, 50, 2}, extent3{100, 100, 64}, extent3{64, 64, 64}, placement::nnunet) ==
          index3{0, 18, 0});
  // MONAI: box inside the image; allow_smaller pads a too-small axis symmetrically.
  REQUIRE(place_around(index3{99, 1, 5}, extent3{100, 100, 10}, extent3{64, 64, 13},
                       placement::inside_image_allow_smaller) == index3{36, 0, -1});
}

TEST_CASE("Python round: half to even", "[placement]") {
  CHECK(round_half_even(0.5) == 0);
  CHECK(round_half_even(1.5) == 2);
  CHECK(round_half_even(2.5) == 2);
  CHECK(round_half_even(2.51) == 3);
  CHECK(round_half_even(-0.5) == 0);
  CHECK(round_half_even(4.0) == 4);
}

TEST_CASE("nnU-Net's slot rule forces the last B - round(B(1-p)) slots", "[foreground]") {
  auto forced = [](std::int64_t batch, double p) {
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < batch; ++i)
      if (foreground_sampler::forced_by_slot_rule(i, batch, p)) out.push_back(i);
    return out;
  };
  CHECK(forced(2, 0.33) == std::vector<std::int64_t>{1});         // round(1.34) = 1
  CHECK(forced(2, 0.5) == std::vector<std::int64_t>{1});          // round(1.0) = 1
  CHECK(forced(1, 0.33).empty());                                 // round(0.67) = 1: batch 1 never forced
  CHECK(forced(4, 0.33) == std::vector<std::int64_t>{3});         // round(2.68) = 3
  CHECK(forced(6, 0.25) == std::vector<std::int64_t>{4, 5});      // round(4.5) = 4 (half to even)
  CHECK(forced(5, 0.5) == std::vector<std::int64_t>{2, 3, 4});    // round(2.5) = 2
  CHECK(forced(10, 0.33) == std::vector<std::int64_t>{7, 8, 9});  // round(6.7) = 7
  CHECK(forced(3, 1.0) == std::vector<std::int64_t>{0, 1, 2});
  CHECK(forced(3, 0.0).empty());
}

TEST_CASE("uniform sampler: boxes within bounds for every placement, ranks, determinism", "[uniform]") {
  const test_cases t = make_cases(3, 6, 4);
  for (placement p : {placement::nnunet, placement::nnunet_clamped, placement::inside_image_allow_smaller}) {
    const uniform_sampler sampler(t.data, {p, extent3{0, 3, 0}});
    for (const extent3 patch : {extent3{8, 8, 8}, extent3{30, 5, 17}, extent3{1, 1, 1}}) {
      for (const slot_plan& s : plan_many(sampler, patch, 4, 40, 11)) {
        REQUIRE(s.forced_class == no_forced_class);
        check_bounds(s, t.data[s.case_id].shape, patch, p, false, extent3{0, 3, 0});
      }
      check_ranks_and_determinism(sampler, patch);
    }
  }
  // Every case and every lower corner of a tiny range is reached.
  const uniform_sampler sampler(t.data);
  std::map<std::int64_t, int> cases;
  for (const slot_plan& s : plan_many(sampler, extent3{2, 2, 2}, 6, 100, 5)) ++cases[s.case_id];
  REQUIRE(cases.size() == 6);
  // inside_image refuses a patch larger than a case when planning.
  const uniform_sampler inside(t.data, {placement::inside_image, {}});
  PGPS_REQUIRE_ERROR(make_batch_plan(inside, extent3{40, 40, 40}, 2, 1, 0, 0), "larger than case");
}

TEST_CASE("foreground sampler: forced slots contain their class, unforced are uniform", "[foreground]") {
  const test_cases t = make_cases(8, 8, 5);
  for (const auto& options : {foreground_sampler_options::nnunet(), foreground_sampler_options::pgps()}) {
    const foreground_sampler sampler(t.data, options);
    for (const extent3 patch : {extent3{6, 6, 6}, extent3{30, 12, 9}}) {
      const std::int64_t batch = 6;
      const auto plans = plan_many(sampler, patch, batch, 30, 4);
      for (std::size_t i = 0; i < plans.size(); ++i) {
        const slot_plan& s = plans[i];
        const auto slot = static_cast<std::int64_t>(i) % batch;
        const bool rule = foreground_sampler::forced_by_slot_rule(slot, batch, options.foreground_fraction);
        const bool has_fg = t.data[s.case_id].index->foreground_count() > 0;
        REQUIRE((s.forced_class != no_forced_class) == (rule && has_fg));
        if (s.forced_class != no_forced_class) {
          REQUIRE(s.forced_class >= 1);
          REQUIRE(box_has_class(t, s, s.forced_class));
        }
        check_bounds(s, t.data[s.case_id].shape, patch, placement::nnunet, s.forced_class != no_forced_class);
      }
      check_ranks_and_determinism(sampler, patch);
    }
  }
}

TEST_CASE("foreground sampler: probabilistic rate and uniform class choice", "[foreground][statistics]") {
  // One case with classes 1, 2, 3 present in very different amounts: nnU-Net picks the class
  // uniformly among present ones, not by voxel count.
  const extent3 e{10, 10, 10};
  std::vector<std::uint8_t> labels(1000, 0);
  for (int i = 0; i < 300; ++i) labels[static_cast<std::size_t>(i)] = 1;
  for (int i = 300; i < 310; ++i) labels[static_cast<std::size_t>(i)] = 2;
  labels[999] = 3;
  class_index_options o;
  o.num_classes = 5;  // class 4 absent: never chosen
  dataset d;
  d.add_case(class_index::build(contiguous_view(labels.data(), e), o));
  foreground_sampler_options options;
  options.rule = oversampling_rule::probabilistic;
  options.foreground_fraction = 0.3;
  const foreground_sampler sampler(d, options);
  std::vector<double> by_class(5, 0.0);
  double forced = 0;
  const int n = 6000;
  for (const slot_plan& s : plan_many(sampler, extent3{4, 4, 4}, 10, n / 10, 8)) {
    if (s.forced_class != no_forced_class) {
      forced += 1;
      by_class[static_cast<std::size_t>(s.forced_class)] += 1;
    }
  }
  // Binomial(6000, 0.3): sd = 35.5; allow 4 sd.
  CHECK(std::abs(forced - 0.3 * n) < 4 * 35.5);
  REQUIRE(by_class[0] == 0);
  REQUIRE(by_class[4] == 0);
  // Chi-square with 2 degrees of freedom; 13.8 is the 0.001 quantile.
  CHECK(chi_square({by_class[1], by_class[2], by_class[3]}, {forced / 3, forced / 3, forced / 3}) < 13.8);
}

TEST_CASE("foreground sampler: cases without foreground fall back or fail", "[foreground][errors]") {
  std::vector<std::uint8_t> empty(27, 0);
  class_index_options o;
  o.num_classes = 3;
  dataset d;
  d.add_case(class_index::build(contiguous_view(empty.data(), extent3{3, 3, 3}), o));
  const foreground_sampler fallback(d, foreground_sampler_options::pgps());
  for (const slot_plan& s : plan_many(fallback, extent3{2, 2, 2}, 4, 5, 1))
    REQUIRE(s.forced_class == no_forced_class);
  foreground_sampler_options strict;
  strict.missing = on_missing_class::fail;
  PGPS_REQUIRE_ERROR(foreground_sampler(d, strict), "case 0 has no foreground voxel");
  foreground_sampler_options bad;
  bad.foreground_fraction = 1.5;
  PGPS_REQUIRE_ERROR(foreground_sampler(d, bad), "foreground_fraction 1.5 must lie in [0, 1]");
  bad.foreground_fraction = std::nan("");
  PGPS_REQUIRE_ERROR(foreground_sampler(d, bad), "must lie in [0, 1]");
  bad.foreground_fraction = 0.3;
  bad.extra_pad = extent3{0, -1, 0};
  PGPS_REQUIRE_ERROR(foreground_sampler(d, bad), "extra_pad [0, -1, 0]");
  PGPS_REQUIRE_ERROR(foreground_sampler(dataset{}), "no cases");
  PGPS_REQUIRE_ERROR(make_batch_plan(fallback, extent3{0, 2, 2}, 2, 1, 0, 0), "non-positive");
}

TEST_CASE("pos/neg sampler: MONAI ratio, centres of the drawn side, boxes inside the image",
          "[posneg][statistics]") {
  const test_cases t = make_cases(21, 6, 4);
  pos_neg_sampler_options options;
  options.pos = 3;
  options.neg = 1;
  const pos_neg_sampler sampler(t.data, options);
  REQUIRE(sampler.positive_ratio() == 0.75);
  const extent3 patch{3, 3, 3};
  double positive = 0, total = 0;
  for (const slot_plan& s : plan_many(sampler, patch, 8, 250, 3)) {
    check_bounds(s, t.data[s.case_id].shape, patch, placement::inside_image, true);
    REQUIRE(s.forced_class != no_forced_class);
    REQUIRE(box_has_class(t, s, s.forced_class));
    const class_index& index = *t.data[s.case_id].index;
    if (index.foreground_count() > 0 && index.true_count(0) > 0) {
      total += 1;
      positive += s.forced_class >= 1 ? 1 : 0;
    }
  }
  const double sd = std::sqrt(total * 0.75 * 0.25);
  CHECK(std::abs(positive - 0.75 * total) < 4 * sd);
  check_ranks_and_determinism(sampler, patch);

  // By default (allow_smaller) a patch larger than the case is padded, as the curriculum's
  // growing patch needs; placement::inside_image refuses to plan it.
  REQUIRE(pos_neg_sampler_options{}.where == placement::inside_image_allow_smaller);
  for (const slot_plan& s : plan_many(sampler, extent3{30, 4, 30}, 4, 20, 3)) {
    check_bounds(s, t.data[s.case_id].shape, extent3{30, 4, 30}, placement::inside_image_allow_smaller, true);
    REQUIRE(box_has_class(t, s, s.forced_class));
  }
  options.where = placement::inside_image;
  const pos_neg_sampler strict(t.data, options);
  PGPS_REQUIRE_ERROR(make_batch_plan(strict, extent3{30, 4, 30}, 4, 1, 0, 0), "allow_smaller");
}

TEST_CASE("pos/neg sampler: positive centres are uniform over foreground voxels", "[posneg][statistics]") {
  // Class 1 has 600 voxels, class 2 has 200: positives hit them 3:1 (MONAI's fg_indices),
  // also with a subsampled index.
  const extent3 e{10, 10, 10};
  std::vector<std::uint8_t> labels(1000, 0);
  for (int i = 0; i < 600; ++i) labels[static_cast<std::size_t>(i)] = 1;
  for (int i = 600; i < 800; ++i) labels[static_cast<std::size_t>(i)] = 2;
  for (const bool subsample : {false, true}) {
    class_index_options o;
    o.num_classes = 3;
    o.subsample = subsample;
    o.min_samples = 30;
    dataset d;
    d.add_case(class_index::build(contiguous_view(labels.data(), e), o));
    pos_neg_sampler_options options;
    options.neg = 0;
    const pos_neg_sampler sampler(d, options);
    std::vector<double> counts(3, 0.0);
    for (const slot_plan& s : plan_many(sampler, extent3{2, 2, 2}, 10, 400, 6))
      counts[static_cast<std::size_t>(s.forced_class)] += 1;
    CHECK(counts[0] == 0);
    CHECK(chi_square({counts[1], counts[2]}, {3000, 1000}) < 10.8);  // 1 dof, p = 0.001
  }
}

TEST_CASE("pos/neg sampler: missing sides and bad options", "[posneg][errors]") {
  std::vector<std::uint8_t> all_fg(27, 1);
  class_index_options o;
  o.num_classes = 2;
  dataset d;
  d.add_case(class_index::build(contiguous_view(all_fg.data(), extent3{3, 3, 3}), o));
  pos_neg_sampler_options options;
  options.pos = 0;  // only negatives wanted, but there is no background: MONAI switches to positives
  const pos_neg_sampler renormalized(d, options);
  for (const slot_plan& s : plan_many(renormalized, extent3{2, 2, 2}, 4, 10, 1)) REQUIRE(s.forced_class == 1);
  options.missing = on_missing_class::uniform_box;
  const pos_neg_sampler fallback(d, options);
  for (const slot_plan& s : plan_many(fallback, extent3{2, 2, 2}, 4, 10, 1))
    REQUIRE(s.forced_class == no_forced_class);
  options.missing = on_missing_class::fail;
  PGPS_REQUIRE_ERROR(pos_neg_sampler(d, options), "case 0 has no background voxel");
  options = {};
  options.pos = -1;
  PGPS_REQUIRE_ERROR(pos_neg_sampler(d, options), "pos -1 and neg 1 must be finite and >= 0");
  options.pos = 0;
  options.neg = 0;
  PGPS_REQUIRE_ERROR(pos_neg_sampler(d, options), "pos + neg is 0");
  dataset no_background;
  no_background.add_case(
      class_index::build(contiguous_view(all_fg.data(), extent3{3, 3, 3}), class_index_options::nnunet(2)));
  PGPS_REQUIRE_ERROR(pos_neg_sampler(no_background), "does not store background locations");
}

TEST_CASE("class ratio sampler: class frequencies match the ratios", "[ratios][statistics]") {
  const test_cases t = make_cases(5, 5, 4, true);
  // Keep only cases that have every class, so renormalization does not shift the shares.
  dataset full;
  test_cases kept;
  for (std::int64_t i = 0; i < t.data.size(); ++i) {
    const class_index& index = *t.data[i].index;
    bool all = true;
    for (int c = 0; c < 4; ++c) all = all && index.present(c);
    if (!all) continue;
    kept.labels.push_back(t.labels[static_cast<std::size_t>(i)]);
    kept.data.add_case(t.data[i].index);
  }
  REQUIRE(kept.data.size() >= 1);
  class_ratio_sampler_options options;
  options.ratios = {1, 2, 0, 5};
  const class_ratio_sampler sampler(kept.data, options);
  const extent3 patch{2, 3, 2};
  std::vector<double> counts(4, 0.0);
  const auto plans = plan_many(sampler, patch, 8, 500, 12);
  for (const slot_plan& s : plans) {
    REQUIRE(s.forced_class >= 0);
    counts[static_cast<std::size_t>(s.forced_class)] += 1;
    REQUIRE(box_has_class(kept, s, s.forced_class));
    check_bounds(s, kept.data[s.case_id].shape, patch, placement::inside_image, true);
  }
  const double n = static_cast<double>(plans.size());
  REQUIRE(counts[2] == 0);
  CHECK(chi_square({counts[0], counts[1], counts[3]}, {n / 8, n / 4, n * 5 / 8}) < 13.8);  // 2 dof, p = 0.001
  check_ranks_and_determinism(sampler, patch);
}

TEST_CASE("class ratio sampler: absent classes and bad ratios", "[ratios][errors]") {
  std::vector<std::uint8_t> labels(27, 0);
  labels[13] = 2;
  class_index_options o;
  o.num_classes = 3;
  dataset d;
  d.add_case(class_index::build(contiguous_view(labels.data(), extent3{3, 3, 3}), o));
  class_ratio_sampler_options options;
  options.ratios = {0, 1, 1};  // class 1 absent
  const class_ratio_sampler renormalized(d, options);
  for (const slot_plan& s : plan_many(renormalized, extent3{1, 1, 1}, 4, 10, 2)) {
    REQUIRE(s.forced_class == 2);
    REQUIRE(s.region.lower == index3{1, 1, 1});
  }
  options.missing = on_missing_class::uniform_box;
  const class_ratio_sampler fallback(d, options);
  int unforced = 0, forced = 0;
  for (const slot_plan& s : plan_many(fallback, extent3{1, 1, 1}, 4, 100, 2)) {
    (s.forced_class == no_forced_class ? unforced : forced) += 1;
    if (s.forced_class != no_forced_class) REQUIRE(s.forced_class == 2);
  }
  CHECK(std::abs(unforced - 200) < 4 * 10);
  options.missing = on_missing_class::fail;
  PGPS_REQUIRE_ERROR(class_ratio_sampler(d, options), "case 0 has no voxel of class 1 (ratio 1)");
  options.missing = on_missing_class::renormalize;
  options.ratios = {0, 0, 0};
  PGPS_REQUIRE_ERROR(class_ratio_sampler(d, options), "the ratios sum to 0");
  options.ratios = {1, -1, 1};
  PGPS_REQUIRE_ERROR(class_ratio_sampler(d, options), "ratio -1 of class 1 must be finite and >= 0");
  options.ratios = {1, 1};
  PGPS_REQUIRE_ERROR(class_ratio_sampler(d, options), "2 ratios given for a dataset with 3 classes");
  options.ratios = {1, std::nan(""), 1};
  PGPS_REQUIRE_ERROR(class_ratio_sampler(d, options), "of class 1 must be finite");
}

TEST_CASE("weight map sampler: centres follow the weights", "[weights][statistics]") {
  const extent3 e{4, 5, 6};
  std::vector<std::uint8_t> labels(120, 0);
  std::vector<float> weights(120, 0.0f);
  weights[7] = 1.0f;
  weights[50] = 3.0f;
  weights[119] = 6.0f;
  weights[0] = 0.0f;
  class_index_options o;
  o.num_classes = 1;
  dataset d;
  d.add_case(class_index::build(contiguous_view(labels.data(), e), o),
             contiguous_view<const float>(weights.data(), e));
  const weight_map_sampler sampler(d, {placement::nnunet, {}});
  std::map<std::int64_t, double> hits;
  const extent3 patch{1, 1, 1};
  const auto plans = plan_many(sampler, patch, 10, 300, 4);
  for (const slot_plan& s : plans) ++hits[linear_offset(s.region.lower, e)];
  REQUIRE(hits.size() == 3);
  const double n = static_cast<double>(plans.size());
  CHECK(chi_square({hits[7], hits[50], hits[119]}, {n / 10, n * 3 / 10, n * 6 / 10}) < 13.8);
  // Direct draws at the edges of [0, 1).
  REQUIRE(sampler.draw_voxel(0, 0.0) == unravel(7, e));
  REQUIRE(sampler.draw_voxel(0, std::nextafter(1.0, 0.0)) == unravel(119, e));
  REQUIRE(sampler.draw_voxel(0, 0.1 - 1e-12) == unravel(7, e));
  REQUIRE(sampler.draw_voxel(0, 0.1) == unravel(50, e));
  check_ranks_and_determinism(sampler, patch);
}

TEST_CASE("weight map sampler rejects bad weights", "[weights][errors]") {
  const extent3 e{2, 2, 2};
  std::vector<std::uint8_t> labels(8, 0);
  class_index_options o;
  o.num_classes = 1;
  const auto index =
      std::make_shared<const class_index>(class_index::build(contiguous_view(labels.data(), e), o));
  auto sampler_with = [&](std::vector<float> w) {
    dataset d;
    d.add_case(index, contiguous_view<const float>(w.data(), e));
    return weight_map_sampler(d);
  };
  PGPS_REQUIRE_ERROR(sampler_with({1, 1, 1, std::nanf(""), 1, 1, 1, 1}), "weight nan at voxel [0, 1, 1]");
  PGPS_REQUIRE_ERROR(sampler_with({1, 1, 1, 1, -2, 1, 1, 1}), "weight -2 at voxel [1, 0, 0]");
  PGPS_REQUIRE_ERROR(sampler_with({1, 1, 1, 1, 1, 1, 1, INFINITY}), "weight inf");
  PGPS_REQUIRE_ERROR(sampler_with({0, 0, 0, 0, 0, 0, 0, 0}), "case 0 has only zero weights");
  dataset unweighted;
  unweighted.add_case(index);
  PGPS_REQUIRE_ERROR(weight_map_sampler(unweighted), "case 0 has no weight volume");
  std::vector<float> wrong(27, 1.0f);
  dataset mismatch;
  PGPS_REQUIRE_ERROR(mismatch.add_case(index, contiguous_view<const float>(wrong.data(), extent3{3, 3, 3})),
                     "weights of extent [3, 3, 3] but labels of extent [2, 2, 2]");
  // A raw view whose strides revisit voxels: each voxel would be weighted more than once.
  const pgps::volume_view<const float> revisiting{wrong.data(), e, index3{0, 2, 1}};
  PGPS_REQUIRE_ERROR(mismatch.add_case(index, revisiting),
                     "dataset: case 0 weights: volume stride [0, 2, 1] has a non-positive entry on axis 0");
  REQUIRE(mismatch.empty());
}

TEST_CASE("grid sampler: sliding-window tiles cover every case", "[grid]") {
  std::vector<std::uint8_t> labels(100 * 10 * 7, 0);
  class_index_options o;
  o.num_classes = 1;
  dataset d;
  d.add_case(class_index::build(contiguous_view(labels.data(), extent3{100, 10, 7}), o));
  d.add_case(class_index::build(contiguous_view(labels.data(), extent3{64, 9, 7}), o));
  const grid_sampler monai(d, {0.5, grid_spacing::fixed_step});
  const grid_sampler nnunet(d, {0.5, grid_spacing::even});
  // Axis of 100 with patch 64: MONAI steps 32 -> 0, 32, 36; nnU-Net spreads 3 tiles -> 0, 18, 36.
  REQUIRE(monai.axis_tile_count(100, 64) == 3);
  REQUIRE(monai.axis_tile_start(100, 64, 1) == 32);
  REQUIRE(monai.axis_tile_start(100, 64, 2) == 36);
  REQUIRE(nnunet.axis_tile_count(100, 64) == 3);
  REQUIRE(nnunet.axis_tile_start(100, 64, 1) == 18);
  REQUIRE(nnunet.axis_tile_start(100, 64, 2) == 36);
  // nnU-Net: 181 with 128 and step 0.5: ceil(53/64)+1 = 2 tiles at 0, 53.
  REQUIRE(nnunet.axis_tile_count(181, 128) == 2);
  REQUIRE(nnunet.axis_tile_start(181, 128, 1) == 53);
  // Shorter than the patch: one tile, padded floor half below.
  REQUIRE(monai.axis_tile_count(10, 13) == 1);
  REQUIRE(monai.axis_tile_start(10, 13, 0) == -1);
  const extent3 patch{64, 4, 13};
  for (const grid_sampler* g : {&monai, &nnunet}) {
    for (std::int64_t id = 0; id < 2; ++id) {
      const extent3 shape = d[id].shape;
      const auto tiles = g->tiles(id, patch);
      REQUIRE(static_cast<std::int64_t>(tiles.size()) == g->tile_count(id, patch));
      std::vector<int> covered(static_cast<std::size_t>(voxel_count(shape)), 0);
      for (const box& b : tiles) {
        REQUIRE(b.extent == patch);
        for (int a = 0; a < axis_count; ++a) {
          if (patch[a] <= shape[a]) {
            REQUIRE(b.lower[a] >= 0);
            REQUIRE(b.upper()[a] <= shape[a]);
          }
        }
        const index3 lo = elementwise_max(b.lower, index3{0, 0, 0});
        const index3 hi = elementwise_min(b.upper(), shape);
        for (std::int64_t z = lo[0]; z < hi[0]; ++z)
          for (std::int64_t y = lo[1]; y < hi[1]; ++y)
            for (std::int64_t x = lo[2]; x < hi[2]; ++x)
              covered[static_cast<std::size_t>(linear_offset({z, y, x}, shape))] = 1;
      }
      REQUIRE(std::count(covered.begin(), covered.end(), 0) == 0);
      REQUIRE(tiles.back().upper()[1] == shape[1]);  // last tile flush with the end
    }
    // Slots walk the tiles of all cases in order and wrap around.
    const std::int64_t total = g->total_tiles(patch);
    std::vector<slot_plan> walked = plan_many(*g, patch, 5, (total + 4) / 5 + 1, 9);
    REQUIRE(walked[0].case_id == 0);
    REQUIRE(walked[0].region == g->tile(0, patch, 0));
    REQUIRE(walked[static_cast<std::size_t>(g->tile_count(0, patch))].case_id == 1);
    REQUIRE(walked[static_cast<std::size_t>(total)].region == walked[0].region);
    check_ranks_and_determinism(*g, patch);
  }
  PGPS_REQUIRE_ERROR(grid_sampler(d, {1.0, grid_spacing::even}), "overlap 1 must lie in [0, 1)");
  PGPS_REQUIRE_ERROR(grid_sampler(d, {-0.1, grid_spacing::even}), "overlap -0.1");
}

TEST_CASE("class fraction estimate equals brute-force counting over the same boxes", "[estimate]") {
  for (const bool subsample : {false, true}) {
    const test_cases t = make_cases(31, 4, 5, subsample, !subsample);
    const foreground_sampler sampler(t.data, foreground_sampler_options::pgps());
    const extent3 patch{7, 9, 5};
    const class_balance_estimate f = estimate_class_fractions(sampler, t.data, patch, 4, 50, 17);
    REQUIRE(f.boxes == 200);
    std::vector<double> brute(5, 0.0);
    double padding = 0;
    for (std::int64_t it = 0; it < 50; ++it) {
      for (std::int64_t slot = 0; slot < 4; ++slot) {
        const slot_plan s = sampler.plan_slot(
            {patch, 4, counter{17, 0, static_cast<std::uint64_t>(it), 0, static_cast<std::uint32_t>(slot)}});
        const extent3& e = t.data[s.case_id].shape;
        for (std::int64_t z = s.region.lower[0]; z < s.region.upper()[0]; ++z)
          for (std::int64_t y = s.region.lower[1]; y < s.region.upper()[1]; ++y)
            for (std::int64_t x = s.region.lower[2]; x < s.region.upper()[2]; ++x) {
              if (!box{index3{0, 0, 0}, e}.contains({z, y, x})) {
                padding += 1;
                continue;
              }
              brute[static_cast<std::size_t>(t.labels[static_cast<std::size_t>(
                  s.case_id)][static_cast<std::size_t>(linear_offset({z, y, x}, e))])] += 1;
            }
      }
    }
    const double voxels = 200.0 * static_cast<double>(voxel_count(patch));
    CHECK(f.padding == Approx(padding / voxels));
    double fg = 0;
    for (int c = 0; c < 5; ++c) {
      if (!subsample)
        CHECK(f.per_class[static_cast<std::size_t>(c)] ==
              Approx(brute[static_cast<std::size_t>(c)] / voxels));
      if (c >= 1) fg += brute[static_cast<std::size_t>(c)] / voxels;
    }
    // Subsampled: unbiased but noisy; blobs are small so most classes are fully stored anyway.
    CHECK(f.foreground == Approx(fg).epsilon(subsample ? 0.15 : 1e-9));
    CHECK(f.per_class[0] + f.foreground + f.padding == Approx(1.0).epsilon(subsample ? 0.05 : 1e-9));
  }
  const test_cases t = make_cases(2, 1, 3);
  const uniform_sampler u(t.data);
  PGPS_REQUIRE_ERROR(estimate_class_fractions(u, t.data, extent3{2, 2, 2}, 0, 1, 0), "global batch 0");
  PGPS_REQUIRE_ERROR(estimate_class_fractions(u, t.data, extent3{2, 2, 2}, 2, 0, 0), "batches 0");
  PGPS_REQUIRE_ERROR(estimate_class_fractions(u, dataset{}, extent3{2, 2, 2}, 2, 1, 0), "no cases");
}

TEST_CASE("box counting matches a scan for every box shape", "[estimate]") {
  std::mt19937 rng(4);
  const extent3 e{13, 17, 19};
  std::vector<std::uint32_t> locs;
  for (std::uint32_t i = 0; i < voxel_count(e); ++i)
    if (rng() % 3 == 0) locs.push_back(i);
  std::uniform_int_distribution<std::int64_t> pick(0, 18);
  for (int trial = 0; trial < 300; ++trial) {
    index3 lo, hi;
    for (int a = 0; a < 3; ++a) {
      const std::int64_t p = std::min(pick(rng), e[a] - 1), q = std::min(pick(rng), e[a] - 1);
      lo[a] = std::min(p, q);
      hi[a] = std::max(p, q) + 1;
    }
    if (trial % 5 == 0) {
      lo[2] = 0;
      hi[2] = e[2];
    }
    std::int64_t expected = 0;
    for (std::uint32_t l : locs) expected += box{lo, hi - lo}.contains(unravel(l, e)) ? 1 : 0;
    REQUIRE(count_locations_in_box(locs, e, lo, hi) == expected);
  }
}
