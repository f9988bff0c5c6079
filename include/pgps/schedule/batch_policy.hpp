// Batch policies: the global batch size for each patch of a schedule.
//
// A policy sees the whole ordered list of patches at once (backward planning needs the next
// stage's batch) and the target patch. Batch sizes use exact integer arithmetic: the paper's code
// computes int(b0 * V_target / V_stage) in floating point, which agrees with the integer floor
// for every patch that fits in memory (the quotient is never within 1/V of an integer without
// being one).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"

namespace pgps {

template <class B>
concept BatchPolicy = requires(const B& policy, std::span<const extent3> patches, const extent3& target) {
  { policy.batches(patches, target) } -> std::same_as<std::vector<std::int64_t>>;
};

namespace detail {
inline void require_batch(std::int64_t batch, const char* what) {
  require(batch >= 1, what, ' ', batch, " must be >= 1");
}
}  // namespace detail

// The resource-efficient mode: the same batch for every patch.
struct constant_batch {
  std::int64_t batch = 2;

  explicit constant_batch(std::int64_t b) : batch(b) { detail::require_batch(b, "batch size"); }
  [[nodiscard]] std::vector<std::int64_t> batches(std::span<const extent3> patches, const extent3&) const {
    return std::vector<std::int64_t>(patches.size(), batch);
  }
};

// The performance mode: as many patches as keep the voxels per batch at those of the target,
// floor(b0 * V_target / V_patch), at least 1 (a patch larger than the target, which only the
// reference overshoot produces, gets floor(...) too, and 1 where that is 0).
struct constant_voxels {
  std::int64_t batch = 2;  // b0, the batch at the target patch

  explicit constant_voxels(std::int64_t b) : batch(b) { detail::require_batch(b, "batch size"); }
  [[nodiscard]] std::vector<std::int64_t> batches(std::span<const extent3> patches,
                                                  const extent3& target) const {
    std::vector<std::int64_t> out;
    out.reserve(patches.size());
    for (const extent3& patch : patches) {
      const std::int64_t b = batch * voxel_count(target) / voxel_count(patch);
      out.push_back(b < 1 ? 1 : b);
    }
    return out;
  }
};

// The first published variant's ("PGPS+") backward planning: the last stage has b0, and stage i
// gets floor(raw_{i+1} * V_{i+1} / V_i) from the *unclamped* batch of the next stage, then at
// least b0. (The reference starts the chain from a hard-coded 2, nnU-Net's usual b0; pgps starts
// from b0, which is the same for b0 = 2.)
struct backward_planning {
  std::int64_t batch = 2;

  explicit backward_planning(std::int64_t b) : batch(b) { detail::require_batch(b, "batch size"); }
  [[nodiscard]] std::vector<std::int64_t> batches(std::span<const extent3> patches, const extent3&) const {
    std::vector<std::int64_t> out(patches.size(), batch);
    if (patches.empty()) return out;
    std::int64_t raw = batch;
    for (std::size_t i = patches.size() - 1; i-- > 0;) {
      raw = raw * voxel_count(patches[i + 1]) / voxel_count(patches[i]);
      out[i] = raw < batch ? batch : raw;
    }
    return out;
  }
};

// As many patches as fit a memory budget: floor((budget - fixed) / (bytes_per_voxel * V)),
// capped. bytes_per_voxel is the network's activation memory per input voxel (given by the user,
// or measured by running one batch); fixed_bytes covers weights, optimizer state and workspace.
struct memory_budget {
  double budget_bytes = 0;
  double bytes_per_voxel = 0;
  double fixed_bytes = 0;
  std::int64_t cap = 0;  // the largest batch allowed

  memory_budget(double budget, double per_voxel, std::int64_t max_batch, double fixed = 0)
      : budget_bytes(budget), bytes_per_voxel(per_voxel), fixed_bytes(fixed), cap(max_batch) {
    require(budget > 0, "memory budget ", budget, " bytes must be > 0");
    require(per_voxel > 0, "bytes per voxel ", per_voxel, " must be > 0");
    require(fixed >= 0 && fixed < budget, "fixed memory ", fixed, " bytes must be in [0, budget ", budget,
            ")");
    detail::require_batch(max_batch, "batch cap");
  }
  [[nodiscard]] std::int64_t batch_for(const extent3& patch) const {
    const double fits = std::floor((budget_bytes - fixed_bytes) /
                                   (bytes_per_voxel * static_cast<double>(voxel_count(patch))));
    require(fits >= 1, "patch ", patch, " needs ",
            bytes_per_voxel * static_cast<double>(voxel_count(patch)) + fixed_bytes,
            " bytes for one sample, more than the memory budget of ", budget_bytes, " bytes");
    return fits > static_cast<double>(cap) ? cap : static_cast<std::int64_t>(fits);
  }
  [[nodiscard]] std::vector<std::int64_t> batches(std::span<const extent3> patches, const extent3&) const {
    std::vector<std::int64_t> out;
    out.reserve(patches.size());
    for (const extent3& patch : patches) out.push_back(batch_for(patch));
    return out;
  }
};

static_assert(BatchPolicy<constant_batch>);
static_assert(BatchPolicy<constant_voxels>);
static_assert(BatchPolicy<backward_planning>);
static_assert(BatchPolicy<memory_budget>);

// Learning-rate factor per stage as the batch changes, relative to the target's batch, as
// multigrid training scales it. Off by default, as in the paper.
enum class lr_scaling : std::uint8_t { none, linear, sqrt };

inline double lr_factor(lr_scaling scaling, std::int64_t batch, std::int64_t reference_batch) {
  const double ratio = static_cast<double>(batch) / static_cast<double>(reference_batch);
  switch (scaling) {
    case lr_scaling::linear:
      return ratio;
    case lr_scaling::sqrt:
      return std::sqrt(ratio);
    case lr_scaling::none:
      break;
  }
  return 1.0;
}

}  // namespace pgps
