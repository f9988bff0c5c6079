// The CPU cropper, compiled by the host compiler, as the reference the device cropper must match.
#pragma once

#include <cstdint>
#include <vector>

#include "pgps/core/volume.hpp"
#include "pgps/crop/padding.hpp"
#include "pgps/sampling/batch_plan.hpp"

namespace pgps_test {
void cpu_fill(const pgps::batch_plan& plan, const std::vector<pgps::volume_view<const float>>& images,
              const std::vector<pgps::volume_view<const std::uint8_t>>& labels, pgps::pad_mode mode,
              std::vector<float>& image_out, std::vector<std::int64_t>& label_out);
}
