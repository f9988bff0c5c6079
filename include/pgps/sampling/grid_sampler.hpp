// Deterministic tiling with overlap for validation and inference: every case is covered by
// boxes of the patch extent, the last one flush with the end of each axis.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "pgps/core/geometry.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/sampling/box_placement.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/sampler.hpp"

namespace pgps {

enum class grid_spacing : std::uint8_t {
  // MONAI's sliding window (dense_patch_slices): step = max(1, floor(patch·(1 − overlap))),
  // tiles at 0, step, 2·step, ..., the last moved back to end flush with the axis.
  fixed_step,
  // nnU-Net's compute_steps_for_sliding_window: n = ceil((shape − patch) / (patch·(1 − overlap))) + 1
  // tiles spread evenly, start_i = round_half_even(i · (shape − patch) / (n − 1)).
  even,
};

struct grid_sampler_options {
  double overlap = 0.5;  // fraction of the patch shared by neighbouring tiles, in [0, 1)
  grid_spacing spacing = grid_spacing::fixed_step;
};

class grid_sampler {
 public:
  explicit grid_sampler(dataset data, grid_sampler_options options = {})
      : data_(std::move(data)), options_(options) {
    detail::require_cases(data_, "grid sampler");
    require(std::isfinite(options_.overlap) && options_.overlap >= 0.0 && options_.overlap < 1.0,
            "grid sampler: overlap ", options_.overlap, " must lie in [0, 1)");
  }

  // Tiles along one axis. An axis shorter than the patch gets one tile, padded symmetrically
  // (floor half below), as both nnU-Net and MONAI pad the image up to the patch first.
  std::int64_t axis_tile_count(std::int64_t shape, std::int64_t patch) const {
    if (shape <= patch) return 1;
    if (options_.spacing == grid_spacing::fixed_step) {
      const std::int64_t step = fixed_step(patch);
      return (shape - patch + step - 1) / step + 1;
    }
    const double target = static_cast<double>(patch) * (1.0 - options_.overlap);
    return static_cast<std::int64_t>(std::ceil(static_cast<double>(shape - patch) / target)) + 1;
  }
  std::int64_t axis_tile_start(std::int64_t shape, std::int64_t patch, std::int64_t i) const {
    if (shape <= patch) return -((patch - shape) / 2);
    if (options_.spacing == grid_spacing::fixed_step) return std::min(i * fixed_step(patch), shape - patch);
    const std::int64_t n = axis_tile_count(shape, patch);
    const double step = static_cast<double>(shape - patch) / static_cast<double>(n - 1);
    return round_half_even(step * static_cast<double>(i));
  }

  std::int64_t tile_count(std::int64_t case_id, const extent3& patch) const {
    const extent3& s = data_[case_id].shape;
    return axis_tile_count(s[0], patch[0]) * axis_tile_count(s[1], patch[1]) *
           axis_tile_count(s[2], patch[2]);
  }
  // Tile i of a case, in z-major order.
  box tile(std::int64_t case_id, const extent3& patch, std::int64_t i) const {
    const extent3& s = data_[case_id].shape;
    const extent3 n{axis_tile_count(s[0], patch[0]), axis_tile_count(s[1], patch[1]),
                    axis_tile_count(s[2], patch[2])};
    const index3 t = unravel(i, n);
    return {index3{axis_tile_start(s[0], patch[0], t[0]), axis_tile_start(s[1], patch[1], t[1]),
                   axis_tile_start(s[2], patch[2], t[2])},
            patch};
  }
  std::vector<box> tiles(std::int64_t case_id, const extent3& patch) const {
    require(case_id >= 0 && case_id < data_.size(), "grid sampler: case ", case_id, " is outside [0, ",
            data_.size(), ")");
    require(all_positive(patch), "grid sampler: patch ", patch, " has a non-positive axis");
    std::vector<box> out;
    const std::int64_t n = tile_count(case_id, patch);
    out.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) out.push_back(tile(case_id, patch, i));
    return out;
  }
  std::int64_t total_tiles(const extent3& patch) const {
    std::int64_t total = 0;
    for (std::int64_t id = 0; id < data_.size(); ++id) total += tile_count(id, patch);
    return total;
  }

  // Slot s of iteration it takes tile (it · global_batch + s) of the dataset's tiles in case
  // order, wrapping around; the epoch and the seed do not matter.
  slot_plan plan_slot(const slot_request& request) const {
    const std::int64_t total = total_tiles(request.patch);
    std::int64_t t = static_cast<std::int64_t>((request.where.iteration % static_cast<std::uint64_t>(total)) *
                                               static_cast<std::uint64_t>(request.global_batch % total) %
                                               static_cast<std::uint64_t>(total));
    t = (t + static_cast<std::int64_t>(request.where.slot)) % total;
    for (std::int64_t id = 0; id < data_.size(); ++id) {
      const std::int64_t n = tile_count(id, request.patch);
      if (t < n) return {id, tile(id, request.patch, t), no_forced_class};
      t -= n;
    }
    return {0, tile(0, request.patch, 0), no_forced_class};  // unreachable: t < total
  }

  const dataset& data() const { return data_; }
  const grid_sampler_options& options() const { return options_; }

 private:
  std::int64_t fixed_step(std::int64_t patch) const {
    const auto step = static_cast<std::int64_t>(static_cast<double>(patch) * (1.0 - options_.overlap));
    return step > 0 ? step : 1;
  }

  dataset data_;
  grid_sampler_options options_;
};

static_assert(Sampler<grid_sampler>);

}  // namespace pgps
