// MONAI's RandCropByPosNegLabel: the box centre is a foreground voxel with probability
// pos / (pos + neg), else a background voxel; by default the box is kept inside the image (padded
// on an axis where the patch is larger than the case).
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>

#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/sampling/box_placement.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/sampler.hpp"

namespace pgps {

struct pos_neg_sampler_options {
  double pos = 1.0;
  double neg = 1.0;
  // MONAI: centre shifted so that the box lies inside the image; where the patch is larger than
  // a case, the box covers that axis and is padded (allow_smaller = True), so a growing patch
  // never fails to plan. placement::inside_image refuses such patches (allow_smaller = False).
  placement where = placement::inside_image_allow_smaller;
  extent3 extra_pad{};
  // renormalize (MONAI): a case without foreground gets only negative centres, one without
  // background only positive ones. uniform_box: the slot gets an unforced random box when the
  // drawn side is missing. fail: the constructor names the first case lacking a side that has
  // a positive weight.
  on_missing_class missing = on_missing_class::renormalize;
};

// Positive centres are uniform over all foreground voxels of the case (a class is drawn in
// proportion to its true voxel count, then one of its stored locations), so subsampled
// indexes keep MONAI's distribution in expectation. The forced class of a slot is the class of
// its centre voxel (0 for a negative centre). Background locations must be indexed when
// neg > 0 (class_index_options::index_background).
class pos_neg_sampler {
 public:
  explicit pos_neg_sampler(dataset data, pos_neg_sampler_options options = {})
      : data_(std::move(data)), options_(options) {
    detail::require_cases(data_, "pos/neg sampler");
    require(
        std::isfinite(options_.pos) && std::isfinite(options_.neg) && options_.pos >= 0 && options_.neg >= 0,
        "pos/neg sampler: pos ", options_.pos, " and neg ", options_.neg, " must be finite and >= 0");
    require(options_.pos + options_.neg > 0,
            "pos/neg sampler: pos + neg is 0; at least one must be positive");
    require(options_.extra_pad[0] >= 0 && options_.extra_pad[1] >= 0 && options_.extra_pad[2] >= 0,
            "pos/neg sampler: extra_pad ", options_.extra_pad, " must be >= 0 on every axis");
    pos_ratio_ = options_.pos / (options_.pos + options_.neg);
    for (std::int64_t id = 0; id < data_.size(); ++id) {
      const class_index& index = *data_[id].index;
      require(options_.neg == 0 || index.background_indexed(), "pos/neg sampler: neg is ", options_.neg,
              " but the class index of case ", id,
              " does not store background locations; build it with index_background = true");
      if (options_.missing == on_missing_class::fail) {
        require(options_.pos == 0 || index.foreground_count() > 0, "pos/neg sampler: case ", id,
                " has no foreground voxel and on_missing_class is fail");
        require(options_.neg == 0 || index.true_count(0) > 0, "pos/neg sampler: case ", id,
                " has no background voxel and on_missing_class is fail");
      }
    }
  }

  // Draws: case, the pos/neg coin, then the foreground rank and location, or the background
  // location; or, for a missing side under uniform_box, z, y, x of a random box.
  slot_plan plan_slot(const slot_request& request) const {
    auto [stream, case_id, shape] = start_slot(data_, request, options_.where);
    const class_index& index = *data_[case_id].index;
    const bool has_fg = index.foreground_count() > 0;
    const bool has_bg = index.stored_count(0) > 0;
    double ratio = pos_ratio_;
    if (options_.missing == on_missing_class::renormalize && (!has_fg || !has_bg)) ratio = has_fg ? 1.0 : 0.0;
    const bool positive = stream.uniform01() < ratio;
    if ((positive && has_fg) || (!positive && has_bg)) {
      std::int32_t c = 0;
      if (positive) {
        c = index.foreground_class_of_rank(
            static_cast<std::int64_t>(stream.below(static_cast<std::uint64_t>(index.foreground_count()))));
      }
      const index3 voxel = index.random_location(c, stream);
      return centred_slot(case_id, voxel, c, shape, request.patch, options_.where, options_.extra_pad);
    }
    return uniform_slot(stream, case_id, shape, request.patch, options_.where, options_.extra_pad);
  }

  double positive_ratio() const { return pos_ratio_; }
  const dataset& data() const { return data_; }
  const pos_neg_sampler_options& options() const { return options_; }

 private:
  dataset data_;
  pos_neg_sampler_options options_;
  double pos_ratio_ = 0.5;
};

static_assert(Sampler<pos_neg_sampler>);

}  // namespace pgps
