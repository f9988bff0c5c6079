// Non-owning volume views and the one customization point that turns containers into them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>

#include "pgps/core/config.hpp"
#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"

namespace pgps {

// A view of a C×D×H×W volume (C = channels, may be 1) over memory someone else owns. Strides
// are in elements, not bytes, so the same view type serves every element type and the device.
template <class T>
struct volume_view {
  using value_type = std::remove_cv_t<T>;

  T* data = nullptr;
  extent3 extent;                   // (z, y, x) voxel counts
  index3 stride;                    // (z, y, x) element strides
  std::int64_t channels = 1;        // leading channel axis; 1 for a label volume
  std::int64_t channel_stride = 0;  // element stride between channels

  PGPS_HD constexpr std::int64_t offset(const index3& p) const {
    return p[0] * stride[0] + p[1] * stride[1] + p[2] * stride[2];
  }
  PGPS_HD constexpr T& at(const index3& p, std::int64_t channel = 0) const {
    return data[channel * channel_stride + offset(p)];
  }
  PGPS_HD constexpr T& operator()(std::int64_t z, std::int64_t y, std::int64_t x) const {
    return at(index3{z, y, x});
  }
  PGPS_HD constexpr bool row_contiguous() const { return stride[2] == 1; }
  PGPS_HD constexpr std::int64_t voxels() const { return voxel_count(extent); }

  // A view of the same memory with read-only elements. For a view that is already read-only the
  // target is a private tag type, so no conversion to the view's own type is declared (nvcc warns
  // about those even when a requires-clause disables them).
  struct already_read_only {};
  using read_only_view = std::conditional_t<std::is_const_v<T>, already_read_only, volume_view<const T>>;
  constexpr operator read_only_view() const  // NOLINT(google-explicit-constructor)
      requires(!std::is_const_v<T>) {
    return {data, extent, stride, channels, channel_stride};
  }
};

static_assert(std::is_trivially_copyable_v<volume_view<float>>);

namespace detail {
// Rejects views whose element addresses could collide: with positive strides sorted ascending,
// each stride must step over the whole span of the faster axes.
inline void check_strides_injective(const extent3& extent, const index3& stride, std::int64_t channels,
                                    std::int64_t channel_stride) {
  struct axis_span {
    std::int64_t stride;
    std::int64_t count;
  };
  std::array<axis_span, 4> axes{{{stride[0], extent[0]},
                                 {stride[1], extent[1]},
                                 {stride[2], extent[2]},
                                 {channels > 1 ? channel_stride : 0, channels}}};
  for (int a = 0; a < axis_count; ++a) {
    require(stride[a] > 0 || extent[a] == 1, "volume stride ", stride, " has a non-positive entry on axis ",
            a, "; strides must be positive element counts");
  }
  require(channels == 1 || channel_stride > 0, "channel stride ", channel_stride, " for ", channels,
          " channels must be positive");
  std::sort(axes.begin(), axes.end(),
            [](const axis_span& a, const axis_span& b) { return a.stride < b.stride; });
  std::int64_t span = 1;  // elements covered by the faster axes so far
  for (const axis_span& axis : axes) {
    if (axis.count <= 1) continue;
    require(axis.stride >= span, "volume strides ", stride, " (channel stride ", channel_stride,
            ") overlap for extent ", extent, " and ", channels,
            " channels: each stride must be at least the span of the faster axes (", span, ")");
    span = axis.stride * axis.count;
  }
}
}  // namespace detail

// Builds a validated view: non-null data, positive extents, channels >= 1, non-overlapping
// strides. Use this at the boundary; hot loops take the view as it is.
template <class T>
volume_view<T> make_volume_view(T* data, const extent3& extent, const index3& stride,
                                std::int64_t channels = 1, std::int64_t channel_stride = 0) {
  require(data != nullptr, "volume data pointer is null; a view needs memory to look at");
  require(all_positive(extent), "volume extent ", extent, " has a non-positive axis; each axis must be >= 1");
  require(channels >= 1, "volume channel count ", channels, " must be >= 1");
  if (channels == 1 && channel_stride == 0) channel_stride = voxel_count(extent);
  detail::check_strides_injective(extent, stride, channels, channel_stride);
  return {data, extent, stride, channels, channel_stride};
}

// Row-major C×D×H×W memory, channel first, as numpy, torch and nnU-Net store it.
template <class T>
volume_view<T> contiguous_view(T* data, const extent3& extent, std::int64_t channels = 1) {
  const index3 stride{extent[1] * extent[2], extent[2], 1};
  return make_volume_view(data, extent, stride, channels, voxel_count(extent));
}

// Customization point: specialize volume_traits<Container> with
//   static auto view(Container&) -> volume_view<T>
// to let pgps read a container. The adapters provide it for xtensor and Eigen::Tensor.
template <class Container>
struct volume_traits;

template <class Container>
concept VolumeSource = requires(Container& c) {
  volume_traits<std::remove_cvref_t<Container>>::view(c);
};

template <class Container>
requires VolumeSource<Container>
auto view_of(Container&& container) { return volume_traits<std::remove_cvref_t<Container>>::view(container); }

// A view passes through unchanged, so every API that takes a VolumeSource also takes a view.
template <class T>
struct volume_traits<volume_view<T>> {
  static volume_view<T> view(const volume_view<T>& v) { return v; }
};

}  // namespace pgps
