// Expected class balance of the boxes a sampler plans: the fraction of patch voxels of each
// class, estimated by Monte Carlo over planned slots and counted exactly from the class index.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <span>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/sampling/class_index.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/sampler.hpp"

namespace pgps {

struct class_balance_estimate {
  std::vector<double> per_class;  // mean fraction of patch voxels of each class (0 = background)
  double foreground = 0;          // sum over classes >= 1
  double padding = 0;             // mean fraction of patch voxels outside the volume
  std::int64_t boxes = 0;         // planned boxes averaged over

  friend std::ostream& operator<<(std::ostream& out, const class_balance_estimate& f) {
    out << "class_balance_estimate{foreground " << f.foreground << ", padding " << f.padding << ", boxes "
        << f.boxes << ", [";
    for (std::size_t c = 0; c < f.per_class.size(); ++c) out << (c ? ", " : "") << f.per_class[c];
    return out << "]}";
  }
};

// Stored locations of class c (sorted C-order offsets) inside a box already clipped to the
// volume. Each z plane of the box is one contiguous offset range holding rows y0..y1-1; per
// plane we either binary-search every row or scan the plane's range and test x, whichever
// touches fewer entries.
inline std::int64_t count_locations_in_box(std::span<const std::uint32_t> sorted, const extent3& shape,
                                           const index3& lo, const index3& hi) {
  if (sorted.empty()) return 0;
  const std::int64_t w = shape[2], plane = shape[1] * shape[2];
  auto first_at_least = [&](const std::uint32_t* from, const std::uint32_t* to, std::int64_t offset) {
    return std::lower_bound(from, to, offset, [](std::uint32_t element, std::int64_t value) {
      return static_cast<std::int64_t>(element) < value;
    });
  };
  const std::uint32_t* begin = sorted.data();
  const std::uint32_t* end = sorted.data() + sorted.size();
  // Whole box range first: most classes are absent from most boxes.
  const std::int64_t box_first = lo[0] * plane + lo[1] * w + lo[2];
  const std::int64_t box_last = (hi[0] - 1) * plane + (hi[1] - 1) * w + hi[2];  // exclusive
  begin = first_at_least(begin, end, box_first);
  if (begin == end || static_cast<std::int64_t>(*begin) >= box_last) return 0;
  end = first_at_least(begin, end, box_last);
  const std::int64_t rows = hi[1] - lo[1];
  std::int64_t count = 0;
  for (std::int64_t z = lo[0]; z < hi[0] && begin != end; ++z) {
    const std::int64_t plane_first = z * plane + lo[1] * w + lo[2];
    const std::int64_t plane_last = z * plane + (hi[1] - 1) * w + hi[2];
    const std::uint32_t* p0 = first_at_least(begin, end, plane_first);
    const std::uint32_t* p1 = first_at_least(p0, end, plane_last);
    begin = p1;
    const std::int64_t in_range = p1 - p0;
    if (in_range == 0) continue;
    if (rows == 1 || (hi[2] - lo[2] == w)) {  // the range holds exactly the box's voxels
      count += in_range;
      continue;
    }
    const double search_cost =
        static_cast<double>(rows) * 2.0 * std::log2(static_cast<double>(in_range) + 1.0);
    if (static_cast<double>(in_range) <= search_cost) {
      for (const std::uint32_t* p = p0; p != p1; ++p) {
        const std::int64_t x = static_cast<std::int64_t>(*p) % w;
        count += (x >= lo[2] && x < hi[2]) ? 1 : 0;
      }
    } else {
      const std::uint32_t* cursor = p0;
      for (std::int64_t y = lo[1]; y < hi[1]; ++y) {
        const std::uint32_t* a = first_at_least(cursor, p1, z * plane + y * w + lo[2]);
        const std::uint32_t* b = first_at_least(a, p1, z * plane + y * w + hi[2]);
        count += b - a;
        cursor = b;
      }
    }
  }
  return count;
}

// Mean class fractions of `batches` global batches of `global_batch` slots planned by the
// sampler for `patch` (iterations 0..batches-1 of epoch 0 with the given seed). Stored counts
// are scaled by true_count / stored_count, so subsampled indexes give unbiased estimates.
// Background, when a case's index does not store it, is the in-volume remainder.
template <Sampler S>
class_balance_estimate estimate_class_fractions(const S& sampler, const dataset& data, const extent3& patch,
                                                std::int64_t global_batch, std::int64_t batches,
                                                std::uint64_t seed) {
  require(!data.empty(), "estimate_class_fractions: the dataset has no cases");
  require(all_positive(patch), "estimate_class_fractions: patch ", patch, " has a non-positive axis");
  require(global_batch >= 1, "estimate_class_fractions: global batch ", global_batch, " must be >= 1");
  require(batches >= 1, "estimate_class_fractions: batches ", batches, " must be >= 1");
  const auto k = static_cast<std::size_t>(data.num_classes());
  class_balance_estimate result;
  result.per_class.assign(k, 0.0);
  const double patch_voxels = static_cast<double>(voxel_count(patch));
  std::vector<double> counts(k);
  for (std::int64_t it = 0; it < batches; ++it) {
    for (std::int64_t slot = 0; slot < global_batch; ++slot) {
      const counter where{seed, 0, static_cast<std::uint64_t>(it), 0, static_cast<std::uint32_t>(slot)};
      const slot_plan plan = sampler.plan_slot(slot_request{patch, global_batch, where});
      require(plan.case_id >= 0 && plan.case_id < data.size(),
              "estimate_class_fractions: the sampler planned case ", plan.case_id, " but the dataset has ",
              data.size(), " cases");
      const class_index& index = *data[plan.case_id].index;
      const extent3& shape = index.shape();
      const index3 lo = elementwise_max(plan.region.lower, index3{0, 0, 0});
      const index3 hi = elementwise_min(plan.region.upper(), shape);
      double inside = 1;
      for (int a = 0; a < axis_count; ++a)
        inside *= static_cast<double>(std::max<std::int64_t>(0, hi[a] - lo[a]));
      std::fill(counts.begin(), counts.end(), 0.0);
      if (inside > 0) {
        double foreground = 0;
        for (std::size_t c = 0; c < k; ++c) {
          const auto cls = static_cast<std::int32_t>(c);
          if (!index.indexed(cls) || index.stored_count(cls) == 0) continue;
          const auto stored = count_locations_in_box(index.locations(cls), shape, lo, hi);
          counts[c] = static_cast<double>(stored) * static_cast<double>(index.true_count(cls)) /
                      static_cast<double>(index.stored_count(cls));
          if (c >= 1) foreground += counts[c];
        }
        if (!index.indexed(0)) counts[0] = std::max(0.0, inside - foreground);
      }
      for (std::size_t c = 0; c < k; ++c) result.per_class[c] += counts[c] / patch_voxels;
      result.padding += (patch_voxels - inside) / patch_voxels;
      ++result.boxes;
    }
  }
  const auto n = static_cast<double>(result.boxes);
  for (double& f : result.per_class) f /= n;
  result.padding /= n;
  for (std::size_t c = 1; c < k; ++c) result.foreground += result.per_class[c];
  return result;
}

}  // namespace pgps
