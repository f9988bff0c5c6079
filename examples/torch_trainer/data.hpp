// The data of the example trainer: one real T1 MRI (ch2bet) with atlas labels (AAL), cropped to
// the medial temporal lobes, resampled to a coarser grid, and turned into training and held-out
// cases by random smooth deformations and intensity changes with disjoint random streams.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pgps/adapters/nifti.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"

namespace pgps_train {

struct structure {
  const char* name;
  int aal_label;  // value in aal.nii.gz (see aal.nii.txt)
};

// The four foreground classes, in class order 1..4; class 0 is everything else.
inline constexpr std::array<structure, 4> structures{{
    {"hippocampus_L", 37},
    {"hippocampus_R", 38},
    {"amygdala_L", 41},
    {"amygdala_R", 42},
}};
inline constexpr std::int64_t class_count = 1 + static_cast<std::int64_t>(structures.size());

// The real subject on its native grid: T1 intensities, class labels 0..4 and the brain mask.
struct subject {
  pgps::nifti::image<float> t1;
  pgps::nifti::image<std::uint8_t> labels;  // AAL mapped to 0..4
};

// Reads the T1 and the atlas (same grid required) and maps the atlas to the four classes.
subject load_subject(const std::string& t1_path, const std::string& atlas_path);

// The region the cases cover: a box around all four structures plus a margin, on a grid of
// `spacing_mm` (isotropic). origin_mm is the position of voxel (0,0,0) in the subject's voxel
// millimetres (z, y, x).
struct region_grid {
  std::array<double, 3> origin_mm{};
  pgps::extent3 extent;
  double spacing_mm = 2.0;
};
region_grid region_around_structures(const subject& s, double spacing_mm, double margin_mm);

// How strongly cases differ from the subject. The spatial part is affine (rotation, isotropic
// scale, translation about the region centre) plus a smooth elastic displacement (cubic
// B-spline on a coarse control grid); the intensity part is a smooth multiplicative bias field,
// a gamma change and Gaussian noise inside the brain.
struct variation {
  double rotation_deg = 10.0;
  double scale = 0.10;  // isotropic scale in [1 − s, 1 + s]
  double translation_mm = 4.0;
  double elastic_sigma_mm = 2.5;  // std of control-point displacements
  double control_spacing_mm = 20.0;
  double bias_sigma = 0.12;  // std of the log bias field at the control points
  double bias_spacing_mm = 40.0;
  double gamma_low = 0.7, gamma_high = 1.5;
  double noise_max = 0.08;  // noise std drawn in [0, max] × brain intensity std
};

// Which random stream a case comes from. Each kind has its own counter words, so no training
// case can ever share its deformation with a validation or test case.
enum class case_kind : std::uint64_t { training = 0, validation = 1, test = 2 };

inline const char* kind_name(case_kind k) {
  return k == case_kind::training ? "training" : k == case_kind::validation ? "validation" : "test";
}

// One case on the region grid: z-scored image (nnU-Net's ZScoreNormalization with
// use_mask_for_norm: mean and std over the brain mask, 0 outside) and labels 0..4.
struct case_volume {
  pgps::extent3 extent;
  std::vector<float> image;
  std::vector<std::uint8_t> label;
  case_kind kind = case_kind::training;
  std::uint64_t index = 0;

  pgps::volume_view<const float> image_view() const { return pgps::contiguous_view(image.data(), extent); }
  pgps::volume_view<const std::uint8_t> label_view() const {
    return pgps::contiguous_view(label.data(), extent);
  }
  std::int64_t voxels_of(std::uint8_t c) const;
};

// The case (kind, index) drawn from `seed`: a pure function of its arguments.
case_volume make_case(const subject& s, const region_grid& grid, const variation& v, std::uint64_t seed,
                      case_kind kind, std::uint64_t index);

// Writes a case as NIfTI (image float32, label uint8) for a person to look at.
void write_case(const case_volume& c, const region_grid& grid, const std::string& image_path,
                const std::string& label_path);

}  // namespace pgps_train
