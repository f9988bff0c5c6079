// A batch plan: which case and which box each slot of a batch gets. Pure data, no pixels, so it
// is cheap, testable, serializable and the same for the CPU and the CUDA cropper.
#pragma once

#include <cstdint>
#include <ostream>
#include <type_traits>
#include <vector>

#include "pgps/core/geometry.hpp"

namespace pgps {

inline constexpr std::int32_t no_forced_class = -1;

// One slot of a batch. forced_class is the label the sampler guaranteed to be inside the box,
// or no_forced_class for a box drawn without a class constraint.
struct slot_plan {
  std::int64_t case_id = 0;
  box region;
  std::int32_t forced_class = no_forced_class;

  friend constexpr bool operator==(const slot_plan&, const slot_plan&) = default;
  friend std::ostream& operator<<(std::ostream& out, const slot_plan& s) {
    return out << "slot{case " << s.case_id << ", " << s.region << ", class " << s.forced_class << '}';
  }
};

static_assert(std::is_trivially_copyable_v<slot_plan>);

// The slots of one rank's share of a global batch. first_slot is the global index of slots[0];
// global_batch is the batch size summed over all ranks.
struct batch_plan {
  extent3 patch;
  std::int64_t global_batch = 0;
  std::int64_t first_slot = 0;
  std::vector<slot_plan> slots;

  friend bool operator==(const batch_plan&, const batch_plan&) = default;
};

}  // namespace pgps
