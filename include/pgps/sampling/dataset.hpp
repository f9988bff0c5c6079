// What samplers know about the training cases: per case its extent, its class index and,
// for weight-map sampling, a weight volume. Cheap to copy: indexes are shared, weights viewed.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/core/volume.hpp"
#include "pgps/sampling/class_index.hpp"

namespace pgps {

struct dataset_case {
  extent3 shape;
  std::shared_ptr<const class_index> index;
  // Optional per-voxel sampling weights (same extent as the case), viewed, not owned. A
  // weight_map_sampler builds its own tables from them at construction, so the memory needs
  // to live only until then.
  volume_view<const float> weights{};

  bool has_weights() const { return weights.data != nullptr; }
};

class dataset {
 public:
  dataset() = default;

  // Adds a case and returns its id (0, 1, ...). All cases share one class count.
  std::int64_t add_case(std::shared_ptr<const class_index> index, volume_view<const float> weights = {}) {
    require(index != nullptr, "dataset: case ", size(), " has a null class index");
    require(index->num_classes() >= 1, "dataset: case ", size(), " has an empty class index");
    require(cases_.empty() || index->num_classes() == num_classes(), "dataset: case ", size(), " has ",
            index->num_classes(), " classes but the dataset has ", num_classes());
    if (weights.data != nullptr) {
      require(weights.extent == index->shape(), "dataset: case ", size(), " has weights of extent ",
              weights.extent, " but labels of extent ", index->shape());
      require(weights.channels == 1, "dataset: case ", size(), " weights must have one channel, got ",
              weights.channels);
      try {
        detail::check_strides_injective(weights.extent, weights.stride, 1, 0);
      } catch (const error& e) {
        fail("dataset: case ", size(), " weights: ", e.reason());
      }
    }
    cases_.push_back({index->shape(), std::move(index), weights});
    return size() - 1;
  }
  std::int64_t add_case(class_index index, volume_view<const float> weights = {}) {
    return add_case(std::make_shared<const class_index>(std::move(index)), weights);
  }

  std::int64_t size() const { return static_cast<std::int64_t>(cases_.size()); }
  bool empty() const { return cases_.empty(); }
  std::int32_t num_classes() const { return cases_.empty() ? 0 : cases_.front().index->num_classes(); }
  const dataset_case& operator[](std::int64_t id) const { return cases_[static_cast<std::size_t>(id)]; }
  const std::vector<dataset_case>& cases() const { return cases_; }

  // The case of a slot: uniform over cases, with replacement (nnU-Net's DataLoader default).
  std::int64_t pick_case(random_stream& stream) const {
    return static_cast<std::int64_t>(stream.below(static_cast<std::uint64_t>(cases_.size())));
  }

 private:
  std::vector<dataset_case> cases_;
};

// Shared constructor checks of the samplers.
namespace detail {
inline void require_cases(const dataset& d, const char* sampler) {
  require(!d.empty(), sampler, ": the dataset has no cases");
}
inline void require_probability(double p, const char* sampler, const char* name) {
  require(std::isfinite(p) && p >= 0.0 && p <= 1.0, sampler, ": ", name, " ", p, " must lie in [0, 1]");
}
}  // namespace detail

// What a sampler does when the case of a slot has no voxel of the class it wants.
enum class on_missing_class : std::uint8_t {
  // nnU-Net: the slot gets an unforced random box (forced_class = no_forced_class).
  uniform_box,
  // MONAI: the wanted class is drawn only among those the case has (the draw is renormalized
  // over them); a case with none of them gets an unforced random box.
  renormalize,
  // The sampler's constructor throws, naming the first case that lacks the class(es), so
  // planning never meets the situation.
  fail,
};

}  // namespace pgps
