// Class balance of a filled batch: the voxel fraction of each class in a label buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/crop/executor.hpp"

namespace pgps {

// Voxels per class of a label buffer. Voxels equal to the ignore label (the cropper's label pad
// value, -1 by default) are padding, not image content: they are counted apart and left out of
// the fractions, so a patch overhanging the volume does not look more "background" than it is.
struct class_fractions {
  std::vector<std::int64_t> voxels;  // voxels[c]: voxels of class c
  std::int64_t ignored = 0;          // voxels equal to the ignore label

  // Voxels of all classes, the denominator of the fractions.
  std::int64_t counted() const {
    std::int64_t total = 0;
    for (const std::int64_t v : voxels) total += v;
    return total;
  }
  // Fraction of counted voxels that are class c; 0 when nothing was counted.
  double fraction(std::size_t c) const {
    const std::int64_t total = counted();
    return total == 0 ? 0.0 : static_cast<double>(voxels.at(c)) / static_cast<double>(total);
  }
  // All fractions, one per class; they sum to 1 unless nothing was counted.
  std::vector<double> fractions() const {
    std::vector<double> out(voxels.size());
    for (std::size_t c = 0; c < voxels.size(); ++c) out[c] = fraction(c);
    return out;
  }
};

inline constexpr std::int64_t default_ignore_label = -1;

// Counts the classes [0, class_count) of a label buffer (any contiguous range of integers, e.g.
// the cropper's label output). A value outside the declared classes that is not the ignore
// label is an error naming the first such element. Work is split over the executor in fixed
// chunks and reduced in chunk order; the counts are integers, so any thread count gives the same
// result.
template <class Labels, class E = inline_executor>
requires std::ranges::contiguous_range<Labels> && std::ranges::sized_range<Labels> &&
    std::is_integral_v<std::ranges::range_value_t<Labels>> && Executor<E>
        class_fractions count_classes(const Labels& labels, std::int64_t class_count,
                                      std::int64_t ignore_label = default_ignore_label,
                                      const E& executor = E{}) {
  using L = std::ranges::range_value_t<Labels>;
  require(class_count >= 1 && class_count <= (std::int64_t{1} << 24), "class count ", class_count,
          " must be in [1, 2^24]");
  require(ignore_label < 0 || ignore_label >= class_count, "ignore label ", ignore_label,
          " is one of the declared classes [0, ", class_count, "); it must lie outside them");
  const std::span<const L> values(std::ranges::data(labels), std::ranges::size(labels));
  constexpr std::size_t chunk = std::size_t{1} << 16;
  const std::size_t chunks = (values.size() + chunk - 1) / chunk;
  const std::size_t classes = static_cast<std::size_t>(class_count);
  // Per chunk: class counts, then the ignored count; first_bad[k] = first bad element or npos.
  std::vector<std::int64_t> counts(chunks * (classes + 1), 0);
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> first_bad(chunks, none);
  executor.parallel_for(chunks, [&](std::size_t k) {
    std::int64_t* count = counts.data() + k * (classes + 1);
    const std::size_t end = std::min(values.size(), (k + 1) * chunk);
    for (std::size_t i = k * chunk; i < end; ++i) {
      const L v = values[i];
      if (std::cmp_greater_equal(v, 0) && std::cmp_less(v, class_count)) {
        ++count[static_cast<std::size_t>(v)];
      } else if (std::cmp_equal(v, ignore_label)) {
        ++count[classes];
      } else if (first_bad[k] == none) {
        first_bad[k] = i;
      }
    }
  });
  class_fractions result;
  result.voxels.assign(classes, 0);
  for (std::size_t k = 0; k < chunks; ++k) {
    if (first_bad[k] != none) {
      fail("label value ", +values[first_bad[k]], " at element ", first_bad[k],
           " is outside the declared classes [0, ", class_count, ") and is not the ignore label ",
           ignore_label);
    }
    for (std::size_t c = 0; c < classes; ++c) result.voxels[c] += counts[k * (classes + 1) + c];
    result.ignored += counts[k * (classes + 1) + classes];
  }
  return result;
}

}  // namespace pgps
