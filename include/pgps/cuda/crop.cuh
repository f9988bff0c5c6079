// The device cropper: fills the same N×C×D×H×W image and N×D×H×W label buffers as the CPU
// cropper, from volumes that already live in device memory. It runs the index math of
// pgps/crop/padding.hpp (shared with the CPU, so the CPU tests cover it) and the conversions of
// pgps/crop/convert.hpp, one thread per output voxel, x fastest, so writes coalesce.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"
#include "pgps/crop/convert.hpp"
#include "pgps/crop/padding.hpp"
#include "pgps/sampling/batch_plan.hpp"

namespace pgps::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail("CUDA ", what, " failed: ", cudaGetErrorString(status));
}

// Pad mode and value of one output, the value already converted to the output type.
template <class Out>
struct device_pad {
  pad_mode mode = pad_mode::constant;
  Out value{};
};

// One output voxel: image channels (and the label when label_out is not null) of slot s at
// patch position t. Inlined into the kernel; a host loop over it is the reference in the tests.
template <class I, class L, class OI, class OL>
PGPS_HD inline void crop_voxel(const slot_plan& slot, std::int64_t s, const index3& t, const extent3& patch,
                               const volume_view<const I>& image, const volume_view<const L>* label,
                               device_pad<OI> image_pad, device_pad<OL> label_pad, OI* image_out,
                               OL* label_out) {
  const std::int64_t voxels = voxel_count(patch);
  const std::int64_t at = linear_offset(t, patch);
  const index3 p = slot.region.lower + t;
  index3 source;
  const bool image_inside = source_voxel(image_pad.mode, p, image.extent, source);
  for (std::int64_t c = 0; c < image.channels; ++c) {
    image_out[(s * image.channels + c) * voxels + at] =
        image_inside ? convert_value<OI>(image.at(source, c)) : image_pad.value;
  }
  if (label_out != nullptr) {
    const bool label_inside = source_voxel(label_pad.mode, p, label->extent, source);
    label_out[s * voxels + at] = label_inside ? convert_value<OL>(label->at(source)) : label_pad.value;
  }
}

template <class I, class L, class OI, class OL>
__global__ void crop_kernel(const slot_plan* slots, std::int64_t slot_count, extent3 patch,
                            const volume_view<const I>* images, const volume_view<const L>* labels,
                            device_pad<OI> image_pad, device_pad<OL> label_pad, OI* image_out,
                            OL* label_out) {
  const std::int64_t voxels = voxel_count(patch);
  const std::int64_t total = slot_count * voxels;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const std::int64_t s = i / voxels;
    const slot_plan slot = slots[s];
    const auto case_id = static_cast<std::size_t>(slot.case_id);
    crop_voxel(slot, s, unravel(i - s * voxels, patch), patch, images[case_id],
               labels != nullptr ? &labels[case_id] : nullptr, image_pad, label_pad, image_out, label_out);
  }
}

// Host side of the device cropper. Volumes and output buffers are device pointers; the plan is
// copied to the device on the given stream. Device staging memory is kept and grown, so steady
// state calls do not allocate. Not thread safe: one device_cropper per stream.
template <class I, class L>
class device_cropper {
 public:
  device_cropper(std::span<const volume_view<const I>> images, std::span<const volume_view<const L>> labels,
                 double image_pad_value = 0.0, double label_pad_value = -1.0,
                 pad_mode image_mode = pad_mode::constant, pad_mode label_mode = pad_mode::constant,
                 cudaStream_t stream = nullptr)
      : images_(images.begin(), images.end()),
        labels_(labels.begin(), labels.end()),
        image_pad_value_(image_pad_value),
        label_pad_value_(label_pad_value),
        image_mode_(image_mode),
        label_mode_(label_mode),
        stream_(stream) {
    require(!images_.empty(), "device cropper needs at least one case");
    require(labels_.empty() || labels_.size() == images_.size(), "device cropper got ", images_.size(),
            " images and ", labels_.size(), " labels; give one label per image or none");
    require(is_known(image_mode) && is_known(label_mode),
            "unknown pad mode; allowed: constant, edge, reflect");
    for (std::size_t k = 0; k < images_.size(); ++k) {
      require(images_[k].data != nullptr && all_positive(images_[k].extent), "case ", k,
              ": device image view is null or has extent ", images_[k].extent);
      require(images_[k].channels == images_[0].channels, "case ", k, " has ", images_[k].channels,
              " channels but case 0 has ", images_[0].channels);
      if (!labels_.empty()) {
        require(labels_[k].data != nullptr && labels_[k].extent == images_[k].extent, "case ", k,
                ": device label view is null or its extent ", labels_[k].extent, " differs from the image's ",
                images_[k].extent);
      }
    }
    check(cudaMalloc(&device_images_, images_.size() * sizeof(volume_view<const I>)), "cudaMalloc(images)");
    check(cudaMemcpy(device_images_, images_.data(), images_.size() * sizeof(volume_view<const I>),
                     cudaMemcpyHostToDevice),
          "cudaMemcpy(images)");
    if (!labels_.empty()) {
      check(cudaMalloc(&device_labels_, labels_.size() * sizeof(volume_view<const L>)), "cudaMalloc(labels)");
      check(cudaMemcpy(device_labels_, labels_.data(), labels_.size() * sizeof(volume_view<const L>),
                       cudaMemcpyHostToDevice),
            "cudaMemcpy(labels)");
    }
  }
  device_cropper(const device_cropper&) = delete;
  device_cropper& operator=(const device_cropper&) = delete;
  ~device_cropper() {
    cudaFree(device_images_);
    cudaFree(device_labels_);
    cudaFree(device_slots_);
  }

  std::int64_t channels() const { return images_[0].channels; }

  // Enqueues the fill on the stream; image_out holds N×C×D×H×W and label_out N×D×H×W elements
  // (label_out may be null for inference). Errors are reported before anything is enqueued.
  template <class OI, class OL>
  void fill(const batch_plan& plan, OI* image_out, OL* label_out) {
    require(all_positive(plan.patch), "plan patch ", plan.patch, " has a non-positive axis");
    require(image_out != nullptr, "device image output is null");
    require(label_out == nullptr || !labels_.empty(),
            "a label output was given but the cropper has no labels");
    for (std::size_t s = 0; s < plan.slots.size(); ++s) {
      const std::int64_t id = plan.slots[s].case_id;
      require(id >= 0 && static_cast<std::size_t>(id) < images_.size(), "slot ", s, " names case ", id,
              "; the device cropper has cases [0, ", images_.size(), ")");
      require(plan.slots[s].region.extent == plan.patch, "slot ", s, " box extent ",
              plan.slots[s].region.extent, " differs from the plan patch ", plan.patch);
    }
    require(representable_as<OI>(image_pad_value_), "image pad value ", image_pad_value_,
            " is not representable in the image output type");
    require(label_out == nullptr || representable_as<OL>(label_pad_value_), "label pad value ",
            label_pad_value_, " is not representable in the label output type");
    if (plan.slots.empty()) return;
    if (plan.slots.size() > slot_capacity_) {
      cudaFree(device_slots_);
      device_slots_ = nullptr;
      check(cudaMalloc(&device_slots_, plan.slots.size() * sizeof(slot_plan)), "cudaMalloc(slots)");
      slot_capacity_ = plan.slots.size();
    }
    check(cudaMemcpyAsync(device_slots_, plan.slots.data(), plan.slots.size() * sizeof(slot_plan),
                          cudaMemcpyHostToDevice, stream_),
          "cudaMemcpyAsync(slots)");
    const std::int64_t total = static_cast<std::int64_t>(plan.slots.size()) * voxel_count(plan.patch);
    constexpr int threads = 256;
    const auto blocks =
        static_cast<unsigned>(std::min<std::int64_t>((total + threads - 1) / threads, 65535 * 8));
    crop_kernel<I, L, OI, OL><<<blocks, threads, 0, stream_>>>(
        device_slots_, static_cast<std::int64_t>(plan.slots.size()), plan.patch, device_images_,
        label_out != nullptr ? device_labels_ : nullptr,
        device_pad<OI>{image_mode_, convert_value<OI>(image_pad_value_)},
        device_pad<OL>{label_mode_, convert_value<OL>(label_pad_value_)}, image_out, label_out);
    check(cudaGetLastError(), "crop kernel launch");
  }

 private:
  std::vector<volume_view<const I>> images_;
  std::vector<volume_view<const L>> labels_;
  double image_pad_value_;
  double label_pad_value_;
  pad_mode image_mode_;
  pad_mode label_mode_;
  cudaStream_t stream_;
  volume_view<const I>* device_images_ = nullptr;
  volume_view<const L>* device_labels_ = nullptr;
  slot_plan* device_slots_ = nullptr;
  std::size_t slot_capacity_ = 0;
};

}  // namespace pgps::cuda
