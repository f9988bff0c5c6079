// Patch schedules: the ordered list of patch sizes a curriculum trains on, stage by stage.
//
// A schedule is computed once, at construction, into a `patch_stage_list` value: the validation
// (target) patch and, for every stage, the patches it may train on. A stage with one candidate
// always trains on it; a stage with several draws one per iteration, uniformly, from a counter
// keyed stream (the random-patch-size ablation). Hot paths only read the cached value.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"

namespace pgps {

struct patch_stage_list {
  extent3 target;                                // the full patch; validation always uses it
  std::vector<std::vector<extent3>> candidates;  // per stage: the patches it may train on

  [[nodiscard]] std::int32_t stage_count() const { return static_cast<std::int32_t>(candidates.size()); }
  friend bool operator==(const patch_stage_list&, const patch_stage_list&) = default;
};

// A schedule hands out its stages; everything else (batch, epochs) is another policy's job.
template <class S>
concept PatchSchedule = requires(const S& schedule) {
  { schedule.stages() } -> std::convertible_to<const patch_stage_list&>;
};

inline constexpr const char* axis_name(int axis) { return axis == 0 ? "z" : axis == 1 ? "y" : "x"; }

namespace detail {
inline void require_positive_extent(const extent3& e, const char* what) {
  for (int a = 0; a < axis_count; ++a) {
    require(e[a] >= 1, what, ' ', e, " has ", e[a], " voxels on axis ", axis_name(a),
            "; each axis must be >= 1");
  }
}

// Each stage must be a non-empty list of positive patches.
inline void require_valid(const patch_stage_list& stages) {
  require_positive_extent(stages.target, "target patch");
  require(!stages.candidates.empty(), "a patch schedule needs at least one stage");
  for (const auto& stage : stages.candidates) {
    require(!stage.empty(), "a stage of a patch schedule needs at least one candidate patch");
    for (const extent3& patch : stage) require_positive_extent(patch, "patch");
  }
}

inline patch_stage_list one_candidate_per_stage(const extent3& target, const std::vector<extent3>& patches) {
  patch_stage_list stages{target, {}};
  stages.candidates.reserve(patches.size());
  for (const extent3& patch : patches) stages.candidates.push_back({patch});
  return stages;
}
}  // namespace detail

// The growth step and the smallest patch of a network with k_a pooling steps of factor 2 on
// axis a: s_a = 2^k_a, so the smallest patch has a 1x1x1 bottleneck.
inline extent3 pooling_step(const extent3& pooling, const extent3& target) {
  extent3 step;
  for (int a = 0; a < axis_count; ++a) {
    require(pooling[a] >= 0 && pooling[a] <= 30, "pooling count ", pooling[a], " on axis ", axis_name(a),
            " is outside [0, 30]");
    step[a] = std::int64_t{1} << pooling[a];
    require(step[a] <= target[a], "pooling ", pooling[a], " on axis ", axis_name(a),
            " gives a smallest patch of ", step[a], " voxels, larger than the target ", target[a],
            "; allowed: at most ", static_cast<int>(std::floor(std::log2(static_cast<double>(target[a])))),
            " pooling steps on ", axis_name(a), " (2^k <= ", target[a], ")");
  }
  return step;
}

// What to do when a step would overshoot a target that is not a multiple of the step.
enum class overshoot : std::uint8_t {
  clamp,      // stop at the target (pgps' default)
  reference,  // grow past the target as the paper's code does (its final patch exceeds the target)
};

// The paper's schedule. From the smallest patch, each stage grows exactly one axis by its step:
// the axis whose next size (current + step) is smallest, ties to the first axis (z, y, x); an
// axis that reached the target stops growing. Ends when every axis has reached the target.
class progressive_growth {
 public:
  progressive_growth(const extent3& target, const extent3& min_patch, const extent3& step,
                     overshoot mode = overshoot::clamp)
      : min_patch_(min_patch), step_(step), mode_(mode) {
    detail::require_positive_extent(target, "target patch");
    detail::require_positive_extent(min_patch, "smallest patch");
    detail::require_positive_extent(step, "step");
    for (int a = 0; a < axis_count; ++a) {
      require(min_patch[a] <= target[a], "smallest patch ", min_patch, " is larger than the target ", target,
              " on axis ", axis_name(a), " (", min_patch[a], " > ", target[a], ")");
    }
    stages_ = detail::one_candidate_per_stage(target, grow(target));
  }

  // The paper's plan: step and smallest patch 2^k per axis from the network's pooling counts.
  static progressive_growth from_pooling(const extent3& target, const extent3& pooling,
                                         overshoot mode = overshoot::clamp) {
    detail::require_positive_extent(target, "target patch");
    const extent3 step = pooling_step(pooling, target);
    return progressive_growth(target, step, step, mode);
  }

  [[nodiscard]] const patch_stage_list& stages() const { return stages_; }
  [[nodiscard]] const extent3& step() const { return step_; }
  [[nodiscard]] const extent3& min_patch() const { return min_patch_; }
  [[nodiscard]] overshoot overshoot_mode() const { return mode_; }

 private:
  std::vector<extent3> grow(const extent3& target) const {
    std::vector<extent3> patches{min_patch_};
    extent3 current = min_patch_;
    bool done[axis_count];
    for (int a = 0; a < axis_count; ++a) done[a] = current[a] >= target[a];
    for (;;) {
      int axis = -1;
      for (int a = 0; a < axis_count; ++a) {
        if (done[a]) continue;
        if (axis < 0 || current[a] + step_[a] < current[axis] + step_[axis]) axis = a;
      }
      if (axis < 0) break;
      current[axis] += step_[axis];
      if (mode_ == overshoot::clamp && current[axis] > target[axis]) current[axis] = target[axis];
      if (current[axis] >= target[axis]) done[axis] = true;
      patches.push_back(current);
    }
    return patches;
  }

  extent3 min_patch_;
  extent3 step_;
  overshoot mode_;
  patch_stage_list stages_;
};

// The first published variant (MICCAI 2024, "PGPS" / "PGPS+"): the axes grow in turn, y, x, z,
// y, ... (an axis at its target is skipped), each clamped at the target; the smallest patch has
// twice the step on z, 2^(k_z+1), clamped to the target.
class round_robin_growth {
 public:
  round_robin_growth(const extent3& target, const extent3& min_patch, const extent3& step, int first_axis = 1)
      : step_(step) {
    detail::require_positive_extent(target, "target patch");
    detail::require_positive_extent(min_patch, "smallest patch");
    detail::require_positive_extent(step, "step");
    require(first_axis >= 0 && first_axis < axis_count, "first growing axis ", first_axis,
            " is outside [0, 2]");
    for (int a = 0; a < axis_count; ++a) {
      require(min_patch[a] <= target[a], "smallest patch ", min_patch, " is larger than the target ", target,
              " on axis ", axis_name(a), " (", min_patch[a], " > ", target[a], ")");
    }
    std::vector<extent3> patches{min_patch};
    extent3 current = min_patch;
    int turn = first_axis;
    while (!(current == target)) {
      const int axis = turn % axis_count;
      ++turn;
      if (current[axis] >= target[axis]) continue;
      current[axis] = current[axis] + step[axis] > target[axis] ? target[axis] : current[axis] + step[axis];
      patches.push_back(current);
    }
    stages_ = detail::one_candidate_per_stage(target, patches);
  }

  static round_robin_growth from_pooling(const extent3& target, const extent3& pooling) {
    detail::require_positive_extent(target, "target patch");
    const extent3 step = pooling_step(pooling, target);
    extent3 min_patch = step;
    min_patch[0] = step[0] * 2 > target[0] ? target[0] : step[0] * 2;
    return round_robin_growth(target, min_patch, step);
  }

  [[nodiscard]] const patch_stage_list& stages() const { return stages_; }
  [[nodiscard]] const extent3& step() const { return step_; }

 private:
  extent3 step_;
  patch_stage_list stages_;
};

// The published ablation: one stage for the whole run that draws a patch per iteration,
// uniformly, from a pool (by default the stages of another schedule).
class random_per_iteration {
 public:
  random_per_iteration(std::vector<extent3> pool, const extent3& target) {
    require(!pool.empty(), "the random patch schedule needs a non-empty pool of patches");
    stages_ = patch_stage_list{target, {std::move(pool)}};
    detail::require_valid(stages_);
  }
  template <PatchSchedule S>
  static random_per_iteration from(const S& schedule) {
    const patch_stage_list& source = schedule.stages();
    std::vector<extent3> pool;
    for (const auto& stage : source.candidates) pool.insert(pool.end(), stage.begin(), stage.end());
    return random_per_iteration(std::move(pool), source.target);
  }

  [[nodiscard]] const patch_stage_list& stages() const { return stages_; }

 private:
  patch_stage_list stages_;
};

// A linear ramp by fraction of training, as MosaicML Composer's progressive resizing, per axis
// in 3D: scale = s0 until the delay fraction d, then linear to 1 at 1 - f (the fine-tune
// fraction f trains at full size); axis size = round(target * scale / increment) * increment
// (round half to even, as Python's round), clamped to [increment, target], and exactly the
// target at scale 1. Epoch e has progress e / E. Consecutive epochs with the same patch form a
// stage; stage_epochs() gives their lengths for pgps::explicit_epochs.
class linear_ramp {
 public:
  struct options {
    double initial_scale = 0.5;
    double delay_fraction = 0.5;
    double finetune_fraction = 0.2;
  };

  linear_ramp(const extent3& target, const extent3& increment, std::int64_t total_epochs, options opts)
      : opts_(opts) {
    detail::require_positive_extent(target, "target patch");
    detail::require_positive_extent(increment, "size increment");
    require(total_epochs >= 1, "total epochs ", total_epochs, " must be >= 1");
    require(opts.initial_scale > 0.0 && opts.initial_scale <= 1.0, "initial scale ", opts.initial_scale,
            " is outside (0, 1]");
    require(opts.delay_fraction >= 0.0 && opts.finetune_fraction >= 0.0 &&
                opts.delay_fraction + opts.finetune_fraction < 1.0,
            "delay fraction ", opts.delay_fraction, " and fine-tune fraction ", opts.finetune_fraction,
            " must be >= 0 and sum to less than 1");
    std::vector<extent3> patches;
    for (std::int64_t epoch = 0; epoch < total_epochs; ++epoch) {
      const extent3 patch = patch_at_progress(target, increment,
                                              static_cast<double>(epoch) / static_cast<double>(total_epochs));
      if (patches.empty() || !(patches.back() == patch)) {
        patches.push_back(patch);
        epochs_.push_back(0);
      }
      ++epochs_.back();
    }
    stages_ = detail::one_candidate_per_stage(target, patches);
  }
  linear_ramp(const extent3& target, const extent3& increment, std::int64_t total_epochs)
      : linear_ramp(target, increment, total_epochs, options{}) {}

  [[nodiscard]] double scale_at(double progress) const {
    if (progress < opts_.delay_fraction) return opts_.initial_scale;
    const double ramp =
        (progress - opts_.delay_fraction) / (1.0 - opts_.finetune_fraction - opts_.delay_fraction);
    return opts_.initial_scale + (1.0 - opts_.initial_scale) * (ramp < 1.0 ? ramp : 1.0);
  }

  [[nodiscard]] const patch_stage_list& stages() const { return stages_; }
  [[nodiscard]] const std::vector<std::int64_t>& stage_epochs() const { return epochs_; }

 private:
  extent3 patch_at_progress(const extent3& target, const extent3& increment, double progress) const {
    const double scale = scale_at(progress);
    extent3 patch;
    for (int a = 0; a < axis_count; ++a) {
      if (scale >= 1.0) {
        patch[a] = target[a];
        continue;
      }
      const double steps =
          std::nearbyint(static_cast<double>(target[a]) * scale / static_cast<double>(increment[a]));
      std::int64_t size = static_cast<std::int64_t>(steps) * increment[a];
      if (size < increment[a]) size = increment[a];
      if (size > target[a]) size = target[a];
      patch[a] = size;
    }
    return patch;
  }

  options opts_;
  std::vector<std::int64_t> epochs_;
  patch_stage_list stages_;
};

// The baseline: the target patch for the whole run.
class constant_patch {
 public:
  explicit constant_patch(const extent3& target) {
    detail::require_positive_extent(target, "target patch");
    stages_ = patch_stage_list{target, {{target}}};
  }
  [[nodiscard]] const patch_stage_list& stages() const { return stages_; }

 private:
  patch_stage_list stages_;
};

// A user's own list, one patch per stage; the target defaults to the last patch.
class explicit_patches {
 public:
  explicit explicit_patches(std::vector<extent3> patches)
      : explicit_patches(patches, patches.empty() ? extent3{} : patches.back()) {}
  explicit_patches(const std::vector<extent3>& patches, const extent3& target) {
    require(!patches.empty(), "an explicit patch schedule needs at least one patch");
    stages_ = detail::one_candidate_per_stage(target, patches);
    detail::require_valid(stages_);
  }
  [[nodiscard]] const patch_stage_list& stages() const { return stages_; }

 private:
  patch_stage_list stages_;
};

static_assert(PatchSchedule<progressive_growth>);
static_assert(PatchSchedule<round_robin_growth>);
static_assert(PatchSchedule<random_per_iteration>);
static_assert(PatchSchedule<linear_ramp>);
static_assert(PatchSchedule<constant_patch>);
static_assert(PatchSchedule<explicit_patches>);

}  // namespace pgps
