// Where a box may go and how it is put around a chosen voxel: nnU-Net's bounds (boxes may
// overhang and get padded) and MONAI's inside-the-image rule, shared by every sampler.
#pragma once

#include <cmath>
#include <cstdint>

#include "pgps/core/config.hpp"
#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/sampler.hpp"

namespace pgps {

// Inclusive range of a box's lower corner.
struct lower_corner_range {
  index3 min;
  index3 max;
};

namespace detail {
// Python's a // b for b > 0.
PGPS_HD constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
PGPS_HD constexpr std::int64_t clamp64(std::int64_t v, std::int64_t lo, std::int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}
}  // namespace detail

// nnU-Net's get_bbox bounds (nnunetv2 base_data_loader): need = extra_pad, raised to
// patch − shape where the volume is smaller than the patch; lower corner in
// [(−need) // 2, shape + need // 2 + need % 2 − patch] with Python's floor division, so an odd
// need puts the extra voxel of padding below for the lowest box, above for the highest.
PGPS_HD constexpr lower_corner_range nnunet_lower_bounds(const extent3& shape, const extent3& patch,
                                                         const extent3& extra_pad = {}) {
  lower_corner_range r;
  for (int a = 0; a < axis_count; ++a) {
    std::int64_t need = extra_pad[a];
    if (need + shape[a] < patch[a]) need = patch[a] - shape[a];
    r.min[a] = detail::floor_div(-need, 2);
    r.max[a] = shape[a] + need / 2 + need % 2 - patch[a];
  }
  return r;
}

// How a box is put around a chosen centre voxel v (p = patch, s = shape, per axis).
enum class placement : std::uint8_t {
  // nnU-Net exactly: lower = max(lb, v − p // 2) with nnU-Net's lb. The box may overhang the
  // upper end by up to ceil(p/2) − 1 voxels past nnU-Net's own upper bound.
  nnunet,
  // As nnunet, then also clamped to nnU-Net's upper bound: lower in [lb, ub].
  nnunet_clamped,
  // MONAI (correct_crop_centers + SpatialCrop): the box lies inside the image. A patch larger
  // than the image on an axis is an error when planned (MONAI's allow_smaller = False).
  inside_image,
  // MONAI's allow_smaller = True: where the patch is larger than the image the box covers the
  // whole axis and is padded symmetrically (floor half below, as SpatialPad does).
  inside_image_allow_smaller,
};

inline const char* to_string(placement p) {
  switch (p) {
    case placement::nnunet:
      return "nnunet";
    case placement::nnunet_clamped:
      return "nnunet_clamped";
    case placement::inside_image:
      return "inside_image";
    case placement::inside_image_allow_smaller:
      return "inside_image_allow_smaller";
  }
  return "unknown";
}

// Lower corner of the box of extent `patch` that placement p puts around voxel v of a volume
// of extent `shape`. The box always contains v. For inside_image the caller has checked
// patch <= shape (fits_inside).
PGPS_HD constexpr index3 place_around(const index3& v, const extent3& shape, const extent3& patch,
                                      placement p, const extent3& extra_pad = {}) {
  index3 lower;
  if (p == placement::nnunet || p == placement::nnunet_clamped) {
    const lower_corner_range r = nnunet_lower_bounds(shape, patch, extra_pad);
    for (int a = 0; a < axis_count; ++a) {
      lower[a] = v[a] - patch[a] / 2;
      if (lower[a] < r.min[a]) lower[a] = r.min[a];
      if (p == placement::nnunet_clamped && lower[a] > r.max[a]) lower[a] = r.max[a];
    }
    return lower;
  }
  for (int a = 0; a < axis_count; ++a) {
    if (patch[a] > shape[a]) {
      lower[a] = -((patch[a] - shape[a]) / 2);
    } else {
      lower[a] = detail::clamp64(v[a] - patch[a] / 2, 0, shape[a] - patch[a]);
    }
  }
  return lower;
}

PGPS_HD constexpr bool fits_inside(const extent3& shape, const extent3& patch) {
  return patch[0] <= shape[0] && patch[1] <= shape[1] && patch[2] <= shape[2];
}

// Lower-corner range of an unforced random box under placement p.
PGPS_HD constexpr lower_corner_range random_box_range(const extent3& shape, const extent3& patch, placement p,
                                                      const extent3& extra_pad = {}) {
  if (p == placement::nnunet || p == placement::nnunet_clamped)
    return nnunet_lower_bounds(shape, patch, extra_pad);
  lower_corner_range r;
  for (int a = 0; a < axis_count; ++a) {
    if (patch[a] > shape[a]) {
      r.min[a] = r.max[a] = -((patch[a] - shape[a]) / 2);
    } else {
      r.min[a] = 0;
      r.max[a] = shape[a] - patch[a];
    }
  }
  return r;
}

// A uniform lower corner in the range, one draw per axis (z, y, x).
PGPS_HD constexpr index3 uniform_lower_corner(random_stream& stream, const lower_corner_range& r) {
  return {stream.uniform_int(r.min[0], r.max[0]), stream.uniform_int(r.min[1], r.max[1]),
          stream.uniform_int(r.min[2], r.max[2])};
}

// The two kinds of slot every sampler plans: a box around a chosen voxel (of class `forced`, or
// no_forced_class), and an unforced box drawn uniformly from the placement's range (z, y, x draws).
inline slot_plan centred_slot(std::int64_t case_id, const index3& voxel, std::int32_t forced,
                              const extent3& shape, const extent3& patch, placement where,
                              const extent3& extra_pad) {
  return {case_id, box{place_around(voxel, shape, patch, where, extra_pad), patch}, forced};
}

inline slot_plan uniform_slot(random_stream& stream, std::int64_t case_id, const extent3& shape,
                              const extent3& patch, placement where, const extent3& extra_pad) {
  return {case_id, box{uniform_lower_corner(stream, random_box_range(shape, patch, where, extra_pad)), patch},
          no_forced_class};
}

// Throws when placement p cannot place `patch` in a case of extent `shape` (inside_image and a
// patch larger than the image). Samplers call it while planning a slot, before any draw.
inline void check_placement(const extent3& shape, const extent3& patch, placement p, std::int64_t case_id) {
  if (p == placement::inside_image && !fits_inside(shape, patch)) {
    fail("patch ", patch, " is larger than case ", case_id, " (extent ", shape,
         ") and placement inside_image keeps boxes inside the image; use inside_image_allow_smaller or an "
         "nnunet "
         "placement to pad");
  }
}

// The start every sampler's plan_slot shares: its random stream, the case (always the first
// draw), and the check that placement `where` can place the request's patch in that case.
struct slot_start {
  random_stream stream;
  std::int64_t case_id = 0;
  extent3 shape;
};

inline slot_start start_slot(const dataset& data, const slot_request& request, placement where) {
  slot_start start{random_stream(request.where, stream_purpose::sampling), 0, {}};
  start.case_id = data.pick_case(start.stream);
  start.shape = data[start.case_id].shape;
  check_placement(start.shape, request.patch, where, start.case_id);
  return start;
}

// Python's round(): round half to even on the exact double value.
inline std::int64_t round_half_even(double x) {
  const double lower = std::floor(x);
  const double diff = x - lower;
  auto r = static_cast<std::int64_t>(lower);
  if (diff > 0.5 || (diff == 0.5 && (r % 2 != 0))) ++r;
  return r;
}

}  // namespace pgps
