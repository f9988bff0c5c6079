// xtensor integration: volume_traits for every strided xtensor expression with a data
// interface (xarray, xtensor, xtensor_fixed, their adaptors, strided views), rank 3 (D×H×W)
// or rank 4 (C×D×H×W). Works with xtensor 0.24/0.25 (Debian's header layout) and 0.26+.
#pragma once

#include <cstdint>
#include <type_traits>

#if __has_include(<xtensor/containers/xarray.hpp>)
#include <xtensor/containers/xadapt.hpp>
#include <xtensor/containers/xarray.hpp>
#include <xtensor/containers/xtensor.hpp>
#include <xtensor/core/xexpression.hpp>
#else
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xtensor.hpp>
#endif

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"

namespace pgps {

namespace detail {
// An xtensor expression whose elements sit in memory at data() + data_offset() + Σ i·stride.
template <class C>
concept xtensor_strided = xt::is_xexpression<C>::value && requires(C& c) {
  c.data();
  c.data_offset();
  c.strides();
  c.shape();
};
}  // namespace detail

// Strides come from xtensor in elements, so row-major, column-major and strided views all map
// directly; a negative or overlapping stride is rejected by make_volume_view.
template <class C>
requires detail::xtensor_strided<C>
struct volume_traits<C> {
  template <class Same>
  requires std::is_same_v<std::remove_const_t<Same>, C>
  static auto view(Same& container) {
    using element = std::remove_reference_t<decltype(*container.data())>;
    const auto& shape = container.shape();
    const auto& strides = container.strides();
    const auto rank = static_cast<std::int64_t>(shape.size());
    require(rank == 3 || rank == 4, "xtensor volume has rank ", rank,
            "; pgps reads D×H×W (rank 3) or C×D×H×W (rank 4) arrays");
    const std::size_t first = rank == 4 ? 1 : 0;
    extent3 extent;
    index3 stride;
    for (int a = 0; a < axis_count; ++a) {
      extent[a] = static_cast<std::int64_t>(shape[first + static_cast<std::size_t>(a)]);
      stride[a] = static_cast<std::int64_t>(strides[first + static_cast<std::size_t>(a)]);
    }
    const std::int64_t channels = rank == 4 ? static_cast<std::int64_t>(shape[0]) : 1;
    const std::int64_t channel_stride = rank == 4 ? static_cast<std::int64_t>(strides[0]) : 0;
    element* data = container.data() + container.data_offset();
    return make_volume_view<element>(data, extent, stride, channels, channels > 1 ? channel_stride : 0);
  }
};

}  // namespace pgps
