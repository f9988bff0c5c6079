// One stage of a curriculum: the patch and batch a trainer uses for a run of epochs.
#pragma once

#include <cstdint>
#include <ostream>

#include "pgps/core/geometry.hpp"

namespace pgps {

struct stage {
  std::int32_t index = 0;        // 0-based position in the schedule
  extent3 patch;                 // (z, y, x) voxels
  std::int64_t batch = 0;        // global batch size (all ranks together)
  std::int64_t first_epoch = 0;  // first epoch of the stage, 0-based
  std::int64_t epochs = 0;       // number of epochs the stage lasts

  friend constexpr bool operator==(const stage&, const stage&) = default;
  friend std::ostream& operator<<(std::ostream& out, const stage& s) {
    return out << "stage{" << s.index << ", patch " << s.patch << ", batch " << s.batch << ", epochs ["
               << s.first_epoch << ", " << s.first_epoch + s.epochs << ")}";
  }
};

}  // namespace pgps
