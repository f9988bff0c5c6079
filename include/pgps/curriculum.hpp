// The curriculum: the one object a trainer holds. It composes a patch schedule, a batch policy,
// a stage policy and a sampler, and answers "which stage, which patch and batch, which boxes"
// for (epoch, iteration, rank), takes back validation metrics, and saves/restores its state.
//
// Everything it answers is a pure function of (configuration, seed, epoch, iteration) and, for
// an adaptive stage policy, of the metrics reported so far; so a resumed run sees exactly the
// stages and batches of an uninterrupted one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/sampling/sampler.hpp"
#include "pgps/schedule/batch_policy.hpp"
#include "pgps/schedule/cost_model.hpp"
#include "pgps/schedule/patch_schedule.hpp"
#include "pgps/schedule/stage.hpp"
#include "pgps/schedule/stage_policy.hpp"

namespace pgps {

struct curriculum_options {
  lr_scaling lr = lr_scaling::none;  // learning-rate factor per stage (off, as in the paper)
};

// The patch and global batch of one training step.
struct step_shape {
  extent3 patch;
  std::int64_t batch = 0;
  friend constexpr bool operator==(const step_shape&, const step_shape&) = default;
};

inline constexpr int curriculum_state_version = 1;

template <PatchSchedule S, BatchPolicy B, StagePolicy P, Sampler Smp>
class curriculum {
  static_assert(PatchSchedule<S>,
                "S must model pgps::PatchSchedule: `s.stages()` returning a patch_stage_list");
  static_assert(BatchPolicy<B>, "B must model pgps::BatchPolicy: `b.batches(span<const extent3>, extent3)`");
  static_assert(StagePolicy<P>,
                "P must model pgps::StagePolicy: `p.start(stage_context)` and `p.stage_starts()`");
  static_assert(ResumableStagePolicy<P>,
                "P must be resumable: `p.save_state()` and `p.restore_state(string_view)`");
  static_assert(Sampler<Smp>,
                "Smp must model pgps::Sampler: `s.plan_slot(slot_request)` returning a slot_plan");

 public:
  using schedule_type = S;
  using batch_policy_type = B;
  using stage_policy_type = P;
  using sampler_type = Smp;

  curriculum(S schedule, B batch_policy, P stage_policy, Smp sampler, std::int64_t total_epochs,
             std::int64_t iterations_per_epoch, std::uint64_t seed, curriculum_options options = {})
      : schedule_(std::move(schedule)),
        batch_policy_(std::move(batch_policy)),
        stage_policy_(std::move(stage_policy)),
        sampler_(std::move(sampler)),
        total_epochs_(total_epochs),
        iterations_(iterations_per_epoch),
        seed_(seed),
        options_(options) {
    require(total_epochs >= 1, "total epochs ", total_epochs, " must be >= 1");
    require(iterations_per_epoch >= 1, "iterations per epoch ", iterations_per_epoch, " must be >= 1");
    const patch_stage_list& list = schedule_.stages();
    detail::require_valid(list);
    target_ = list.target;
    candidates_ = list.candidates;

    std::vector<extent3> flat;
    for (const auto& stage_patches : candidates_)
      flat.insert(flat.end(), stage_patches.begin(), stage_patches.end());
    const std::vector<std::int64_t> flat_batches = batch_policy_.batches(flat, target_);
    require(flat_batches.size() == flat.size(), "batch policy returned ", flat_batches.size(),
            " batches for ", flat.size(), " patches");
    const std::vector<extent3> target_only{target_};
    baseline_batch_ = batch_policy_.batches(target_only, target_).at(0);
    require(baseline_batch_ >= 1, "batch policy gave batch ", baseline_batch_, " for the target ", target_);

    std::size_t next = 0;
    stage_context context;
    context.stage_count = list.stage_count();
    context.total_epochs = total_epochs_;
    context.iterations_per_epoch = iterations_;
    for (const auto& stage_patches : candidates_) {
      std::vector<std::int64_t> batches;
      double voxels = 0;
      std::size_t nominal = 0;
      for (std::size_t c = 0; c < stage_patches.size(); ++c, ++next) {
        const std::int64_t batch = flat_batches[next];
        require(batch >= 1, "batch policy gave batch ", batch, " for patch ", stage_patches[c],
                "; must be >= 1");
        batches.push_back(batch);
        voxels += static_cast<double>(batch) * static_cast<double>(voxel_count(stage_patches[c]));
        if (voxel_count(stage_patches[c]) > voxel_count(stage_patches[nominal])) nominal = c;
      }
      context.voxels_per_iteration.push_back(voxels / static_cast<double>(stage_patches.size()));
      nominal_.push_back(step_shape{stage_patches[nominal], batches[nominal]});
      candidate_batches_.push_back(std::move(batches));
    }
    voxels_per_iteration_ = context.voxels_per_iteration;
    stage_policy_.start(context);
    check_stage_starts();
  }

  // --- stages -------------------------------------------------------------------------------

  [[nodiscard]] std::int32_t stage_count() const { return static_cast<std::int32_t>(candidates_.size()); }

  // Every stage with its nominal patch (the largest candidate of a random stage) and batch. With
  // an adaptive stage policy (plateau) the stages already begun are final, the current stage's
  // end and the later stages are the policy's projection and may move earlier after report().
  [[nodiscard]] std::vector<stage> stages() const {
    std::vector<stage> out;
    out.reserve(candidates_.size());
    for (std::int32_t i = 0; i < stage_count(); ++i) out.push_back(stage_by_index(i));
    return out;
  }

  [[nodiscard]] stage stage_at(std::int64_t epoch) const {
    return stage_by_index(stage_index_at(stage_policy_.stage_starts(), epoch));
  }

  // The patch and batch of one step. Differs from the stage's only for a stage with several
  // candidates, which draws one per (seed, epoch, iteration), the same on every rank.
  [[nodiscard]] step_shape step_at(std::int64_t epoch, std::int64_t iteration) const {
    const auto index = static_cast<std::size_t>(stage_index_at(stage_policy_.stage_starts(), epoch));
    const auto& patches = candidates_[index];
    if (patches.size() == 1) return {patches[0], candidate_batches_[index][0]};
    random_stream draw(
        counter{seed_, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(iteration), 0, 0},
        stream_purpose::schedule);
    const auto pick = static_cast<std::size_t>(draw.below(patches.size()));
    return {patches[pick], candidate_batches_[index][pick]};
  }
  [[nodiscard]] extent3 patch_at(std::int64_t epoch, std::int64_t iteration) const {
    return step_at(epoch, iteration).patch;
  }
  [[nodiscard]] std::int64_t batch_at(std::int64_t epoch, std::int64_t iteration) const {
    return step_at(epoch, iteration).batch;
  }

  // Rank `rank`'s share of the global batch of one step (see pgps::make_batch_plan).
  [[nodiscard]] batch_plan plan(std::int64_t epoch, std::int64_t iteration, std::int32_t rank = 0,
                                std::int32_t world_size = 1) const {
    const step_shape shape = step_at(epoch, iteration);
    return make_batch_plan(sampler_, shape.patch, shape.batch, seed_, static_cast<std::uint64_t>(epoch),
                           static_cast<std::uint64_t>(iteration), rank, world_size);
  }

  // Validation always runs at the full patch, with the baseline's batch.
  [[nodiscard]] const extent3& target_patch() const { return target_; }
  [[nodiscard]] std::int64_t baseline_batch() const { return baseline_batch_; }

  // --- feedback, learning rate, cost ----------------------------------------------------------

  // The validation metric of an epoch, already reduced across ranks by the host. Only an
  // adaptive stage policy listens; for the others this is a no-op.
  void report(std::int64_t epoch, double metric) {
    if constexpr (AdaptiveStagePolicy<P>) {
      stage_policy_.report(epoch, metric);
      check_stage_starts();
    } else {
      (void)epoch;
      (void)metric;
    }
  }

  [[nodiscard]] double lr_factor(std::int64_t epoch) const {
    return pgps::lr_factor(options_.lr, stage_at(epoch).batch, baseline_batch_);
  }

  [[nodiscard]] cost_summary cost() const {
    const std::vector<stage> all = stages();
    return estimate_cost(all, voxels_per_iteration_, iterations_, target_, baseline_batch_);
  }
  // Voxels processed relative to the constant baseline (same epochs, iterations, target batch).
  [[nodiscard]] double voxel_fraction() const { return cost().voxel_fraction; }
  [[nodiscard]] std::span<const double> voxels_per_iteration() const { return voxels_per_iteration_; }

  // --- state ------------------------------------------------------------------------------------

  // A short text: a magic word and version, the run's shape and a fingerprint of its stages
  // (so a state from another configuration is refused), then the stage policy's own state.
  [[nodiscard]] std::string save_state() const {
    return "pgps-curriculum " + std::to_string(curriculum_state_version) + "\nepochs " +
           std::to_string(total_epochs_) + " iterations " + std::to_string(iterations_) + " seed " +
           std::to_string(seed_) + "\nfingerprint " + std::to_string(fingerprint()) + "\npolicy " +
           stage_policy_.save_state() + '\n';
  }

  void restore_state(std::string_view text) {
    detail::state_reader in(text);
    const std::string_view magic = in.token("the word pgps-curriculum");
    if (magic != "pgps-curriculum") {
      fail("not a pgps curriculum state: it starts with '", magic, "' instead of 'pgps-curriculum'");
    }
    const std::int64_t version = in.integer("state version");
    if (version != curriculum_state_version) {
      fail("unsupported curriculum state version ", version, "; this pgps reads version ",
           curriculum_state_version);
    }
    in.expect("epochs");
    const std::int64_t epochs = in.integer("total epochs");
    in.expect("iterations");
    const std::int64_t iterations = in.integer("iterations per epoch");
    in.expect("seed");
    const std::string seed_text(in.token("seed"));
    if (epochs != total_epochs_ || iterations != iterations_ || seed_text != std::to_string(seed_)) {
      fail("the saved curriculum state is for ", epochs, " epochs x ", iterations, " iterations with seed ",
           seed_text, ", but this curriculum has ", total_epochs_, " x ", iterations_, " with seed ", seed_);
    }
    in.expect("fingerprint");
    const std::string fingerprint_text(in.token("fingerprint"));
    if (fingerprint_text != std::to_string(fingerprint())) {
      fail("the saved curriculum state has stage fingerprint ", fingerprint_text,
           " but this curriculum's is ", fingerprint(), "; its patches or batches differ");
    }
    in.expect("policy");
    P restored = stage_policy_;
    restored.restore_state(in.rest());
    stage_policy_ = std::move(restored);
    check_stage_starts();
  }

  // --- parts ------------------------------------------------------------------------------------

  [[nodiscard]] const S& schedule() const { return schedule_; }
  [[nodiscard]] const B& batch_policy() const { return batch_policy_; }
  [[nodiscard]] const P& stage_policy() const { return stage_policy_; }
  [[nodiscard]] const Smp& sampler() const { return sampler_; }
  [[nodiscard]] std::int64_t total_epochs() const { return total_epochs_; }
  [[nodiscard]] std::int64_t iterations_per_epoch() const { return iterations_; }
  [[nodiscard]] std::uint64_t seed() const { return seed_; }
  [[nodiscard]] const std::vector<extent3>& candidates(std::int32_t stage_index) const {
    return candidates_.at(static_cast<std::size_t>(stage_index));
  }
  [[nodiscard]] const std::vector<std::int64_t>& candidate_batches(std::int32_t stage_index) const {
    return candidate_batches_.at(static_cast<std::size_t>(stage_index));
  }

 private:
  [[nodiscard]] stage stage_by_index(std::int32_t index) const {
    const std::span<const std::int64_t> starts = stage_policy_.stage_starts();
    const auto i = static_cast<std::size_t>(index);
    const std::int64_t end = i + 1 < starts.size() ? starts[i + 1] : total_epochs_;
    return stage{index, nominal_[i].patch, nominal_[i].batch, starts[i], end - starts[i]};
  }

  // Guards against a user's stage policy that breaks the contract.
  void check_stage_starts() const {
    const std::span<const std::int64_t> starts = stage_policy_.stage_starts();
    require(starts.size() == candidates_.size(), "stage policy gave ", starts.size(), " stage starts for ",
            candidates_.size(), " stages");
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const std::int64_t low = i == 0 ? 0 : starts[i - 1] + 1;
      require(i == 0 ? starts[0] == 0 : starts[i] >= low, "stage policy: stage ", i, " starts at epoch ",
              starts[i], "; stages must start at 0 and strictly increase");
    }
    require(starts.back() < total_epochs_, "stage policy: the last stage starts at epoch ", starts.back(),
            ", not before the end (", total_epochs_, ")");
  }

  // FNV-1a over the target, every candidate patch and its batch.
  [[nodiscard]] std::uint64_t fingerprint() const {
    std::uint64_t hash = 1469598103934665603ull;
    const auto mix = [&hash](std::int64_t value) {
      for (int byte = 0; byte < 8; ++byte) {
        hash ^= static_cast<std::uint64_t>(value >> (8 * byte)) & 0xFFu;
        hash *= 1099511628211ull;
      }
    };
    for (int a = 0; a < axis_count; ++a) mix(target_[a]);
    for (std::size_t s = 0; s < candidates_.size(); ++s) {
      mix(static_cast<std::int64_t>(s));
      for (std::size_t c = 0; c < candidates_[s].size(); ++c) {
        for (int a = 0; a < axis_count; ++a) mix(candidates_[s][c][a]);
        mix(candidate_batches_[s][c]);
      }
    }
    return hash;
  }

  S schedule_;
  B batch_policy_;
  P stage_policy_;
  Smp sampler_;
  std::int64_t total_epochs_;
  std::int64_t iterations_;
  std::uint64_t seed_;
  curriculum_options options_;
  extent3 target_;
  std::int64_t baseline_batch_ = 0;
  std::vector<std::vector<extent3>> candidates_;
  std::vector<std::vector<std::int64_t>> candidate_batches_;
  std::vector<step_shape> nominal_;
  std::vector<double> voxels_per_iteration_;
};

// The curricula a user reaches for, one line each. pooling is the number of 2x poolings per
// axis (z, y, x) of the network, as in an nnU-Net plan; batch is the plan's batch (b0).
namespace presets {

template <Sampler Smp>
using efficiency_curriculum = curriculum<progressive_growth, constant_batch, equal_epochs, Smp>;
template <Sampler Smp>
using performance_curriculum = curriculum<progressive_growth, constant_voxels, equal_epochs, Smp>;
template <Sampler Smp>
using plus_curriculum = curriculum<round_robin_growth, backward_planning, equal_epochs, Smp>;
template <Sampler Smp>
using random_curriculum = curriculum<random_per_iteration, constant_batch, equal_epochs, Smp>;
template <Sampler Smp>
using ramp_curriculum = curriculum<linear_ramp, constant_batch, explicit_epochs, Smp>;
template <Sampler Smp>
using baseline_curriculum = curriculum<constant_patch, constant_batch, equal_epochs, Smp>;

// The paper's resource-efficient mode: progressive growth, constant batch, equal epochs.
template <Sampler Smp>
efficiency_curriculum<Smp> pgps_efficiency(const extent3& target, const extent3& pooling, std::int64_t batch,
                                           std::int64_t epochs, std::int64_t iterations, Smp sampler,
                                           std::uint64_t seed, curriculum_options options = {}) {
  return {progressive_growth::from_pooling(target, pooling),
          constant_batch(batch),
          equal_epochs{},
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

// The paper's performance mode: progressive growth, constant voxels per batch, equal epochs.
template <Sampler Smp>
performance_curriculum<Smp> pgps_performance(const extent3& target, const extent3& pooling,
                                             std::int64_t batch, std::int64_t epochs, std::int64_t iterations,
                                             Smp sampler, std::uint64_t seed,
                                             curriculum_options options = {}) {
  return {progressive_growth::from_pooling(target, pooling),
          constant_voxels(batch),
          equal_epochs{},
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

// The first published variant, "PGPS+" (MICCAI 2024): round-robin growth from y with backward
// batch planning.
template <Sampler Smp>
plus_curriculum<Smp> pgps_plus(const extent3& target, const extent3& pooling, std::int64_t batch,
                               std::int64_t epochs, std::int64_t iterations, Smp sampler, std::uint64_t seed,
                               curriculum_options options = {}) {
  return {round_robin_growth::from_pooling(target, pooling),
          backward_planning(batch),
          equal_epochs{},
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

// The published random-patch-size ablation ("RPSS"): one patch per iteration, uniformly from the
// round-robin stage list the reference draws from, constant batch.
template <Sampler Smp>
random_curriculum<Smp> random_patch_size(const extent3& target, const extent3& pooling, std::int64_t batch,
                                         std::int64_t epochs, std::int64_t iterations, Smp sampler,
                                         std::uint64_t seed, curriculum_options options = {}) {
  return {random_per_iteration::from(round_robin_growth::from_pooling(target, pooling)),
          constant_batch(batch),
          equal_epochs{},
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

// A linear ramp (Composer-style progressive resizing in 3D) with the pooling step as increment.
template <Sampler Smp>
ramp_curriculum<Smp> linear_ramp_resizing(const extent3& target, const extent3& pooling, std::int64_t batch,
                                          std::int64_t epochs, std::int64_t iterations, Smp sampler,
                                          std::uint64_t seed, linear_ramp::options ramp = {},
                                          curriculum_options options = {}) {
  detail::require_positive_extent(target, "target patch");
  linear_ramp schedule(target, pooling_step(pooling, target), epochs, ramp);
  explicit_epochs lengths(schedule.stage_epochs());
  return {std::move(schedule),
          constant_batch(batch),
          std::move(lengths),
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

// The baseline: the target patch and batch for the whole run.
template <Sampler Smp>
baseline_curriculum<Smp> constant_baseline(const extent3& target, std::int64_t batch, std::int64_t epochs,
                                           std::int64_t iterations, Smp sampler, std::uint64_t seed,
                                           curriculum_options options = {}) {
  return {constant_patch(target),
          constant_batch(batch),
          equal_epochs{},
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

// Progressive growth that advances on a validation plateau, with any batch policy.
template <BatchPolicy B, Sampler Smp>
curriculum<progressive_growth, B, plateau, Smp> pgps_plateau(const extent3& target, const extent3& pooling,
                                                             B batch_policy, plateau::options stop,
                                                             std::int64_t epochs, std::int64_t iterations,
                                                             Smp sampler, std::uint64_t seed,
                                                             curriculum_options options = {}) {
  return {progressive_growth::from_pooling(target, pooling),
          std::move(batch_policy),
          plateau(stop),
          std::move(sampler),
          epochs,
          iterations,
          seed,
          options};
}

}  // namespace presets
}  // namespace pgps
