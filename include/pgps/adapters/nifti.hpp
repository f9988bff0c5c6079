// NIfTI-1 volumes through niftilib (component pgps::nifti): read any stored voxel type into the
// element type a caller asks for, and write volumes back. NIfTI stores i (x) fastest, so a file
// with dim = (nx, ny, nz) becomes a row-major (z, y, x) volume with extent (nz, ny, nx) without
// any reordering of the voxels.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nifti1_io.h>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"

namespace pgps::nifti {

// Row-major 4×4 matrix mapping voxel indices (i, j, k, 1) = (x, y, z, 1) to world millimetres.
using affine4 = std::array<std::array<double, 4>, 4>;

inline constexpr affine4 identity_affine() {
  return {{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}};
}

// Diagonal affine for a (z, y, x) spacing: voxel (i, j, k) sits at (i·dx, j·dy, k·dz).
inline constexpr affine4 spacing_affine(const std::array<double, 3>& spacing_zyx) {
  return {{{spacing_zyx[2], 0, 0, 0}, {0, spacing_zyx[1], 0, 0}, {0, 0, spacing_zyx[0], 0}, {0, 0, 0, 1}}};
}

// NIfTI-1 voxel types pgps reads and writes (the real-valued ones; complex and RGB are refused).
enum class datatype : int {
  uint8 = DT_UINT8,
  int8 = DT_INT8,
  int16 = DT_INT16,
  uint16 = DT_UINT16,
  int32 = DT_INT32,
  uint32 = DT_UINT32,
  int64 = DT_INT64,
  uint64 = DT_UINT64,
  float32 = DT_FLOAT32,
  float64 = DT_FLOAT64,
};

// The NIfTI type that stores T exactly.
template <class T>
constexpr datatype datatype_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, std::uint8_t>)
    return datatype::uint8;
  else if constexpr (std::is_same_v<U, std::int8_t>)
    return datatype::int8;
  else if constexpr (std::is_same_v<U, std::int16_t>)
    return datatype::int16;
  else if constexpr (std::is_same_v<U, std::uint16_t>)
    return datatype::uint16;
  else if constexpr (std::is_same_v<U, std::int32_t>)
    return datatype::int32;
  else if constexpr (std::is_same_v<U, std::uint32_t>)
    return datatype::uint32;
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return datatype::int64;
  else if constexpr (std::is_same_v<U, std::uint64_t>)
    return datatype::uint64;
  else if constexpr (std::is_same_v<U, float>)
    return datatype::float32;
  else if constexpr (std::is_same_v<U, double>)
    return datatype::float64;
  else
    static_assert(sizeof(U) == 0, "pgps::nifti: no NIfTI datatype stores this element type");
}

inline const char* datatype_name(int code) { return nifti_datatype_string(code); }

// One 3D volume in memory, row-major (z, y, x): voxels[(z·ny + y)·nx + x].
template <class T>
struct image {
  std::vector<T> voxels;
  extent3 extent;                                // (nz, ny, nx) voxel counts
  std::array<double, 3> spacing{1.0, 1.0, 1.0};  // (z, y, x) millimetres
  affine4 affine = identity_affine();            // voxel (x, y, z) -> world mm, see affine_code
  // Which NIfTI transform the affine came from or is written as: sform and qform codes
  // (NIFTI_XFORM_*). Both 0 means the file only has spacing (affine = spacing_affine).
  int sform_code = 0;
  int qform_code = 0;
  int stored_datatype = DT_UNKNOWN;  // the voxel type of the file it was read from

  volume_view<const T> view() const { return contiguous_view(voxels.data(), extent); }
  volume_view<T> view() { return contiguous_view(voxels.data(), extent); }
};

// A zero-filled image of the given extent and (z, y, x) spacing with the matching diagonal affine.
template <class T>
image<T> make_image(const extent3& extent, const std::array<double, 3>& spacing_zyx = {1.0, 1.0, 1.0}) {
  require(all_positive(extent), "nifti image extent ", extent,
          " has a non-positive axis; each axis must be >= 1");
  image<T> result;
  result.voxels.assign(static_cast<std::size_t>(voxel_count(extent)), T{});
  result.extent = extent;
  result.spacing = spacing_zyx;
  result.affine = spacing_affine(spacing_zyx);
  result.stored_datatype = static_cast<int>(datatype_of<T>());
  return result;
}

namespace detail {

struct nim_deleter {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using nim_ptr = std::unique_ptr<nifti_image, nim_deleter>;

struct znz_deleter {
  void operator()(znzFile file) const { Xznzclose(&file); }
};
using znz_ptr = std::unique_ptr<std::remove_pointer_t<znzFile>, znz_deleter>;

// Calls f(S{}) with S the C++ type of a NIfTI datatype code; false when pgps does not handle it.
template <class F>
bool visit_datatype(int code, F&& f) {
  switch (code) {
    case DT_UINT8:
      f(std::uint8_t{});
      return true;
    case DT_INT8:
      f(std::int8_t{});
      return true;
    case DT_INT16:
      f(std::int16_t{});
      return true;
    case DT_UINT16:
      f(std::uint16_t{});
      return true;
    case DT_INT32:
      f(std::int32_t{});
      return true;
    case DT_UINT32:
      f(std::uint32_t{});
      return true;
    case DT_INT64:
      f(std::int64_t{});
      return true;
    case DT_UINT64:
      f(std::uint64_t{});
      return true;
    case DT_FLOAT32:
      f(float{});
      return true;
    case DT_FLOAT64:
      f(double{});
      return true;
    default:
      return false;
  }
}

template <class T>
constexpr const char* type_name() {
  return datatype_name(static_cast<int>(datatype_of<T>()));
}

// True when the real number v is an integer that T represents exactly.
template <class T>
bool integral_in_range(double v) {
  static_assert(std::is_integral_v<T>);
  if (!std::isfinite(v) || v != std::trunc(v)) return false;
  const double upper = std::ldexp(1.0, std::numeric_limits<T>::digits);  // exclusive, exact in double
  const double lower = std::is_signed_v<T> ? -upper : 0.0;
  return v >= lower && v < upper;
}

// Converts n stored values to T, applying value = stored·slope + inter when `scaled`. Integer
// targets get only values they hold exactly; anything else names the voxel and the value.
template <class T, class S>
void convert(const S* source, std::size_t n, bool scaled, double slope, double inter, T* target,
             const std::string& what) {
  for (std::size_t i = 0; i < n; ++i) {
    const S s = source[i];
    if constexpr (std::is_integral_v<T> && std::is_integral_v<S>) {
      if (!scaled) {
        if (!std::in_range<T>(s)) {
          fail(what, ": voxel ", i, " holds ", +s, ", which is outside the range of ", type_name<T>(), " [",
               +std::numeric_limits<T>::min(), ", ", +std::numeric_limits<T>::max(), "]");
        }
        target[i] = static_cast<T>(s);
        continue;
      }
    }
    const double v = scaled ? static_cast<double>(s) * slope + inter : static_cast<double>(s);
    if constexpr (std::is_integral_v<T>) {
      if (!integral_in_range<T>(v)) {
        fail(what, ": voxel ", i, " holds ", v, ", which is not an integer in the range of ", type_name<T>(),
             " [", +std::numeric_limits<T>::min(), ", ", +std::numeric_limits<T>::max(),
             "]; read it as float or double instead");
      }
      target[i] = static_cast<T>(v);
    } else {
      target[i] = static_cast<T>(v);
    }
  }
}

inline affine4 to_affine(const mat44& m) {
  affine4 a{};
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) a[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] = m.m[r][c];
  }
  return a;
}

inline mat44 to_mat44(const affine4& a) {
  mat44 m{};
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c)
      m.m[r][c] = static_cast<float>(a[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]);
  }
  return m;
}

}  // namespace detail

// Reads a 3D NIfTI-1 volume (.nii, .nii.gz, .hdr/.img) as element type T. Every real stored type
// is accepted; scl_slope/scl_inter are applied (NIfTI: slope 0 means unscaled). For an integer T,
// every value must be an integer T can hold, or the read fails and names the first bad voxel. A
// 4D file is accepted only when its extra dimensions are all 1.
template <class T>
image<T> read(const std::string& path) {
  static_assert(std::is_arithmetic_v<T>, "pgps::nifti::read: T must be an arithmetic type");
  std::error_code ec;
  require(std::filesystem::is_regular_file(path, ec), "nifti: cannot read '", path,
          "': no such file (expected a .nii, .nii.gz or .hdr file)");
  // The voxels are read here rather than by nifti_image_read, which zero-fills a truncated file
  // without failing.
  nifti_image* header = nullptr;
  znzFile opened = nifti_image_open(path.c_str(), "rb", &header);
  detail::nim_ptr nim(header);
  detail::znz_ptr file(opened);
  require(nim != nullptr && file != nullptr, "nifti: cannot read '", path,
          "': not a valid NIfTI-1/ANALYZE file, or its header is corrupt");
  require(nim->iname_offset >= 0 && znzseek(file.get(), nim->iname_offset, SEEK_SET) >= 0,
          "nifti: cannot read '", path, "': cannot seek to its voxel data at byte ", nim->iname_offset);
  for (int d = 4; d <= 7; ++d) {
    require(nim->dim[0] < d || nim->dim[d] <= 1, "nifti: '", path, "' has ", nim->dim[0],
            " dimensions with dim[", d, "] = ", nim->dim[d],
            "; a 3D volume was asked for (every dimension past the third must be 1)");
  }
  image<T> result;
  result.extent = extent3{nim->nz, nim->ny, nim->nx};
  require(all_positive(result.extent), "nifti: '", path, "' has voxel extent ", result.extent,
          " (z, y, x); each axis must be >= 1");
  result.spacing = {std::abs(static_cast<double>(nim->dz)), std::abs(static_cast<double>(nim->dy)),
                    std::abs(static_cast<double>(nim->dx))};
  result.sform_code = nim->sform_code;
  result.qform_code = nim->qform_code;
  if (nim->sform_code > 0)
    result.affine = detail::to_affine(nim->sto_xyz);
  else if (nim->qform_code > 0)
    result.affine = detail::to_affine(nim->qto_xyz);
  else
    result.affine = spacing_affine(result.spacing);
  result.stored_datatype = nim->datatype;

  const std::size_t n = static_cast<std::size_t>(voxel_count(result.extent));
  require(nim->nvox == n, "nifti: '", path, "' holds ", nim->nvox, " voxels, but its 3D extent ",
          result.extent, " has ", n);
  result.voxels.resize(n);
  const double slope = static_cast<double>(nim->scl_slope);
  const double inter = static_cast<double>(nim->scl_inter);
  const bool scaled = std::isfinite(slope) && slope != 0.0 && (slope != 1.0 || inter != 0.0);
  const std::string what = "nifti: '" + path + "'";
  const bool handled = detail::visit_datatype(nim->datatype, [&](auto stored_value) {
    using S = decltype(stored_value);
    std::vector<S> stored(n);
    const std::size_t got = znzread(stored.data(), sizeof(S), n, file.get());
    require(got == n, what, ": its voxel data is corrupt or truncated (", got, " of ", n, " voxels read)");
    if (nim->byteorder != nifti_short_order() && sizeof(S) > 1) {
      nifti_swap_Nbytes(n, static_cast<int>(sizeof(S)), stored.data());
    }
    detail::convert(stored.data(), n, scaled, slope, inter, result.voxels.data(), what);
  });
  require(handled, "nifti: '", path, "' stores voxels as ", datatype_name(nim->datatype), " (code ",
          nim->datatype, "); pgps reads only real-valued types (u)int8/16/32/64, float32 and float64");
  return result;
}

// Writes a volume as a NIfTI-1 file; the name decides the format (.nii, .nii.gz, .hdr). Voxels
// are stored as `stored` (by default the type of T); a value the stored type cannot hold exactly
// is an error, and nothing is written. The affine is written as sform (and as qform) when the
// image's sform_code (qform_code) is positive; the spacing always goes to pixdim.
template <class T>
void write(const std::string& path, const image<T>& img, datatype stored = datatype_of<T>()) {
  require(all_positive(img.extent), "nifti: cannot write '", path, "': extent ", img.extent,
          " has a non-positive axis");
  const std::size_t n = static_cast<std::size_t>(voxel_count(img.extent));
  require(img.voxels.size() == n, "nifti: cannot write '", path, "': ", img.voxels.size(),
          " voxels for extent ", img.extent, ", which needs ", n);
  for (int a = 0; a < axis_count; ++a) {
    require(img.extent[a] <= std::numeric_limits<std::int16_t>::max(), "nifti: cannot write '", path,
            "': extent ", img.extent, " exceeds NIfTI-1's limit of 32767 voxels per axis");
    const double s = img.spacing[static_cast<std::size_t>(a)];
    require(std::isfinite(s) && s > 0, "nifti: cannot write '", path, "': spacing ", s, " on axis ", a,
            " must be a positive number of millimetres");
  }
  const std::filesystem::path target(path);
  const std::filesystem::path parent = target.parent_path();
  std::error_code ec;
  require(parent.empty() || std::filesystem::is_directory(parent, ec), "nifti: cannot write '", path,
          "': directory '", parent.string(), "' does not exist");
  require(nifti_validfilename(path.c_str()) != 0 && nifti_find_file_extension(path.c_str()) != nullptr,
          "nifti: cannot write '", path, "': the name must end in .nii, .nii.gz, .hdr or .hdr.gz");

  const int dims[8] = {3,
                       static_cast<int>(img.extent[2]),
                       static_cast<int>(img.extent[1]),
                       static_cast<int>(img.extent[0]),
                       1,
                       1,
                       1,
                       1};
  detail::nim_ptr nim(nifti_make_new_nim(dims, static_cast<int>(stored), 1));
  require(nim != nullptr && nim->data != nullptr, "nifti: cannot allocate a ", img.extent, " volume of ",
          datatype_name(static_cast<int>(stored)), " for '", path, "'");
  detail::visit_datatype(static_cast<int>(stored), [&](auto stored_value) {
    using S = decltype(stored_value);
    detail::convert(img.voxels.data(), n, false, 1.0, 0.0, static_cast<S*>(nim->data),
                    "nifti: cannot write '" + path + "' as " + datatype_name(static_cast<int>(stored)));
  });
  nim->dx = nim->pixdim[1] = static_cast<float>(img.spacing[2]);
  nim->dy = nim->pixdim[2] = static_cast<float>(img.spacing[1]);
  nim->dz = nim->pixdim[3] = static_cast<float>(img.spacing[0]);
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->scl_slope = 0.0f;  // unscaled: the stored values are the values
  nim->scl_inter = 0.0f;
  const mat44 m = detail::to_mat44(img.affine);
  nim->sform_code = img.sform_code;
  if (img.sform_code > 0) {
    nim->sto_xyz = m;
    nim->sto_ijk = nifti_mat44_inverse(m);
  }
  nim->qform_code = img.qform_code;
  if (img.qform_code > 0) {
    nifti_mat44_to_quatern(m, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                           &nim->qoffset_y, &nim->qoffset_z, nullptr, nullptr, nullptr, &nim->qfac);
    nim->qto_xyz =
        nifti_quatern_to_mat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x, nim->qoffset_y,
                               nim->qoffset_z, nim->dx, nim->dy, nim->dz, nim->qfac);
    nim->qto_ijk = nifti_mat44_inverse(nim->qto_xyz);
  }
  require(nifti_set_filenames(nim.get(), path.c_str(), 0, 1) == 0, "nifti: cannot write '", path,
          "': niftilib rejected the file name");
  std::filesystem::remove(path, ec);  // so that a failed write cannot leave an old file looking new
  nifti_image_write(nim.get());
  require(std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) > 0,
          "nifti: writing '", path, "' failed (niftilib reported the reason on stderr)");
}

}  // namespace pgps::nifti
