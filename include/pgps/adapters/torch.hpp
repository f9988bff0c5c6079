// LibTorch integration (component pgps::torch): batches filled straight into torch::Tensors, and
// the few calls a LibTorch training loop makes to a curriculum.
//
//   pgps::libtorch::feed feed(curriculum, cropper, cases);
//   for (epoch ...) {
//     const pgps::stage s = feed.stage_for(epoch);           // patch, batch of this epoch
//     for (iteration ...) {
//       auto [image, label, plan] = feed.next(epoch, iteration);   // N×C×D×H×W float, N×D×H×W int64
//       ...
//     }
//     feed.report(epoch, validation_dice);
//   }
//   feed.save(archive);  /  feed.load(archive);              // curriculum state in a torch archive
//
// The namespace is pgps::libtorch (not pgps::torch) so that `torch::` keeps meaning LibTorch
// inside namespace pgps.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"
#include "pgps/crop/cropper.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/schedule/stage.hpp"

namespace pgps::libtorch {

// The torch dtype that holds T.
template <class T>
constexpr ::torch::Dtype dtype_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return ::torch::kFloat32;
  else if constexpr (std::is_same_v<U, double>)
    return ::torch::kFloat64;
  else if constexpr (std::is_same_v<U, ::c10::Half>)
    return ::torch::kFloat16;
  else if constexpr (std::is_same_v<U, std::uint8_t>)
    return ::torch::kUInt8;
  else if constexpr (std::is_same_v<U, std::int8_t>)
    return ::torch::kInt8;
  else if constexpr (std::is_same_v<U, std::int16_t>)
    return ::torch::kInt16;
  else if constexpr (std::is_same_v<U, std::int32_t>)
    return ::torch::kInt32;
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return ::torch::kInt64;
  else
    static_assert(sizeof(U) == 0, "pgps::libtorch: torch has no dtype for this element type");
}

// The elements of a contiguous CPU tensor of element type T, for pgps to write into. Checked
// once here so that the cropper's copy loop runs on plain memory.
template <class T>
std::span<T> span_of(const ::torch::Tensor& tensor) {
  require(tensor.defined(), "torch tensor is undefined");
  require(tensor.device().is_cpu(), "torch tensor is on ", tensor.device().str(),
          "; pgps fills CPU tensors (copy to the device after filling, or use the CUDA cropper)");
  require(tensor.scalar_type() == dtype_of<T>(), "torch tensor has dtype ",
          ::c10::toString(tensor.scalar_type()), " but the buffer element type is ",
          ::c10::toString(dtype_of<T>()));
  require(tensor.is_contiguous(), "torch tensor of sizes ", tensor.sizes(), " is not contiguous");
  return {tensor.data_ptr<T>(), static_cast<std::size_t>(tensor.numel())};
}

// A tensor over memory pgps (or the caller) owns, without a copy: the tensor keeps `owner`
// alive until its storage is released, so the memory outlives every view and autograd use.
template <class T>
::torch::Tensor wrap(std::shared_ptr<std::vector<T>> owner, std::vector<std::int64_t> sizes) {
  require(owner != nullptr, "wrap: the owning buffer is null");
  std::int64_t elements = 1;
  for (const std::int64_t s : sizes) {
    require(s >= 0, "wrap: size ", s, " is negative");
    elements *= s;
  }
  require(static_cast<std::size_t>(elements) == owner->size(), "wrap: sizes hold ", elements,
          " elements but the buffer has ", owner->size());
  T* data = owner->data();
  auto keep_alive = [owner = std::move(owner)](void*) mutable { owner.reset(); };
  return ::torch::from_blob(data, sizes, std::move(keep_alive),
                            ::torch::TensorOptions().dtype(dtype_of<T>()));
}

// One filled batch: images N×C×D×H×W, labels N×D×H×W, and the plan they were cut from.
struct batch {
  ::torch::Tensor image;
  ::torch::Tensor label;
  batch_plan plan;
};

// Element types of the tensors a feed allocates. The defaults are what a LibTorch segmentation
// loss takes: float32 images, int64 class labels (padding −1 by the cropper's default).
template <class ImageT = float, class LabelT = std::int64_t>
struct tensor_types {
  using image = ImageT;
  using label = LabelT;
};

// Allocates the batch tensors of a plan and lets the cropper write straight into them.
template <class Types = tensor_types<>, class Cropper, class Cases>
batch fill_batch(const Cropper& cropper, batch_plan plan, const Cases& cases, std::int64_t channels,
                 bool pin_memory = false) {
  require(channels >= 1, "fill_batch: channel count ", channels, " must be >= 1");
  const auto n = static_cast<std::int64_t>(plan.slots.size());
  const extent3 p = plan.patch;
  const auto options = [&](::torch::Dtype dtype) {
    return ::torch::TensorOptions().dtype(dtype).pinned_memory(pin_memory);
  };
  batch out;
  out.image = ::torch::empty({n, channels, p[0], p[1], p[2]}, options(dtype_of<typename Types::image>()));
  out.label = ::torch::empty({n, p[0], p[1], p[2]}, options(dtype_of<typename Types::label>()));
  cropper.fill(plan, cases, span_of<typename Types::image>(out.image),
               span_of<typename Types::label>(out.label));
  out.plan = std::move(plan);
  return out;
}

// What a training loop holds: the curriculum (borrowed; it must outlive the feed), a cropper and
// the training cases (views; their memory must outlive the feed). Curriculum is any type with
// stage_at(epoch), plan(epoch, iteration, rank, world), report(epoch, metric), target_patch(),
// save_state() and restore_state(text), such as pgps::curriculum.
template <class Curriculum, class Cropper, class I, class L, class Types = tensor_types<>>
class feed {
 public:
  feed(Curriculum& curriculum, Cropper cropper, std::vector<training_case<I, L>> cases, std::int32_t rank = 0,
       std::int32_t world_size = 1, bool pin_memory = false)
      : curriculum_(&curriculum),
        cropper_(std::move(cropper)),
        cases_(std::move(cases)),
        rank_(rank),
        world_size_(world_size),
        pin_memory_(pin_memory) {
    require(!cases_.empty(), "torch feed: no training cases");
    require(world_size >= 1 && rank >= 0 && rank < world_size, "torch feed: rank ", rank, " of world size ",
            world_size, " is invalid; need 0 <= rank < world size");
    channels_ = cases_.front().image.channels;
  }

  // The stage an epoch trains in (patch, global batch, its epochs).
  [[nodiscard]] stage stage_for(std::int64_t epoch) const { return curriculum_->stage_at(epoch); }

  // This rank's plan of one step, without filling it (cheap; for logging or a resume check).
  [[nodiscard]] batch_plan plan(std::int64_t epoch, std::int64_t iteration) const {
    return curriculum_->plan(epoch, iteration, rank_, world_size_);
  }

  // The next batch: plan, then fill into freshly allocated tensors (autograd may still hold the
  // previous batch, so tensors are not reused).
  [[nodiscard]] batch next(std::int64_t epoch, std::int64_t iteration) const {
    return fill_batch<Types>(cropper_, plan(epoch, iteration), cases_, channels_, pin_memory_);
  }

  // Fills a plan the caller made (validation boxes at the full patch, say) from the same cases.
  [[nodiscard]] batch fill(batch_plan plan) const {
    return fill_batch<Types>(cropper_, std::move(plan), cases_, channels_, pin_memory_);
  }

  // The epoch's validation metric, reduced across ranks by the caller.
  void report(std::int64_t epoch, double metric) { curriculum_->report(epoch, metric); }

  [[nodiscard]] std::string state() const { return curriculum_->save_state(); }
  void restore(std::string_view text) { curriculum_->restore_state(text); }

  // The curriculum state as one string entry of a torch archive, next to a model's and an
  // optimizer's, so a checkpoint is one file per part as LibTorch users keep them.
  void save(::torch::serialize::OutputArchive& archive, const std::string& key = "pgps.curriculum") const {
    archive.write(key, ::c10::IValue(state()));
  }
  void load(::torch::serialize::InputArchive& archive, const std::string& key = "pgps.curriculum") {
    ::c10::IValue value;
    require(archive.try_read(key, value), "torch archive has no entry '", key,
            "'; it was not saved by feed::save");
    require(value.isString(), "torch archive entry '", key,
            "' is not a string; it was not saved by feed::save");
    restore(value.toStringRef());
  }

  [[nodiscard]] const Curriculum& curriculum() const { return *curriculum_; }
  [[nodiscard]] const Cropper& cropper() const { return cropper_; }
  [[nodiscard]] const std::vector<training_case<I, L>>& cases() const { return cases_; }
  [[nodiscard]] std::int64_t channels() const { return channels_; }

 private:
  Curriculum* curriculum_;
  Cropper cropper_;
  std::vector<training_case<I, L>> cases_;
  std::int32_t rank_;
  std::int32_t world_size_;
  bool pin_memory_;
  std::int64_t channels_ = 1;
};

}  // namespace pgps::libtorch
