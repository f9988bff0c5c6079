#include "data.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "pgps/core/error.hpp"
#include "pgps/core/rng.hpp"

namespace pgps_train {

namespace {

using vec = std::array<double, 3>;  // (z, y, x) millimetres

class gaussian_source {
 public:
  explicit gaussian_source(pgps::random_stream stream) : stream_(stream) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * stream_.uniform01(); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - stream_.uniform01();  // (0, 1]
    const double u2 = stream_.uniform01();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  pgps::random_stream stream_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// A smooth field over a box of `size_mm`: cubic B-spline through random control values on a
// grid of `spacing_mm` (one extra control point before and two after each axis).
class bspline_field {
 public:
  bspline_field(const vec& size_mm, double spacing_mm, int components, double sigma, gaussian_source& random)
      : spacing_(spacing_mm), components_(components) {
    for (std::size_t a = 0; a < 3; ++a) count_[a] = static_cast<int>(std::ceil(size_mm[a] / spacing_mm)) + 4;
    values_.resize(static_cast<std::size_t>(count_[0] * count_[1] * count_[2] * components));
    for (double& v : values_) v = sigma * random.normal();
  }

  // Component values at point p (mm from the box origin) into out[0..components).
  void at(const vec& p, double* out) const {
    int base[3];
    double weight[3][4];
    for (std::size_t a = 0; a < 3; ++a) {
      const double u = std::clamp(p[a] / spacing_, 0.0, static_cast<double>(count_[a] - 4));
      const double cell = std::min(std::floor(u), static_cast<double>(count_[a] - 4));
      const double t = u - cell;
      base[a] = static_cast<int>(cell);  // control points base..base+3 around the cell (shifted by one)
      weight[a][0] = (1 - t) * (1 - t) * (1 - t) / 6.0;
      weight[a][1] = (3 * t * t * t - 6 * t * t + 4) / 6.0;
      weight[a][2] = (-3 * t * t * t + 3 * t * t + 3 * t + 1) / 6.0;
      weight[a][3] = t * t * t / 6.0;
    }
    for (int c = 0; c < components_; ++c) out[c] = 0.0;
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) {
        const double wij = weight[0][i] * weight[1][j];
        for (int k = 0; k < 4; ++k) {
          const double w = wij * weight[2][k];
          const std::size_t offset =
              static_cast<std::size_t>(((base[0] + i) * count_[1] + base[1] + j) * count_[2] + base[2] + k) *
              static_cast<std::size_t>(components_);
          for (int c = 0; c < components_; ++c) out[c] += w * values_[offset + static_cast<std::size_t>(c)];
        }
      }
    }
  }

 private:
  double spacing_;
  int components_;
  std::array<int, 3> count_{};
  std::vector<double> values_;
};

using mat3 = std::array<std::array<double, 3>, 3>;

mat3 multiply(const mat3& a, const mat3& b) {
  mat3 r{};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 3; ++k) r[i][j] += a[i][k] * b[k][j];
  return r;
}

// Rotation by `angle` radians in the plane of axes (i, j).
mat3 plane_rotation(std::size_t i, std::size_t j, double angle) {
  mat3 r{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  r[i][i] = std::cos(angle);
  r[j][j] = std::cos(angle);
  r[i][j] = -std::sin(angle);
  r[j][i] = std::sin(angle);
  return r;
}

// Trilinear interpolation at fractional voxel coordinates, 0 outside the volume.
float sample_linear(const pgps::nifti::image<float>& img, const vec& p) {
  const auto& e = img.extent;
  const double fz = std::floor(p[0]), fy = std::floor(p[1]), fx = std::floor(p[2]);
  const auto z0 = static_cast<std::int64_t>(fz), y0 = static_cast<std::int64_t>(fy),
             x0 = static_cast<std::int64_t>(fx);
  const double tz = p[0] - fz, ty = p[1] - fy, tx = p[2] - fx;
  double sum = 0.0;
  for (int dz = 0; dz < 2; ++dz) {
    const std::int64_t z = z0 + dz;
    if (z < 0 || z >= e[0]) continue;
    for (int dy = 0; dy < 2; ++dy) {
      const std::int64_t y = y0 + dy;
      if (y < 0 || y >= e[1]) continue;
      for (int dx = 0; dx < 2; ++dx) {
        const std::int64_t x = x0 + dx;
        if (x < 0 || x >= e[2]) continue;
        const double w = (dz ? tz : 1 - tz) * (dy ? ty : 1 - ty) * (dx ? tx : 1 - tx);
        sum += w * img.voxels[static_cast<std::size_t>((z * e[1] + y) * e[2] + x)];
      }
    }
  }
  return static_cast<float>(sum);
}

std::uint8_t sample_nearest(const pgps::nifti::image<std::uint8_t>& img, const vec& p) {
  const auto& e = img.extent;
  const auto z = static_cast<std::int64_t>(std::lround(p[0]));
  const auto y = static_cast<std::int64_t>(std::lround(p[1]));
  const auto x = static_cast<std::int64_t>(std::lround(p[2]));
  if (z < 0 || y < 0 || x < 0 || z >= e[0] || y >= e[1] || x >= e[2]) return 0;
  return img.voxels[static_cast<std::size_t>((z * e[1] + y) * e[2] + x)];
}

}  // namespace

subject load_subject(const std::string& t1_path, const std::string& atlas_path) {
  subject s;
  s.t1 = pgps::nifti::read<float>(t1_path);
  const auto atlas = pgps::nifti::read<std::int32_t>(atlas_path);
  pgps::require(atlas.extent == s.t1.extent, "the atlas '", atlas_path, "' has extent ", atlas.extent,
                " but the T1 '", t1_path, "' has ", s.t1.extent, "; they must share one grid");
  for (std::size_t a = 0; a < 3; ++a) {
    pgps::require(std::abs(atlas.spacing[a] - s.t1.spacing[a]) < 1e-4,
                  "the atlas and the T1 have different spacing");
  }
  s.labels = pgps::nifti::make_image<std::uint8_t>(atlas.extent, atlas.spacing);
  std::array<std::int64_t, structures.size()> counts{};
  for (std::size_t i = 0; i < atlas.voxels.size(); ++i) {
    for (std::size_t c = 0; c < structures.size(); ++c) {
      if (atlas.voxels[i] == structures[c].aal_label) {
        s.labels.voxels[i] = static_cast<std::uint8_t>(c + 1);
        ++counts[c];
      }
    }
  }
  for (std::size_t c = 0; c < structures.size(); ++c) {
    pgps::require(counts[c] > 0, "the atlas '", atlas_path, "' has no voxel of ", structures[c].name,
                  " (label ", structures[c].aal_label, "); is it the AAL atlas?");
  }
  return s;
}

region_grid region_around_structures(const subject& s, double spacing_mm, double margin_mm) {
  pgps::require(spacing_mm > 0 && margin_mm >= 0, "region grid: spacing ", spacing_mm,
                " must be > 0 and margin ", margin_mm, " >= 0");
  const auto& e = s.labels.extent;
  std::array<std::int64_t, 3> lo{e[0], e[1], e[2]}, hi{-1, -1, -1};
  for (std::int64_t z = 0; z < e[0]; ++z)
    for (std::int64_t y = 0; y < e[1]; ++y)
      for (std::int64_t x = 0; x < e[2]; ++x) {
        if (s.labels.voxels[static_cast<std::size_t>((z * e[1] + y) * e[2] + x)] == 0) continue;
        const std::array<std::int64_t, 3> p{z, y, x};
        for (std::size_t a = 0; a < 3; ++a) {
          lo[a] = std::min(lo[a], p[a]);
          hi[a] = std::max(hi[a], p[a]);
        }
      }
  region_grid grid;
  grid.spacing_mm = spacing_mm;
  for (std::size_t a = 0; a < 3; ++a) {
    const double first = static_cast<double>(lo[a]) * s.t1.spacing[a] - margin_mm;
    const double last = static_cast<double>(hi[a]) * s.t1.spacing[a] + margin_mm;
    grid.origin_mm[a] = first;
    grid.extent[static_cast<int>(a)] = static_cast<std::int64_t>(std::ceil((last - first) / spacing_mm)) + 1;
  }
  return grid;
}

std::int64_t case_volume::voxels_of(std::uint8_t c) const {
  return std::count(label.begin(), label.end(), c);
}

case_volume make_case(const subject& s, const region_grid& grid, const variation& v, std::uint64_t seed,
                      case_kind kind, std::uint64_t index) {
  // Counter words (epoch = kind, iteration = index) keep the kinds' streams apart for one seed.
  gaussian_source random(pgps::random_stream(
      pgps::counter{seed, static_cast<std::uint64_t>(kind), index, 0, 0}, pgps::stream_purpose::user));
  const auto& e = grid.extent;
  const vec size_mm{static_cast<double>(e[0] - 1) * grid.spacing_mm,
                    static_cast<double>(e[1] - 1) * grid.spacing_mm,
                    static_cast<double>(e[2] - 1) * grid.spacing_mm};
  vec centre{};
  for (std::size_t a = 0; a < 3; ++a) centre[a] = grid.origin_mm[a] + size_mm[a] / 2;

  const double degree = std::numbers::pi / 180.0;
  mat3 linear =
      multiply(plane_rotation(0, 1, random.uniform(-v.rotation_deg, v.rotation_deg) * degree),
               multiply(plane_rotation(0, 2, random.uniform(-v.rotation_deg, v.rotation_deg) * degree),
                        plane_rotation(1, 2, random.uniform(-v.rotation_deg, v.rotation_deg) * degree)));
  const double scale = random.uniform(1.0 - v.scale, 1.0 + v.scale);
  for (auto& row : linear)
    for (double& m : row) m *= scale;
  vec shift{};
  for (double& t : shift) t = random.uniform(-v.translation_mm, v.translation_mm);
  const bspline_field elastic(size_mm, v.control_spacing_mm, 3, v.elastic_sigma_mm, random);
  const bspline_field bias(size_mm, v.bias_spacing_mm, 1, v.bias_sigma, random);
  const double gamma = random.uniform(v.gamma_low, v.gamma_high);
  const double noise_fraction = random.uniform(0.0, v.noise_max);

  case_volume out;
  out.extent = e;
  out.kind = kind;
  out.index = index;
  const auto n = static_cast<std::size_t>(pgps::voxel_count(e));
  out.image.resize(n);
  out.label.resize(n);
  std::vector<std::uint8_t> brain(n);
  for (std::int64_t z = 0; z < e[0]; ++z)
    for (std::int64_t y = 0; y < e[1]; ++y)
      for (std::int64_t x = 0; x < e[2]; ++x) {
        const vec local{static_cast<double>(z) * grid.spacing_mm, static_cast<double>(y) * grid.spacing_mm,
                        static_cast<double>(x) * grid.spacing_mm};
        double displacement[3];
        elastic.at(local, displacement);
        vec source{};  // subject voxel coordinates
        for (std::size_t a = 0; a < 3; ++a) {
          double mm = centre[a] + shift[a] + displacement[a];
          for (std::size_t b = 0; b < 3; ++b) mm += linear[a][b] * (grid.origin_mm[b] + local[b] - centre[b]);
          source[a] = mm / s.t1.spacing[a];
        }
        double log_bias = 0.0;
        bias.at(local, &log_bias);
        const std::size_t i = static_cast<std::size_t>((z * e[1] + y) * e[2] + x);
        const float intensity = sample_linear(s.t1, source);
        brain[i] = intensity > 0.5f ? 1 : 0;  // ch2bet is skull-stripped: the brain is where T1 > 0
        out.image[i] = intensity * static_cast<float>(std::exp(log_bias));
        out.label[i] = sample_nearest(s.labels, source);
      }

  // Gamma on intensities scaled to [0, 1] over the brain, then noise, then z-score over the brain.
  float lo = 0, hi = 0;
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!brain[i]) continue;
    lo = any ? std::min(lo, out.image[i]) : out.image[i];
    hi = any ? std::max(hi, out.image[i]) : out.image[i];
    any = true;
  }
  pgps::require(any, "case ", kind_name(kind), " ", index, " has no brain voxel in its region");
  const double range = std::max(1e-6, static_cast<double>(hi - lo));
  double sum = 0, sum_sq = 0, count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!brain[i]) continue;
    const double t = (out.image[i] - lo) / range;
    const double value = std::pow(t, gamma) * range + lo;
    out.image[i] = static_cast<float>(value);
    sum += value;
    sum_sq += value * value;
    count += 1;
  }
  const double raw_std = std::sqrt(std::max(0.0, sum_sq / count - (sum / count) * (sum / count)));
  const double noise_std = noise_fraction * raw_std;
  sum = sum_sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!brain[i]) continue;
    out.image[i] += static_cast<float>(noise_std * random.normal());
    sum += out.image[i];
    sum_sq += static_cast<double>(out.image[i]) * out.image[i];
  }
  const double mean = sum / count;
  const double std = std::max(1e-8, std::sqrt(std::max(0.0, sum_sq / count - mean * mean)));
  for (std::size_t i = 0; i < n; ++i) {
    out.image[i] = brain[i] ? static_cast<float>((out.image[i] - mean) / std) : 0.0f;
  }
  return out;
}

void write_case(const case_volume& c, const region_grid& grid, const std::string& image_path,
                const std::string& label_path) {
  const std::array<double, 3> spacing{grid.spacing_mm, grid.spacing_mm, grid.spacing_mm};
  auto image = pgps::nifti::make_image<float>(c.extent, spacing);
  image.voxels = c.image;
  pgps::nifti::write(image_path, image);
  auto label = pgps::nifti::make_image<std::uint8_t>(c.extent, spacing);
  label.voxels = c.label;
  pgps::nifti::write(label_path, label);
}

}  // namespace pgps_train
