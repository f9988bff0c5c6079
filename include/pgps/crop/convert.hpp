// Element conversion of the cropper: what a voxel of type In becomes in an output of type Out.
// Shared with a CUDA kernel (PGPS_HD, constexpr, no library calls).
#pragma once

#include <limits>
#include <type_traits>

#include "pgps/core/config.hpp"

namespace pgps {

template <class T>
concept voxel_type = std::is_arithmetic_v<T> && !std::is_same_v<std::remove_cv_t<T>, bool>;

// Rules (chosen so no conversion is undefined behaviour and labels never wrap around):
//   integer -> wider or equal integer, any -> floating point: static_cast (exact for integers up
//     to the float's mantissa, IEEE rounding otherwise).
//   integer -> narrower integer: saturates to the output's [lowest, max] instead of wrapping.
//   floating point -> integer: rounds to nearest, ties to even (numpy.rint, torch.round), then
//     saturates; NaN becomes 0.
template <voxel_type Out, voxel_type In>
PGPS_HD constexpr Out convert_value(In v) {
  if constexpr (std::is_same_v<Out, In> || std::is_floating_point_v<Out>) {
    return static_cast<Out>(v);
  } else if constexpr (std::is_integral_v<In>) {
    using in_limits = std::numeric_limits<In>;
    using out_limits = std::numeric_limits<Out>;
    constexpr bool low_fits =
        !in_limits::is_signed || (out_limits::is_signed && out_limits::digits >= in_limits::digits);
    constexpr bool high_fits = out_limits::digits >= in_limits::digits;
    if constexpr (!low_fits) {
      if (v < 0 && (!out_limits::is_signed || v < static_cast<In>(out_limits::lowest())))
        return out_limits::lowest();
    }
    if constexpr (!high_fits) {
      if (v > 0 && static_cast<unsigned long long>(v) > static_cast<unsigned long long>(out_limits::max())) {
        return out_limits::max();
      }
    }
    return static_cast<Out>(v);
  } else {
    using out_limits = std::numeric_limits<Out>;
    // NaN: std::isnan is neither constexpr in C++20 nor callable on the device.
    if (v != v) return Out{0};  // NOLINT(misc-redundant-expression)
    // The bounds as In may round away from zero (2^63 - 1 -> 2^63); >= and <= keep the
    // remaining range strictly inside Out, so the truncating cast below is defined.
    if (v >= static_cast<In>(out_limits::max())) return out_limits::max();
    if (v <= static_cast<In>(out_limits::lowest())) return out_limits::lowest();
    Out truncated = static_cast<Out>(v);
    const In fraction = v - static_cast<In>(truncated);  // exact, |fraction| < 1
    if (fraction > In(0.5) || (fraction == In(0.5) && (truncated % 2) != 0)) ++truncated;
    if (fraction < In(-0.5) || (fraction == In(-0.5) && (truncated % 2) != 0)) --truncated;
    return truncated;
  }
}

// True when the double `value` survives the trip into Out and back unchanged (NaN counts for
// floating-point outputs): pad values are checked with this before a fill writes anything.
template <voxel_type Out>
constexpr bool representable_as(double value) {
  if (value != value) return std::is_floating_point_v<Out>;  // NaN NOLINT(misc-redundant-expression)
  if constexpr (std::is_integral_v<Out>) {
    if (value < static_cast<double>(std::numeric_limits<Out>::lowest()) ||
        value > static_cast<double>(std::numeric_limits<Out>::max())) {
      return false;
    }
  }
  return static_cast<double>(convert_value<Out>(value)) == value;
}

}  // namespace pgps
