// Eigen integration: volume_traits for Eigen::Tensor and Eigen::TensorMap (rank 3 or 4,
// row- and column-major), nnU-Net's augmentation margin (the initial patch size its spatial
// augmentation needs) and patch sizes in millimetres turned into voxels.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <type_traits>
#include <unsupported/Eigen/CXX11/Tensor>
#include <utility>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"

namespace pgps {

namespace detail {
// Eigen tensor dimensions to a view. Row-major: Eigen index order is (z, y, x) [or (c, z, y, x)],
// the last index fastest, exactly pgps' order. Column-major (Eigen's default): the FIRST Eigen
// index is the fastest in memory, so a column-major tensor t(x, y, z) [or t(x, y, z, c)] is read
// with x = Eigen index 0, y = index 1, z = index 2, c = index 3; the extent is the reversed
// dimensions and the strides are (d0·d1, d0, 1) with channel stride d0·d1·d2.
template <class Element, int Rank, bool RowMajor, class Dimensions>
volume_view<Element> eigen_tensor_view(Element* data, const Dimensions& dims) {
  static_assert(Rank == 3 || Rank == 4, "pgps reads rank-3 (D×H×W) or rank-4 (C×D×H×W) Eigen tensors");
  std::array<std::int64_t, 4> d{1, 1, 1, 1};
  for (int i = 0; i < Rank; ++i) d[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(dims[i]);
  extent3 extent;
  std::int64_t channels = 1;
  if constexpr (RowMajor) {
    const std::size_t first = Rank == 4 ? 1 : 0;
    extent = {d[first], d[first + 1], d[first + 2]};
    if constexpr (Rank == 4) channels = d[0];
  } else {
    extent = {d[2], d[1], d[0]};
    if constexpr (Rank == 4) channels = d[3];
  }
  const index3 stride{extent[1] * extent[2], extent[2], 1};
  return make_volume_view<Element>(data, extent, stride, channels, voxel_count(extent));
}
}  // namespace detail

template <class T, int Rank, int Options, class IndexType>
struct volume_traits<Eigen::Tensor<T, Rank, Options, IndexType>> {
  static volume_view<T> view(Eigen::Tensor<T, Rank, Options, IndexType>& t) {
    return detail::eigen_tensor_view<T, Rank, (Options & Eigen::RowMajor) != 0>(t.data(), t.dimensions());
  }
  static volume_view<const T> view(const Eigen::Tensor<T, Rank, Options, IndexType>& t) {
    return detail::eigen_tensor_view<const T, Rank, (Options & Eigen::RowMajor) != 0>(t.data(),
                                                                                      t.dimensions());
  }
};

template <class Plain, int MapOptions, template <class> class MakePointer>
struct volume_traits<Eigen::TensorMap<Plain, MapOptions, MakePointer>> {
  using map_type = Eigen::TensorMap<Plain, MapOptions, MakePointer>;
  static constexpr bool row_major = (std::remove_const_t<Plain>::Options & Eigen::RowMajor) != 0;
  static constexpr int rank = std::remove_const_t<Plain>::NumIndices;
  // A map views memory it does not own, so a const map still writes through unless the mapped
  // type is const.
  static auto view(const map_type& m) {
    using element = std::remove_pointer_t<decltype(m.data())>;
    return detail::eigen_tensor_view<element, rank, row_major>(m.data(), m.dimensions());
  }
};

// ---- augmentation margin ----------------------------------------------------------------

// A closed range of rotation angles in radians about one axis.
struct angle_range {
  double low = 0;
  double high = 0;
};

// nnU-Net's get_patch_size (nnunetv2 nnUNetTrainer / compute_initial_patch_size), reproduced
// exactly: for each axis a ∈ {0, 1, 2} (nnU-Net's rot_x, rot_y, rot_z act on array axes 0, 1, 2)
// the angle is max(|low|, |high|) capped at 90°; the patch vector (p0, p1, p2) is multiplied as a
// row vector by the rotation about that axis alone (batchgenerators' rotate_coords_3d), its
// absolute value taken, and the elementwise maximum over the patch and the three rotations is
// divided by the smallest scale and truncated. With dummy 2D augmentation (anisotropic data)
// axis 0 keeps the patch size. Note that this rotates one corner vector only, which is what
// nnU-Net does; it is not the bounding box of the rotated patch.
inline extent3 nnunet_initial_patch_size(const extent3& patch, const std::array<angle_range, 3>& rotation,
                                         const std::pair<double, double>& scale, bool dummy_2d = false) {
  require(all_positive(patch), "initial patch size: patch ", patch, " has a non-positive axis");
  for (int a = 0; a < axis_count; ++a) {
    require(std::isfinite(rotation[static_cast<std::size_t>(a)].low) &&
                std::isfinite(rotation[static_cast<std::size_t>(a)].high),
            "initial patch size: rotation range of axis ", a, " is not finite");
  }
  const double min_scale = std::min(scale.first, scale.second);
  require(std::isfinite(min_scale) && min_scale > 0 && std::isfinite(std::max(scale.first, scale.second)),
          "initial patch size: scale range (", scale.first, ", ", scale.second,
          ") must be finite and positive");
  const double quarter_turn = 90.0 / 360.0 * 2.0 * std::numbers::pi;
  const Eigen::RowVector3d coords(static_cast<double>(patch[0]), static_cast<double>(patch[1]),
                                  static_cast<double>(patch[2]));
  Eigen::RowVector3d final_shape = coords;
  for (int a = 0; a < axis_count; ++a) {
    const angle_range& r = rotation[static_cast<std::size_t>(a)];
    const double angle = std::min(quarter_turn, std::max(std::abs(r.low), std::abs(r.high)));
    const double c = std::cos(angle), s = std::sin(angle);
    Eigen::Matrix3d m;
    if (a == 0) {
      m << 1, 0, 0, 0, c, -s, 0, s, c;
    } else if (a == 1) {
      m << c, 0, s, 0, 1, 0, -s, 0, c;
    } else {
      m << c, -s, 0, s, c, 0, 0, 0, 1;
    }
    final_shape = final_shape.cwiseMax((coords * m).cwiseAbs());
  }
  final_shape /= min_scale;
  extent3 out{static_cast<std::int64_t>(final_shape[0]), static_cast<std::int64_t>(final_shape[1]),
              static_cast<std::int64_t>(final_shape[2])};
  if (dummy_2d) out[0] = patch[0];
  return out;
}

// The same with nnU-Net's default 3D setting: ±30° about every axis and scales (0.85, 1.25); with
// dummy_2d, ±180° about axis 0 only (nnU-Net's anisotropic case).
inline extent3 nnunet_initial_patch_size(const extent3& patch, bool dummy_2d = false) {
  const double deg30 = 30.0 / 360.0 * 2.0 * std::numbers::pi, deg180 = 180.0 / 360.0 * 2.0 * std::numbers::pi;
  const std::array<angle_range, 3> rotation =
      dummy_2d ? std::array<angle_range, 3>{{{-deg180, deg180}, {0, 0}, {0, 0}}}
               : std::array<angle_range, 3>{{{-deg30, deg30}, {-deg30, deg30}, {-deg30, deg30}}};
  return nnunet_initial_patch_size(patch, rotation, {0.85, 1.25}, dummy_2d);
}

// The extra voxels per axis a sampler should cut so that the host's spatial augmentation can
// crop back to `patch` without padding showing: nnU-Net's initial patch size minus the patch.
// Pass it as a sampler's patch growth (cut initial, crop patch) or as extra_pad.
inline extent3 augmentation_margin(const extent3& patch, const std::array<angle_range, 3>& rotation,
                                   const std::pair<double, double>& scale, bool dummy_2d = false) {
  return nnunet_initial_patch_size(patch, rotation, scale, dummy_2d) - patch;
}

// ---- millimetres to voxels --------------------------------------------------------------

enum class voxel_rounding : std::uint8_t { nearest, up, down };

// A patch of size_mm (z, y, x) in a volume of spacing_mm (z, y, x): size / spacing voxels per
// axis, rounded as asked (nearest by default), and at least 1.
inline extent3 patch_from_millimetres(const Eigen::Vector3d& size_mm, const Eigen::Vector3d& spacing_mm,
                                      voxel_rounding rounding = voxel_rounding::nearest) {
  extent3 out;
  for (int a = 0; a < axis_count; ++a) {
    require(std::isfinite(size_mm[a]) && size_mm[a] > 0, "patch size ", size_mm[a], " mm on axis ", a,
            " must be finite and positive");
    require(std::isfinite(spacing_mm[a]) && spacing_mm[a] > 0, "voxel spacing ", spacing_mm[a],
            " mm on axis ", a, " must be finite and positive");
    const double voxels = size_mm[a] / spacing_mm[a];
    const double rounded = rounding == voxel_rounding::nearest ? std::round(voxels)
                           : rounding == voxel_rounding::up    ? std::ceil(voxels - 1e-9)
                                                               : std::floor(voxels + 1e-9);
    require(rounded < 9.0e15, "patch of ", size_mm[a], " mm at spacing ", spacing_mm[a],
            " mm is too many voxels");
    out[a] = std::max<std::int64_t>(1, static_cast<std::int64_t>(rounded));
  }
  return out;
}

}  // namespace pgps
