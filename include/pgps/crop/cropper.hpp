// The cropper: fills contiguous N×C×D×H×W image and N×D×H×W label buffers from a batch plan,
// with padding and dtype conversion. The one place of pgps that touches voxels.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/volume.hpp"
#include "pgps/crop/convert.hpp"
#include "pgps/crop/executor.hpp"
#include "pgps/crop/padding.hpp"
#include "pgps/sampling/batch_plan.hpp"

namespace pgps {

// One training case: an image of C channels and its label volume of the same extent.
template <class I, class L>
struct training_case {
  volume_view<const I> image;
  volume_view<const L> label;
};

// The padding of one output: mode and, for pad_mode::constant, the value. The value must be
// representable in the output element type (checked by every fill).
struct pad_spec {
  pad_mode mode = pad_mode::constant;
  double value = 0.0;
};

// Where a fill's writes go, for rows copied without conversion. Streaming (non-temporal) stores
// skip reading every output line before writing it and leave the cache to the dataset, but the
// batch then sits in DRAM rather than in cache.
enum class store_policy : std::uint8_t {
  automatic,  // streaming for batches over 16 MiB, which would not stay in cache anyway
  cached,     // never streaming: the CPU reads the batch right away (CPU training, augmentation)
  streaming,  // always streaming: the batch goes to a device by DMA or waits in a queue
};

constexpr bool is_known(store_policy p) {
  return p == store_policy::automatic || p == store_policy::cached || p == store_policy::streaming;
}

// nnU-Net's convention by default: images padded with 0, labels with -1 (an "ignore" label that
// class statistics skip and a loss can mask).
struct pad_options {
  pad_spec image{pad_mode::constant, 0.0};
  pad_spec label{pad_mode::constant, -1.0};
};

// Elements of the N×C×D×H×W image buffer a plan fills.
inline std::size_t image_elements(const batch_plan& plan, std::int64_t channels) {
  return plan.slots.size() * static_cast<std::size_t>(channels) *
         static_cast<std::size_t>(voxel_count(plan.patch));
}

// Elements of the N×D×H×W label buffer a plan fills.
inline std::size_t label_elements(const batch_plan& plan) {
  return plan.slots.size() * static_cast<std::size_t>(voxel_count(plan.patch));
}

// A contiguous, writable range of voxels: std::vector, std::span, a torch tensor's
// std::span(t.data_ptr<float>(), t.numel()), ...
template <class R>
concept output_buffer = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
    voxel_type<std::ranges::range_value_t<R>> &&
    !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;

namespace detail {

template <class T>
struct is_training_case : std::false_type {};
template <class I, class L>
struct is_training_case<training_case<I, L>> : std::true_type {};

template <class R>
concept case_range = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
    is_training_case<std::ranges::range_value_t<R>>::value;

// Z-planes per task: enough voxels that handing out a task costs far less than doing it, few
// enough that 2-16 threads get balanced work even for one slot.
inline std::int64_t planes_per_task(const extent3& patch) {
  constexpr std::int64_t voxels_per_task = 16384;
  const std::int64_t plane = patch[1] * patch[2];
  return std::clamp<std::int64_t>(voxels_per_task / plane, 1, patch[0]);
}

// Asks the cache for `count` contiguous elements (a hint; compiles to nothing where unsupported).
template <class T>
inline void prefetch_range(const T* first, std::int64_t count) {
#if defined(__GNUC__) || defined(__clang__)
  const char* begin = reinterpret_cast<const char*>(first);
  const char* end = reinterpret_cast<const char*>(first + count);
  for (const char* line = begin; line < end; line += 64) __builtin_prefetch(line);
  __builtin_prefetch(end - 1);
#else
  (void)first;
  (void)count;
#endif
}

// Under store_policy::automatic, batches larger than this are written with non-temporal
// (streaming) stores where the CPU has them: such a batch does not stay in cache anyway, and
// streaming skips reading every output line before writing it (a third of the memory traffic of
// a copy), as large memcpys do.
inline constexpr std::size_t streaming_store_bytes = std::size_t{16} << 20;

inline constexpr bool has_streaming_stores =
#if defined(__SSE2__)
    true;
#else
    false;
#endif

// memcpy with streaming stores for the 16-byte-aligned body of the destination.
inline void stream_bytes(char* out, const char* in, std::size_t bytes) {
#if defined(__SSE2__)
  std::size_t head = (16 - (reinterpret_cast<std::uintptr_t>(out) & 15)) & 15;
  if (head > bytes) head = bytes;
  std::memcpy(out, in, head);
  out += head;
  in += head;
  bytes -= head;
  for (; bytes >= 64; bytes -= 64, out += 64, in += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(out), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(out + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(out + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(out + 48), d);
  }
  for (; bytes >= 16; bytes -= 16, out += 16, in += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(out), _mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
  }
#endif
  std::memcpy(out, in, bytes);
}

// Orders streaming stores before whatever publishes the task's completion.
inline void streaming_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// memcpy of a short run, inlined: 64- and 16-byte chunks and one overlapping 16-byte tail. A
// crop row is often only 64-512 bytes, where the call and size dispatch of a library memcpy
// cost as much as the copy.
inline void copy_bytes(char* out, const char* in, std::size_t bytes) {
  if (bytes < 16) {
    std::memcpy(out, in, bytes);
    return;
  }
  std::size_t i = 0;
  for (; i + 64 <= bytes; i += 64) std::memcpy(out + i, in + i, 64);
  for (; i + 16 <= bytes; i += 16) std::memcpy(out + i, in + i, 16);
  if (i < bytes) std::memcpy(out + bytes - 16, in + bytes - 16, 16);
}

// Copies `count` voxels starting at `in` with element stride `stride` into out, converting.
template <class Out, class In>
inline void copy_run(Out* out, const In* in, std::int64_t stride, std::int64_t count) {
  if (stride == 1) {
    if constexpr (std::is_same_v<Out, In>) {
      copy_bytes(reinterpret_cast<char*>(out), reinterpret_cast<const char*>(in),
                 static_cast<std::size_t>(count) * sizeof(Out));
    } else {
      for (std::int64_t i = 0; i < count; ++i) out[i] = convert_value<Out>(in[i]);
    }
  } else {
    for (std::int64_t i = 0; i < count; ++i) out[i] = convert_value<Out>(in[i * stride]);
  }
}

// How one output row is filled: its source row (nullptr: the whole row is constant padding),
// the row's geometry along x and the padding.
template <class In>
struct row_source {
  const In* row = nullptr;  // voxel x = 0 of the source row
  std::int64_t stride = 1;  // x stride of the source
  std::int64_t extent = 1;  // source extent along x
};

struct row_geometry {
  std::int64_t lower = 0;  // box lower x
  std::int64_t width = 0;  // patch extent along x
  axis_interval inside;    // positions copied from the source, the rest is padding
};

template <class Out, class In>
inline void fill_padding(Out* out, std::int64_t begin, std::int64_t end, const row_source<In>& src,
                         std::int64_t lower, pad_mode mode, Out pad_value) {
  if (begin >= end) return;
  if (mode == pad_mode::constant) {
    std::fill(out + begin, out + end, pad_value);
  } else if (mode == pad_mode::edge) {
    const std::int64_t x = lower + begin < 0 ? 0 : src.extent - 1;
    std::fill(out + begin, out + end, convert_value<Out>(src.row[x * src.stride]));
  } else {
    reflect_walker walk(lower + begin, src.extent);
    for (std::int64_t t = begin; t < end; ++t, walk.advance()) {
      out[t] = convert_value<Out>(src.row[walk.position * src.stride]);
    }
  }
}

template <class Out, class In>
inline void fill_row(Out* out, const row_source<In>& src, const row_geometry& g, pad_mode mode,
                     Out pad_value) {
  if (src.row == nullptr) {
    std::fill(out, out + g.width, pad_value);
    return;
  }
  fill_padding(out, 0, g.inside.begin, src, g.lower, mode, pad_value);
  copy_run(out + g.inside.begin, src.row + (g.lower + g.inside.begin) * src.stride, src.stride,
           g.inside.size());
  fill_padding(out, g.inside.end, g.width, src, g.lower, mode, pad_value);
}

// Requests the source rows of one box from the cache a fixed number of rows before the copy
// reads them. Short rows scattered over the volume make the copy wait on DRAM unless many are
// in flight at once, and hardware prefetchers do not follow a stride of whole volume rows. It
// walks the rows that lie inside the volume along z and y in the copy's order, across planes
// (and so across the image/label interleaving of a task), and stops at the end of the task.
// Construction requests the first rows_ahead() rows.
template <class In>
class row_prefetcher {
 public:
  row_prefetcher(const volume_view<const In>& volume, std::int64_t channel, const box& region,
                 std::int64_t z_begin, std::int64_t z_end) {
    const axis_interval x = inside_interval(region.lower[2], region.extent[2], volume.extent[2]);
    const axis_interval y = inside_interval(region.lower[1], region.extent[1], volume.extent[1]);
    axis_interval z = inside_interval(region.lower[0], region.extent[0], volume.extent[0]);
    z.begin = std::max(z.begin, z_begin);
    z.end = std::min(z.end, z_end);
    if (volume.stride[2] != 1 || x.empty() || y.empty() || z.empty()) return;
    count_ = x.size();
    rows_ = y.size();
    planes_left_ = z.size();
    row_stride_ = volume.stride[1];
    plane_stride_ = volume.stride[0];
    plane_ = volume.data + channel * volume.channel_stride + (region.lower[0] + z.begin) * volume.stride[0] +
             (region.lower[1] + y.begin) * volume.stride[1] + region.lower[2] + x.begin;
    row_ = plane_;
    rows_left_ = rows_;
    advance(rows_ahead());
  }

  // Requests the next n rows.
  void advance(std::int64_t n) {
    for (; n > 0 && planes_left_ > 0; --n) {
      prefetch_range(row_, count_);
      if (--rows_left_ > 0) {
        row_ += row_stride_;
      } else if (--planes_left_ > 0) {
        plane_ += plane_stride_;
        row_ = plane_;
        rows_left_ = rows_;
      }
    }
  }

 private:
  // Rows kept in flight: about lead_bytes of them, so that many DRAM requests overlap, but
  // little enough to stay in L1 until copied. 2 KiB per stream (image and label each) read
  // 10-20% faster than 4 or 8 KiB at 32³ and 64³ in interleaved A/B runs of the crop benchmark
  // on a 2-core EPYC VM; 1 KiB was as fast.
  std::int64_t rows_ahead() const {
    constexpr std::int64_t lead_bytes = 2048;
    const std::int64_t row_bytes = count_ * static_cast<std::int64_t>(sizeof(In)) + 64;
    return std::clamp<std::int64_t>(lead_bytes / row_bytes, 2, 64);
  }

  const In* plane_ = nullptr;  // first requested voxel of the current plane
  const In* row_ = nullptr;    // first voxel of the next row to request
  std::int64_t count_ = 0;     // voxels per row
  std::int64_t rows_ = 0;      // rows per plane
  std::int64_t rows_left_ = 0;
  std::int64_t planes_left_ = 0;
  std::int64_t row_stride_ = 0;
  std::int64_t plane_stride_ = 0;
};

// Fills planes [z_begin, z_end) of one channel of one slot. Rows inside the volume along z and
// y (the common case) step linearly through the source; only padded rows map coordinates.
// `ahead` (made for this channel, box and a z range that starts at or before z_begin) is
// advanced one row per row read from inside the volume.
template <class Out, class In>
inline void fill_planes(Out* out, const volume_view<const In>& volume, std::int64_t channel,
                        const box& region, std::int64_t z_begin, std::int64_t z_end, pad_mode mode,
                        Out pad_value, bool stream, row_prefetcher<In>& ahead) {
  const extent3& patch = region.extent;
  const std::int64_t width = patch[2];
  const row_geometry geometry{region.lower[2], width,
                              inside_interval(region.lower[2], width, volume.extent[2])};
  const axis_interval inside_y = inside_interval(region.lower[1], patch[1], volume.extent[1]);
  const bool full_rows = geometry.inside.begin == 0 && geometry.inside.end == width;
  const std::int64_t row_stride = volume.stride[1];
  const std::int64_t x_stride = volume.stride[2];
  const In* channel_base = volume.data + channel * volume.channel_stride;
  for (std::int64_t z = z_begin; z < z_end; ++z) {
    Out* out_plane = out + z * patch[1] * width;
    const std::int64_t volume_z = region.lower[0] + z;
    const std::int64_t source_z = source_coordinate(mode, volume_z, volume.extent[0]);
    if (source_z == padded_coordinate) {
      std::fill(out_plane, out_plane + patch[1] * width, pad_value);
      continue;
    }
    const In* plane = channel_base + source_z * volume.stride[0];
    auto padded_row = [&](std::int64_t y) {
      const std::int64_t source_y = source_coordinate(mode, region.lower[1] + y, volume.extent[1]);
      const In* row = source_y == padded_coordinate ? nullptr : plane + source_y * row_stride;
      fill_row(out_plane + y * width, row_source<In>{row, x_stride, volume.extent[2]}, geometry, mode,
               pad_value);
    };
    for (std::int64_t y = 0; y < inside_y.begin; ++y) padded_row(y);
    // Planes mapped from outside the volume (edge, reflect) are not in the prefetcher's walk.
    const bool walked = volume_z >= 0 && volume_z < volume.extent[0];
    Out* out_row = out_plane + inside_y.begin * width;
    const In* row = plane + (region.lower[1] + inside_y.begin) * row_stride;
    if (full_rows && x_stride == 1 && std::is_same_v<Out, In>) {
      // The common case: whole rows of the same type, one linear walk.
      const In* first = row + region.lower[2];
      const auto bytes = static_cast<std::size_t>(width) * sizeof(Out);
      for (std::int64_t y = inside_y.begin; y < inside_y.end; ++y, first += row_stride, out_row += width) {
        if (walked) ahead.advance(1);
        if (stream) {
          stream_bytes(reinterpret_cast<char*>(out_row), reinterpret_cast<const char*>(first), bytes);
        } else {
          copy_bytes(reinterpret_cast<char*>(out_row), reinterpret_cast<const char*>(first), bytes);
        }
      }
    } else if (full_rows) {
      const In* first = row + region.lower[2] * x_stride;
      for (std::int64_t y = inside_y.begin; y < inside_y.end; ++y, first += row_stride, out_row += width) {
        if (walked) ahead.advance(1);
        copy_run(out_row, first, x_stride, width);
      }
    } else {
      for (std::int64_t y = inside_y.begin; y < inside_y.end; ++y, row += row_stride, out_row += width) {
        if (walked) ahead.advance(1);
        fill_row(out_row, row_source<In>{row, x_stride, volume.extent[2]}, geometry, mode, pad_value);
      }
    }
    for (std::int64_t y = inside_y.end; y < patch[1]; ++y) padded_row(y);
  }
}

inline void check_pad(const pad_spec& pad, const char* what) {
  require(is_known(pad.mode), "unknown ", what, " pad mode ", static_cast<int>(pad.mode),
          "; use pad_mode::constant, pad_mode::edge or pad_mode::reflect");
}

template <class Out>
void check_pad_value(const pad_spec& pad, const char* what) {
  require(representable_as<Out>(pad.value), what, " pad value ", pad.value,
          " is not representable in the output element type (", sizeof(Out), "-byte ",
          std::is_floating_point_v<Out> ? "floating point" : (std::is_signed_v<Out> ? "signed" : "unsigned"),
          "); choose a value the output type holds exactly");
}

template <class T>
void check_volume(const volume_view<const T>& v, std::size_t case_id, const char* what) {
  require(v.data != nullptr, "case ", case_id, ": ", what, " data pointer is null");
  require(all_positive(v.extent), "case ", case_id, ": ", what, " extent ", v.extent,
          " has a non-positive axis; each axis must be >= 1");
  require(v.channels >= 1, "case ", case_id, ": ", what, " channel count ", v.channels, " must be >= 1");
  try {
    check_strides_injective(v.extent, v.stride, v.channels, v.channel_stride);
  } catch (const error& e) {
    fail("case ", case_id, ": ", what, ": ", e.reason());
  }
}

inline void check_slots(const batch_plan& plan, std::size_t case_count) {
  require(all_positive(plan.patch), "batch plan patch extent ", plan.patch,
          " has a non-positive axis; each axis must be >= 1");
  for (std::size_t k = 0; k < plan.slots.size(); ++k) {
    const slot_plan& slot = plan.slots[k];
    require(slot.case_id >= 0 && static_cast<std::size_t>(slot.case_id) < case_count, "slot ", k,
            " (global slot ", plan.first_slot + static_cast<std::int64_t>(k), ") names case ", slot.case_id,
            "; valid case ids are [0, ", case_count, ")");
    require(slot.region.extent == plan.patch, "slot ", k, " box extent ", slot.region.extent,
            " differs from the plan's patch ", plan.patch, "; every box of a plan has the patch extent");
  }
}

template <class Out>
void check_buffer(const Out* data, std::size_t size, std::size_t needed, const char* what) {
  require(size == needed, what, " buffer has ", size, " elements; the plan fills exactly ", needed);
  require(needed == 0 || data != nullptr, what, " buffer data pointer is null");
}

}  // namespace detail

// Fills batches from plans. The executor runs one task per (slot, slab of z-planes); every task
// writes its own part of the output from the same inputs, so the result is bit-identical for
// any executor and thread count. Every fill validates the plan, the cases and the buffers first
// and throws pgps::error before writing anything; the copy itself neither throws nor allocates.
//
// E may be a reference (cropper<thread_pool&>) to share a pool with other work.
template <class E = inline_executor>
requires Executor<E>
class cropper {
 public:
  explicit cropper(pad_options options = {}) requires std::default_initializable<E> : cropper(options, E{}) {}

  cropper(pad_options options, E executor, store_policy stores = store_policy::automatic)
      : options_(options), executor_(std::forward<E>(executor)), stores_(stores) {
    detail::check_pad(options_.image, "image");
    detail::check_pad(options_.label, "label");
    require(is_known(stores_), "unknown store policy ", static_cast<int>(stores_),
            "; use store_policy::automatic, store_policy::cached or store_policy::streaming");
  }

  const pad_options& options() const { return options_; }
  store_policy stores() const { return stores_; }
  const std::remove_reference_t<E>& executor() const { return executor_; }

  // Training: images into an N×C×D×H×W buffer, labels into an N×D×H×W buffer. All cases need
  // the same channel count C; each label has one channel and its image's extent.
  template <detail::case_range Cases, output_buffer ImageOut, output_buffer LabelOut>
  void fill(const batch_plan& plan, const Cases& cases, ImageOut&& image_out, LabelOut&& label_out) const {
    using case_type = std::ranges::range_value_t<Cases>;
    using OI = std::ranges::range_value_t<ImageOut>;
    using OL = std::ranges::range_value_t<LabelOut>;
    const std::span<const case_type> all(std::ranges::data(cases), std::ranges::size(cases));
    const std::int64_t channels = validate_images(plan, all, [](const case_type& c) { return c.image; });
    for (std::size_t k = 0; k < all.size(); ++k) {
      detail::check_volume(all[k].label, k, "label");
      require(all[k].label.channels == 1, "case ", k, ": label volume has ", all[k].label.channels,
              " channels; a label volume has exactly 1");
      require(all[k].label.extent == all[k].image.extent, "case ", k, ": image extent ", all[k].image.extent,
              " and label extent ", all[k].label.extent, " differ; they must be equal");
    }
    detail::check_buffer(std::ranges::data(image_out), std::ranges::size(image_out),
                         image_elements(plan, channels), "image");
    detail::check_buffer(std::ranges::data(label_out), std::ranges::size(label_out), label_elements(plan),
                         "label");
    detail::check_pad_value<OI>(options_.image, "image");
    detail::check_pad_value<OL>(options_.label, "label");
    run(plan, all, channels, std::ranges::data(image_out), std::ranges::data(label_out));
  }

  // Inference (or images only): an N×C×D×H×W buffer from image volumes.
  template <class Images, output_buffer ImageOut>
  requires std::ranges::contiguous_range<Images> && std::ranges::sized_range<Images>
  void fill_images(const batch_plan& plan, const Images& images, ImageOut&& image_out) const {
    using view_type = std::ranges::range_value_t<Images>;
    using I = typename view_type::value_type;
    static_assert(std::is_same_v<view_type, volume_view<const I>>,
                  "fill_images takes volume_view<const T> images");
    using OI = std::ranges::range_value_t<ImageOut>;
    const std::span<const view_type> all(std::ranges::data(images), std::ranges::size(images));
    const std::int64_t channels = validate_images(plan, all, [](const view_type& v) { return v; });
    detail::check_buffer(std::ranges::data(image_out), std::ranges::size(image_out),
                         image_elements(plan, channels), "image");
    detail::check_pad_value<OI>(options_.image, "image");
    run(plan, all, channels, std::ranges::data(image_out), static_cast<OI*>(nullptr));
  }

 private:
  template <class Case, class ImageOf>
  static std::int64_t validate_images(const batch_plan& plan, std::span<const Case> cases, ImageOf image_of) {
    detail::check_slots(plan, cases.size());
    std::int64_t channels = 1;
    for (std::size_t k = 0; k < cases.size(); ++k) {
      const auto image = image_of(cases[k]);
      detail::check_volume(image, k, "image");
      if (k == 0) channels = image.channels;
      require(image.channels == channels, "case ", k, " has ", image.channels,
              " image channels but case 0 has ", channels,
              "; every case of a batch needs the same channel count");
    }
    return channels;
  }

  template <class T>
  static const volume_view<const T>& image_view(const volume_view<const T>& v) {
    return v;
  }
  template <class I, class L>
  static const volume_view<const I>& image_view(const training_case<I, L>& c) {
    return c.image;
  }

  // The hot path: no checks, no allocation, no throw.
  template <class Case, class OI, class OL>
  void run(const batch_plan& plan, std::span<const Case> cases, std::int64_t channels, OI* image_out,
           OL* label_out) const {
    const extent3 patch = plan.patch;
    const std::int64_t voxels = voxel_count(patch);
    const std::int64_t slab = detail::planes_per_task(patch);
    const std::int64_t slabs_per_slot = (patch[0] + slab - 1) / slab;
    const std::size_t tasks = plan.slots.size() * static_cast<std::size_t>(slabs_per_slot);
    const OI image_pad = convert_value<OI>(options_.image.value);
    const OL label_pad = convert_value<OL>(options_.label.value);
    const pad_options& pad = options_;
    const bool stream = detail::has_streaming_stores &&
                        (stores_ == store_policy::streaming ||
                         (stores_ == store_policy::automatic &&
                          image_elements(plan, channels) * sizeof(OI) + label_elements(plan) * sizeof(OL) >=
                              detail::streaming_store_bytes));
    executor_.parallel_for(tasks, [&](std::size_t task) {
      const std::size_t s = task / static_cast<std::size_t>(slabs_per_slot);
      const std::int64_t z_begin =
          static_cast<std::int64_t>(task % static_cast<std::size_t>(slabs_per_slot)) * slab;
      const std::int64_t z_end = std::min(z_begin + slab, patch[0]);
      const slot_plan& slot = plan.slots[s];
      const Case& source = cases[static_cast<std::size_t>(slot.case_id)];
      const auto& image = image_view(source);
      using image_value = typename std::remove_cvref_t<decltype(image)>::value_type;
      const std::int64_t slot_index = static_cast<std::int64_t>(s);
      OI* const image_slot = image_out + slot_index * channels * voxels;
      // Each image channel over the whole slab, one after the other (each its own stream).
      auto fill_image_channels = [&] {
        for (std::int64_t c = 0; c < channels; ++c) {
          detail::row_prefetcher<image_value> image_ahead(image, c, slot.region, z_begin, z_end);
          detail::fill_planes(image_slot + c * voxels, image, c, slot.region, z_begin, z_end, pad.image.mode,
                              image_pad, stream, image_ahead);
        }
      };
      if constexpr (detail::is_training_case<Case>::value) {
        using label_value = typename decltype(source.label)::value_type;
        OL* const label_slot = label_out + slot_index * voxels;
        if (channels == 1) {
          // Plane by plane, image and label: both streams keep their rows in flight, instead of
          // the label starting cold after the image has finished the whole slab.
          detail::row_prefetcher<image_value> image_ahead(image, 0, slot.region, z_begin, z_end);
          detail::row_prefetcher<label_value> label_ahead(source.label, 0, slot.region, z_begin, z_end);
          for (std::int64_t z = z_begin; z < z_end; ++z) {
            detail::fill_planes(image_slot, image, 0, slot.region, z, z + 1, pad.image.mode, image_pad,
                                stream, image_ahead);
            detail::fill_planes(label_slot, source.label, 0, slot.region, z, z + 1, pad.label.mode, label_pad,
                                stream, label_ahead);
          }
        } else {
          fill_image_channels();
          detail::row_prefetcher<label_value> label_ahead(source.label, 0, slot.region, z_begin, z_end);
          detail::fill_planes(label_slot, source.label, 0, slot.region, z_begin, z_end, pad.label.mode,
                              label_pad, stream, label_ahead);
        }
      } else {
        (void)label_out;
        (void)label_pad;
        fill_image_channels();
      }
      if (stream) detail::streaming_fence();
    });
  }

  pad_options options_;
  E executor_;
  store_policy stores_ = store_policy::automatic;
};

}  // namespace pgps
