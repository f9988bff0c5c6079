// Weight-map sampling: the box centre is a voxel drawn with probability proportional to a
// per-voxel weight (MONAI's RandWeightedCrop, without its restriction of centres to the
// region where the box fits: here the placement shifts a box that would leave the image).
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

struct weight_map_sampler_options {
  placement where = placement::inside_image_allow_smaller;
  extent3 extra_pad{};
};

// Tables built once per case from its weight volume: a double prefix sum over rows and, within
// each row, the cumulative weight as a fraction of the row's total in float (4 bytes per voxel).
// A draw is two binary searches; zero-weight voxels are never drawn.
class weight_map_sampler {
 public:
  explicit weight_map_sampler(dataset data, weight_map_sampler_options options = {})
      : data_(std::move(data)), options_(options) {
    detail::require_cases(data_, "weight map sampler");
    require(options_.extra_pad[0] >= 0 && options_.extra_pad[1] >= 0 && options_.extra_pad[2] >= 0,
            "weight map sampler: extra_pad ", options_.extra_pad, " must be >= 0 on every axis");
    auto tables = std::make_shared<std::vector<case_table>>();
    tables->reserve(static_cast<std::size_t>(data_.size()));
    for (std::int64_t id = 0; id < data_.size(); ++id) tables->push_back(build_table(data_[id], id));
    tables_ = std::move(tables);
  }

  // Draws: case, one uniform for the voxel.
  slot_plan plan_slot(const slot_request& request) const {
    auto [stream, case_id, shape] = start_slot(data_, request, options_.where);
    const index3 voxel = draw_voxel(case_id, stream.uniform01());
    return centred_slot(case_id, voxel, no_forced_class, shape, request.patch, options_.where,
                        options_.extra_pad);
  }

  // The voxel of case `case_id` that the uniform number u in [0, 1) selects.
  index3 draw_voxel(std::int64_t case_id, double u) const {
    const case_table& t = (*tables_)[static_cast<std::size_t>(case_id)];
    const extent3& e = data_[case_id].shape;
    const double total = t.row_prefix.back();
    const double target = std::min(u * total, std::nextafter(total, 0.0));
    const auto row_it = std::upper_bound(t.row_prefix.begin(), t.row_prefix.end(), target);
    const std::int64_t row = std::clamp<std::int64_t>(row_it - t.row_prefix.begin() - 1, 0, e[0] * e[1] - 1);
    const double row_weight =
        t.row_prefix[static_cast<std::size_t>(row) + 1] - t.row_prefix[static_cast<std::size_t>(row)];
    const double within = std::min((target - t.row_prefix[static_cast<std::size_t>(row)]) / row_weight,
                                   std::nextafter(1.0, 0.0));
    const float* first = t.within_row.data() + row * e[2];
    const float* it = std::upper_bound(first, first + e[2], static_cast<float>(within),
                                       [](float value, float element) { return value < element; });
    // float(within) may round up to an entry; step back to the last positive-weight voxel.
    std::int64_t x = std::min<std::int64_t>(it - first, e[2] - 1);
    while (x > 0 && first[x] == first[x - 1]) --x;
    return {row / e[1], row % e[1], x};
  }

  const dataset& data() const { return data_; }
  const weight_map_sampler_options& options() const { return options_; }

 private:
  struct case_table {
    std::vector<double> row_prefix;  // rows + 1 entries
    std::vector<float> within_row;   // per voxel, cumulative fraction of its row's weight
  };

  static case_table build_table(const dataset_case& c, std::int64_t id) {
    require(c.has_weights(), "weight map sampler: case ", id, " has no weight volume");
    const volume_view<const float>& w = c.weights;
    require(w.extent == c.shape, "weight map sampler: case ", id, " weights have extent ", w.extent,
            " but the case has extent ", c.shape);
    const extent3& e = c.shape;
    case_table t;
    t.row_prefix.assign(static_cast<std::size_t>(e[0] * e[1]) + 1, 0.0);
    t.within_row.resize(static_cast<std::size_t>(voxel_count(e)));
    std::vector<double> running(static_cast<std::size_t>(e[2]));
    for (std::int64_t z = 0; z < e[0]; ++z) {
      for (std::int64_t y = 0; y < e[1]; ++y) {
        double sum = 0;
        std::int64_t last_positive = -1;
        for (std::int64_t x = 0; x < e[2]; ++x) {
          const float v = w.at(index3{z, y, x});
          if (!(v >= 0.0f) || !std::isfinite(v)) {
            fail("weight map sampler: case ", id, " has weight ", v, " at voxel ", index3{z, y, x},
                 "; weights must be finite and >= 0");
          }
          sum += static_cast<double>(v);
          if (v > 0.0f) last_positive = x;
          running[static_cast<std::size_t>(x)] = sum;
        }
        const std::int64_t row = z * e[1] + y;
        float* out = t.within_row.data() + row * e[2];
        for (std::int64_t x = 0; x < e[2]; ++x) {
          out[x] = sum > 0
                       ? (x >= last_positive ? 1.0f
                                             : static_cast<float>(running[static_cast<std::size_t>(x)] / sum))
                       : 0.0f;
        }
        t.row_prefix[static_cast<std::size_t>(row) + 1] = t.row_prefix[static_cast<std::size_t>(row)] + sum;
      }
    }
    require(t.row_prefix.back() > 0, "weight map sampler: case ", id,
            " has only zero weights; at least one voxel must have a positive weight");
    return t;
  }

  dataset data_;
  weight_map_sampler_options options_;
  std::shared_ptr<const std::vector<case_table>> tables_;
};

static_assert(Sampler<weight_map_sampler>);

}  // namespace pgps
