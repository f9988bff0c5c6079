// MONAI's RandCropByLabelClasses: the class of the box centre is drawn with probability
// proportional to a per-class ratio (background included), then a voxel of that class.
#pragma once

#include <algorithm>
#include <cmath>
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

struct class_ratio_sampler_options {
  std::vector<double> ratios;  // one per class, index 0 = background; finite, >= 0, sum > 0
  // MONAI keeps the box inside the image; a patch larger than a case is padded (allow_smaller).
  placement where = placement::inside_image_allow_smaller;
  extent3 extra_pad{};
  // renormalize (MONAI): classes absent from a case get ratio 0 for that case; a case with
  // none of the wanted classes gets an unforced random box. uniform_box: the ratios are used
  // as given and a drawn class absent from the case yields an unforced random box (so the
  // forced share of each class stays at its configured share). fail: the constructor names the
  // first case lacking a class with a positive ratio.
  on_missing_class missing = on_missing_class::renormalize;
};

class class_ratio_sampler {
 public:
  explicit class_ratio_sampler(dataset data, class_ratio_sampler_options options)
      : data_(std::move(data)), options_(std::move(options)) {
    detail::require_cases(data_, "class ratio sampler");
    const auto k = static_cast<std::size_t>(data_.num_classes());
    require(options_.ratios.size() == k, "class ratio sampler: ", options_.ratios.size(),
            " ratios given for a dataset with ", k, " classes (background included)");
    double sum = 0;
    for (std::size_t c = 0; c < k; ++c) {
      const double r = options_.ratios[c];
      require(std::isfinite(r) && r >= 0, "class ratio sampler: ratio ", r, " of class ", c,
              " must be finite and >= 0");
      sum += r;
    }
    require(sum > 0, "class ratio sampler: the ratios sum to 0; at least one must be positive");
    require(options_.extra_pad[0] >= 0 && options_.extra_pad[1] >= 0 && options_.extra_pad[2] >= 0,
            "class ratio sampler: extra_pad ", options_.extra_pad, " must be >= 0 on every axis");
    auto tables = std::make_shared<std::vector<std::vector<double>>>(static_cast<std::size_t>(data_.size()));
    for (std::int64_t id = 0; id < data_.size(); ++id) {
      const class_index& index = *data_[id].index;
      require(options_.ratios[0] == 0 || index.background_indexed(),
              "class ratio sampler: background ratio is ", options_.ratios[0],
              " but the class index of case ", id,
              " does not store background locations; build it with index_background = true");
      std::vector<double>& cumulative = (*tables)[static_cast<std::size_t>(id)];
      cumulative.resize(k);
      double running = 0;
      for (std::size_t c = 0; c < k; ++c) {
        const bool has = index.stored_count(static_cast<std::int32_t>(c)) > 0;
        require(options_.missing != on_missing_class::fail || has || options_.ratios[c] == 0,
                "class ratio sampler: case ", id, " has no voxel of class ", c, " (ratio ",
                options_.ratios[c], ") and on_missing_class is fail");
        if (has || options_.missing != on_missing_class::renormalize) running += options_.ratios[c];
        cumulative[c] = running;
      }
    }
    cumulative_ = std::move(tables);
  }

  // Draws: case, the class (one uniform draw), then the location; or z, y, x of a random box.
  slot_plan plan_slot(const slot_request& request) const {
    auto [stream, case_id, shape] = start_slot(data_, request, options_.where);
    const class_index& index = *data_[case_id].index;
    const std::vector<double>& cumulative = (*cumulative_)[static_cast<std::size_t>(case_id)];
    const double total = cumulative.back();
    if (total > 0) {
      const double u = stream.uniform01() * total;
      const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
      const auto c = static_cast<std::int32_t>(std::min<std::ptrdiff_t>(
          it - cumulative.begin(), static_cast<std::ptrdiff_t>(cumulative.size()) - 1));
      if (index.stored_count(c) > 0) {
        const index3 voxel = index.random_location(c, stream);
        return centred_slot(case_id, voxel, c, shape, request.patch, options_.where, options_.extra_pad);
      }
    }
    return uniform_slot(stream, case_id, shape, request.patch, options_.where, options_.extra_pad);
  }

  const dataset& data() const { return data_; }
  const class_ratio_sampler_options& options() const { return options_; }

 private:
  dataset data_;
  class_ratio_sampler_options options_;
  std::shared_ptr<const std::vector<std::vector<double>>> cumulative_;  // per case, per class
};

static_assert(Sampler<class_ratio_sampler>);

}  // namespace pgps
