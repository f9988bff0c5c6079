// Uniform random boxes: nnU-Net's unforced crop (lower corner uniform within get_bbox's bounds,
// boxes may overhang and get padded), or MONAI's RandSpatialCrop (inside the image).
#pragma once

#include <cstdint>
#include <utility>

#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/sampling/box_placement.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/sampler.hpp"

namespace pgps {

struct uniform_sampler_options {
  placement where = placement::nnunet;  // nnunet and nnunet_clamped draw from the same bounds
  extent3 extra_pad{};                  // nnU-Net's pad_sides / patch − final_patch (need_to_pad)
};

class uniform_sampler {
 public:
  explicit uniform_sampler(dataset data, uniform_sampler_options options = {})
      : data_(std::move(data)), options_(options) {
    detail::require_cases(data_, "uniform sampler");
    require(options_.extra_pad[0] >= 0 && options_.extra_pad[1] >= 0 && options_.extra_pad[2] >= 0,
            "uniform sampler: extra_pad ", options_.extra_pad, " must be >= 0 on every axis");
  }

  // Draws: case, then z, y, x of the lower corner.
  slot_plan plan_slot(const slot_request& request) const {
    auto [stream, case_id, shape] = start_slot(data_, request, options_.where);
    return uniform_slot(stream, case_id, shape, request.patch, options_.where, options_.extra_pad);
  }

  const dataset& data() const { return data_; }
  const uniform_sampler_options& options() const { return options_; }

 private:
  dataset data_;
  uniform_sampler_options options_;
};

static_assert(Sampler<uniform_sampler>);

}  // namespace pgps
