// The cost model: input voxels processed per stage and in total, relative to the constant
// baseline (target patch, the target's batch, the same epochs and iterations). Voxels are a proxy
// for compute; a time model with a fixed per-iteration overhead turns them into seconds (the
// paper measured 44% / 89% of the baseline's wall time for voxel fractions near 0.34 / 0.94).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/schedule/stage.hpp"

namespace pgps {

struct stage_cost {
  double voxels_per_iteration = 0;  // batch x patch voxels; the expectation for a random stage
  double voxels = 0;                // over the whole stage
  double fraction_of_baseline = 0;  // voxels / the baseline's total voxels
};

struct cost_summary {
  std::vector<stage_cost> stages;
  double total_voxels = 0;
  double baseline_voxels = 0;
  double voxel_fraction = 0;  // total_voxels / baseline_voxels
};

// Seconds per iteration = overhead + seconds_per_voxel * voxels per iteration.
struct time_model {
  double seconds_per_voxel = 0;
  double overhead_seconds_per_iteration = 0;

  [[nodiscard]] double seconds_per_iteration(double voxels_per_iteration) const {
    return overhead_seconds_per_iteration + seconds_per_voxel * voxels_per_iteration;
  }
};

// stages: the curriculum's stages; voxels_per_iteration: per stage (see stage_cost).
inline cost_summary estimate_cost(std::span<const stage> stages, std::span<const double> voxels_per_iteration,
                                  std::int64_t iterations_per_epoch, const extent3& target,
                                  std::int64_t baseline_batch) {
  require(stages.size() == voxels_per_iteration.size(), "cost model: ", stages.size(), " stages but ",
          voxels_per_iteration.size(), " per-iteration costs");
  require(iterations_per_epoch >= 1, "iterations per epoch ", iterations_per_epoch, " must be >= 1");
  cost_summary summary;
  std::int64_t epochs = 0;
  for (const stage& s : stages) epochs += s.epochs;
  summary.baseline_voxels = static_cast<double>(voxel_count(target)) * static_cast<double>(baseline_batch) *
                            static_cast<double>(epochs) * static_cast<double>(iterations_per_epoch);
  summary.stages.reserve(stages.size());
  for (std::size_t i = 0; i < stages.size(); ++i) {
    stage_cost cost;
    cost.voxels_per_iteration = voxels_per_iteration[i];
    cost.voxels = voxels_per_iteration[i] * static_cast<double>(stages[i].epochs) *
                  static_cast<double>(iterations_per_epoch);
    cost.fraction_of_baseline = summary.baseline_voxels > 0 ? cost.voxels / summary.baseline_voxels : 0;
    summary.total_voxels += cost.voxels;
    summary.stages.push_back(cost);
  }
  summary.voxel_fraction = summary.baseline_voxels > 0 ? summary.total_voxels / summary.baseline_voxels : 0;
  return summary;
}

// Predicted wall time of a plan under a time model, in seconds.
inline double predicted_seconds(const cost_summary& cost, std::span<const stage> stages,
                                std::int64_t iterations_per_epoch, const time_model& model) {
  double seconds = 0;
  for (std::size_t i = 0; i < stages.size() && i < cost.stages.size(); ++i) {
    seconds += model.seconds_per_iteration(cost.stages[i].voxels_per_iteration) *
               static_cast<double>(stages[i].epochs) * static_cast<double>(iterations_per_epoch);
  }
  return seconds;
}

}  // namespace pgps
