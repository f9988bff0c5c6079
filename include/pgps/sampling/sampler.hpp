// The Sampler concept and the one function that turns a sampler into a batch plan for a rank.
#pragma once

#include <concepts>
#include <cstdint>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/sampling/batch_plan.hpp"

namespace pgps {

// What a sampler is asked for one slot. where.slot is the slot's index in the *global* batch and
// where.rank is 0, so the slot is the same whichever rank plans it (see counter).
struct slot_request {
  extent3 patch;
  std::int64_t global_batch = 0;
  counter where;
};

// A sampler picks the case and the box of one slot, as a pure function of the request.
template <class S>
concept Sampler = requires(const S& sampler, const slot_request& request) {
  { sampler.plan_slot(request) } -> std::same_as<slot_plan>;
};

// The contiguous block of global slots that rank `rank` of `world_size` fills: [first, end).
struct slot_range {
  std::int64_t first = 0;
  std::int64_t end = 0;
};

inline slot_range slots_of_rank(std::int64_t global_batch, std::int32_t rank, std::int32_t world_size) {
  require(world_size >= 1, "world size ", world_size, " must be >= 1");
  require(rank >= 0 && rank < world_size, "rank ", rank, " is outside [0, ", world_size, ")");
  require(global_batch >= world_size, "global batch ", global_batch, " is smaller than the world size ",
          world_size, "; every rank needs at least one slot");
  return {global_batch * rank / world_size, global_batch * (rank + 1) / world_size};
}

// Plans rank `rank`'s share of a global batch. The union of the plans of all ranks equals the
// plan of a single process with the same global batch.
template <Sampler S>
batch_plan make_batch_plan(const S& sampler, const extent3& patch, std::int64_t global_batch,
                           std::uint64_t seed, std::uint64_t epoch, std::uint64_t iteration,
                           std::int32_t rank = 0, std::int32_t world_size = 1) {
  require(all_positive(patch), "patch extent ", patch, " has a non-positive axis; each axis must be >= 1");
  require(global_batch >= 1, "global batch ", global_batch, " must be >= 1");
  const slot_range range = slots_of_rank(global_batch, rank, world_size);
  batch_plan plan;
  plan.patch = patch;
  plan.global_batch = global_batch;
  plan.first_slot = range.first;
  plan.slots.reserve(static_cast<std::size_t>(range.end - range.first));
  for (std::int64_t slot = range.first; slot < range.end; ++slot) {
    const counter where{seed, epoch, iteration, 0, static_cast<std::uint32_t>(slot)};
    plan.slots.push_back(sampler.plan_slot(slot_request{patch, global_batch, where}));
  }
  return plan;
}

}  // namespace pgps
