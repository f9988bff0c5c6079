// nnU-Net's foreground oversampling: some slots of each batch are forced to contain a voxel of
// a foreground class present in the case; the others get a uniform random box.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/sampling/box_placement.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/sampler.hpp"

namespace pgps {

enum class oversampling_rule : std::uint8_t {
  // nnU-Net's default (_oversample_last_XX_percent): global slot i is forced iff
  // i >= round(B·(1 − p)) with Python's round (half to even), i.e. the last
  // B − round(B·(1 − p)) slots of the global batch.
  last_slots,
  // nnU-Net's probabilistic_oversampling: each slot is forced with probability p.
  probabilistic,
};

struct foreground_sampler_options {
  double foreground_fraction = 0.33;  // nnU-Net's oversample_foreground_percent
  oversampling_rule rule = oversampling_rule::last_slots;
  placement where = placement::nnunet;
  extent3 extra_pad{};
  // A forced slot in a case without foreground: uniform_box (nnU-Net; renormalize means the
  // same here) or fail (the constructor names the case).
  on_missing_class missing = on_missing_class::uniform_box;

  static foreground_sampler_options nnunet() { return {}; }
  // The PGPS paper's preset: half of each batch forced.
  static foreground_sampler_options pgps() {
    foreground_sampler_options o;
    o.foreground_fraction = 0.5;
    return o;
  }
};

class foreground_sampler {
 public:
  explicit foreground_sampler(dataset data,
                              foreground_sampler_options options = foreground_sampler_options::nnunet())
      : data_(std::move(data)), options_(options) {
    detail::require_cases(data_, "foreground sampler");
    detail::require_probability(options_.foreground_fraction, "foreground sampler", "foreground_fraction");
    require(options_.extra_pad[0] >= 0 && options_.extra_pad[1] >= 0 && options_.extra_pad[2] >= 0,
            "foreground sampler: extra_pad ", options_.extra_pad, " must be >= 0 on every axis");
    auto present = std::make_shared<std::vector<std::vector<std::int32_t>>>();
    present->resize(static_cast<std::size_t>(data_.size()));
    for (std::int64_t id = 0; id < data_.size(); ++id) {
      const class_index& index = *data_[id].index;
      for (std::int32_t c = 1; c < index.num_classes(); ++c) {
        if (index.stored_count(c) > 0) (*present)[static_cast<std::size_t>(id)].push_back(c);
      }
      require(options_.missing != on_missing_class::fail || !(*present)[static_cast<std::size_t>(id)].empty(),
              "foreground sampler: case ", id, " has no foreground voxel and on_missing_class is fail");
    }
    present_ = std::move(present);
  }

  // nnU-Net's slot rule, exactly as its Python evaluates it.
  static bool forced_by_slot_rule(std::int64_t slot, std::int64_t global_batch, double foreground_fraction) {
    return !(slot < round_half_even(static_cast<double>(global_batch) * (1.0 - foreground_fraction)));
  }

  // Draws: case, [probabilistic: the forcing coin], then either the class (uniform among the
  // case's present foreground classes), the location and no more, or z, y, x of a uniform box.
  slot_plan plan_slot(const slot_request& request) const {
    auto [stream, case_id, shape] = start_slot(data_, request, options_.where);
    const bool forced =
        options_.rule == oversampling_rule::last_slots
            ? forced_by_slot_rule(request.where.slot, request.global_batch, options_.foreground_fraction)
            : stream.uniform01() < options_.foreground_fraction;
    const std::vector<std::int32_t>& classes = (*present_)[static_cast<std::size_t>(case_id)];
    if (forced && !classes.empty()) {
      const std::int32_t c = classes[static_cast<std::size_t>(stream.below(classes.size()))];
      const index3 voxel = data_[case_id].index->random_location(c, stream);
      return centred_slot(case_id, voxel, c, shape, request.patch, options_.where, options_.extra_pad);
    }
    return uniform_slot(stream, case_id, shape, request.patch, options_.where, options_.extra_pad);
  }

  const dataset& data() const { return data_; }
  const foreground_sampler_options& options() const { return options_; }

 private:
  dataset data_;
  foreground_sampler_options options_;
  std::shared_ptr<const std::vector<std::vector<std::int32_t>>>
      present_;  // per case, classes >= 1 with voxels
};

static_assert(Sampler<foreground_sampler>);

}  // namespace pgps
