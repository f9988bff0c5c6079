// Class index: the voxel locations of every class of one label volume, built in one read of the
// labels, stored as 32-bit linear offsets, optionally subsampled the way nnU-Net does, and
// saved to a small versioned file so that a dataset is indexed once.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/core/volume.hpp"

namespace pgps {

// The label element types a class index reads.
template <class L>
concept label_value = std::is_same_v<L, std::uint8_t> || std::is_same_v<L, std::int8_t> ||
    std::is_same_v<L, std::int16_t> || std::is_same_v<L, std::uint16_t> || std::is_same_v<L, std::int32_t>;

struct class_index_options {
  // Labels must lie in [0, num_classes); class 0 is background.
  std::int32_t num_classes = 0;
  // Store the locations of class 0 too. Samplers that centre boxes on background voxels
  // (positive/negative, class ratios with a background share) need them; nnU-Net does not.
  bool index_background = true;
  // Keep only a random subset of each class's locations: max(min(min_samples, n), ceil(min_fraction·n))
  // of the n voxels, drawn without replacement (nnU-Net's sample_foreground_locations rule).
  // true_count() still reports n, so estimates can rescale.
  bool subsample = false;
  std::int64_t min_samples = 10000;
  double min_fraction = 0.01;
  std::uint64_t seed = 1234;  // the subset is a pure function of (seed, class, n)

  // nnU-Net's preprocessing: foreground classes only, subsampled, seed 1234.
  static class_index_options nnunet(std::int32_t num_classes) {
    class_index_options o;
    o.num_classes = num_classes;
    o.index_background = false;
    o.subsample = true;
    return o;
  }
};

// Number of locations nnU-Net keeps of a class with n voxels.
inline std::int64_t nnunet_sample_count(std::int64_t n, std::int64_t min_samples = 10000,
                                        double min_fraction = 0.01) {
  if (n <= 0) return 0;
  const auto fraction = static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * min_fraction));
  return std::min(n, std::max(std::min(min_samples, n), fraction));
}

namespace detail {
inline constexpr std::int64_t max_indexed_voxels = std::int64_t{1} << 32;

// Calls emit(value, first_offset, length) for each run of equal labels, in increasing C-order
// offset, starting at linear offset `begin`. Runs never cross a row unless the whole volume is
// contiguous. Long runs are skipped a machine word at a time.
template <class L, class Emit>
void for_each_label_run(const volume_view<const L>& labels, std::int64_t begin, Emit&& emit) {
  const extent3 e = labels.extent;
  const std::int64_t n = voxel_count(e);
  auto scan_contiguous = [&](const L* p, std::int64_t from, std::int64_t to, std::int64_t base) {
    std::int64_t i = from;
    while (i < to) {
      const L v = p[i];
      std::int64_t j = i + 1;
      if constexpr (sizeof(L) < 8) {
        constexpr std::int64_t per_word = 8 / static_cast<std::int64_t>(sizeof(L));
        std::uint64_t pattern = 0;
        for (std::int64_t k = 0; k < per_word; ++k)
          std::memcpy(reinterpret_cast<unsigned char*>(&pattern) + k * sizeof(L), &v, sizeof(L));
        while (j + 4 * per_word <= to) {
          std::uint64_t w[4];
          std::memcpy(w, p + j, sizeof(w));
          if (((w[0] ^ pattern) | (w[1] ^ pattern) | (w[2] ^ pattern) | (w[3] ^ pattern)) != 0) break;
          j += 4 * per_word;
        }
      }
      while (j < to && p[j] == v) ++j;
      emit(v, base + i, j - i);
      i = j;
    }
  };
  const index3 s = labels.stride;
  if (s[2] == 1 && s[1] == e[2] && s[0] == e[1] * e[2]) {
    scan_contiguous(labels.data, begin, n, 0);
    return;
  }
  const std::int64_t rows = e[0] * e[1];
  for (std::int64_t row = begin / e[2]; row < rows; ++row) {
    const std::int64_t z = row / e[1], y = row % e[1];
    const L* p = labels.data + z * s[0] + y * s[1];
    const std::int64_t from = row == begin / e[2] ? begin % e[2] : 0;
    if (s[2] == 1) {
      scan_contiguous(p, from, e[2], row * e[2]);
      continue;
    }
    std::int64_t x = from;
    while (x < e[2]) {
      const L v = p[x * s[2]];
      std::int64_t j = x + 1;
      while (j < e[2] && p[j * s[2]] == v) ++j;
      emit(v, row * e[2] + x, j - x);
      x = j;
    }
  }
}

// k distinct sorted ranks out of [0, n), uniform over all k-subsets, a pure function of stream.
inline void choose_sorted_ranks(random_stream& stream, std::uint64_t n, std::uint64_t k, std::uint32_t* out) {
  if (k == 0) return;
  const bool complement = 2 * k > n;
  const std::uint64_t pick = complement ? n - k : k;
  std::vector<std::uint32_t> chosen;
  chosen.reserve(pick);
  while (chosen.size() < pick) {
    const std::size_t before = chosen.size();
    const std::uint64_t missing = pick - before;
    for (std::uint64_t i = 0; i < missing; ++i) chosen.push_back(static_cast<std::uint32_t>(stream.below(n)));
    std::sort(chosen.begin() + static_cast<std::ptrdiff_t>(before), chosen.end());
    std::inplace_merge(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(before), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  }
  if (!complement) {
    std::copy(chosen.begin(), chosen.end(), out);
    return;
  }
  std::size_t skip = 0;
  std::uint64_t written = 0;
  for (std::uint64_t r = 0; r < n; ++r) {
    if (skip < chosen.size() && chosen[skip] == r) {
      ++skip;
      continue;
    }
    out[written++] = static_cast<std::uint32_t>(r);
  }
}

// Leaves new elements of trivial types uninitialized on resize: the build writes every location
// it stores, and zeroing them first costs a whole extra pass over an index that can be twice the
// size of the labels (measured: 8.4 ms zeroed vs 3.9 ms not, for 28 MB on a 2-core EPYC VM).
template <class T>
struct default_init_allocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = default_init_allocator<U>;
  };
  using std::allocator<T>::allocator;
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// FNV-1a, 64 bit: small, dependency-free, and enough to catch a corrupt or truncated file.
inline std::uint64_t fnv1a64(const unsigned char* data, std::size_t size,
                             std::uint64_t hash = 0xcbf29ce484222325ull) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

class byte_writer {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_integral_v<T>);
    using U = std::make_unsigned_t<T>;
    auto u = static_cast<U>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bytes.push_back(static_cast<unsigned char>((u >> (8 * i)) & 0xFFu));
  }
  std::vector<unsigned char> bytes;
};

class byte_reader {
 public:
  explicit byte_reader(std::span<const unsigned char> b) : bytes_(b) {}
  template <class T>
  T get(const char* what) {
    static_assert(std::is_integral_v<T>);
    require(bytes_.size() - position_ >= sizeof(T), "class index file is truncated: it ends while reading ",
            what, " at byte ", position_, " of ", bytes_.size());
    std::make_unsigned_t<T> u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      u = static_cast<std::make_unsigned_t<T>>(
          u | (static_cast<std::make_unsigned_t<T>>(bytes_[position_ + i]) << (8 * i)));
    position_ += sizeof(T);
    return static_cast<T>(u);
  }
  std::size_t position() const { return position_; }
  std::size_t remaining() const { return bytes_.size() - position_; }

 private:
  std::span<const unsigned char> bytes_;
  std::size_t position_ = 0;
};
}  // namespace detail

// Per-class voxel locations of one label volume. Locations are C-order linear offsets into the
// volume's extent (z slowest), sorted ascending within each class; 4 bytes each.
class class_index {
 public:
  static constexpr char file_magic[8] = {'P', 'G', 'P', 'S', 'C', 'I', 'D', 'X'};
  static constexpr std::uint32_t file_version = 1;

  class_index() = default;

  // Reads the labels once. Throws pgps::error, naming the value, the voxel and the allowed range,
  // for a label outside [0, num_classes); for a volume with more than 2^32 voxels; for a null
  // or multi-channel view.
  template <label_value L>
  static class_index build(const volume_view<const L>& labels, const class_index_options& options);
  template <label_value L>
  static class_index build(const volume_view<L>& labels, const class_index_options& options) {
    return build(static_cast<volume_view<const L>>(labels), options);
  }

  const extent3& shape() const { return shape_; }
  std::int32_t num_classes() const { return static_cast<std::int32_t>(true_counts_.size()); }
  bool background_indexed() const { return background_indexed_; }
  bool subsampled() const { return subsampled_; }
  // Whether the locations of class c are stored (always for c >= 1; class 0 if index_background).
  bool indexed(std::int32_t c) const { return c >= 1 || background_indexed_; }
  // Voxels of class c in the volume, whatever was stored.
  std::int64_t true_count(std::int32_t c) const { return true_counts_[static_cast<std::size_t>(c)]; }
  std::int64_t stored_count(std::int32_t c) const {
    return static_cast<std::int64_t>(begins_[static_cast<std::size_t>(c) + 1] -
                                     begins_[static_cast<std::size_t>(c)]);
  }
  bool present(std::int32_t c) const { return true_count(c) > 0; }
  std::span<const std::uint32_t> locations(std::int32_t c) const {
    return {locations_.data() + begins_[static_cast<std::size_t>(c)],
            static_cast<std::size_t>(stored_count(c))};
  }
  index3 location(std::int32_t c, std::int64_t i) const {
    return unravel(locations(c)[static_cast<std::size_t>(i)], shape_);
  }
  // A stored location of class c drawn uniformly; c must have stored locations.
  index3 random_location(std::int32_t c, random_stream& stream) const {
    return location(c, static_cast<std::int64_t>(stream.below(static_cast<std::uint64_t>(stored_count(c)))));
  }
  // Voxels of classes >= 1, and the foreground class holding the r-th foreground voxel
  // (r in [0, foreground_count())) in class order: draws a foreground voxel uniformly.
  std::int64_t foreground_count() const { return foreground_prefix_.empty() ? 0 : foreground_prefix_.back(); }
  std::int32_t foreground_class_of_rank(std::int64_t r) const {
    const auto it = std::upper_bound(foreground_prefix_.begin(), foreground_prefix_.end(), r);
    return static_cast<std::int32_t>(it - foreground_prefix_.begin()) + 1;  // prefix[0] counts class 1
  }
  // Bytes held by locations and per-class tables.
  std::size_t memory_bytes() const {
    return locations_.size() * sizeof(std::uint32_t) + begins_.size() * sizeof(std::uint64_t) +
           true_counts_.size() * sizeof(std::int64_t) + foreground_prefix_.size() * sizeof(std::int64_t);
  }

  // The versioned file format (little endian): magic "PGPSCIDX", u32 version, u32 flags
  // (bit 0 background indexed, bit 1 subsampled), i64 shape[3], i32 num_classes, then per
  // class i64 true count and u64 stored count, then the u32 locations, then a u64 FNV-1a of
  // every byte after the magic.
  std::vector<unsigned char> serialize() const;
  static class_index deserialize(std::span<const unsigned char> bytes);
  void save(const std::string& path) const;
  static class_index load(const std::string& path);

  friend bool operator==(const class_index&, const class_index&) = default;

 private:
  void finish_tables() {
    foreground_prefix_.assign(true_counts_.size() > 1 ? true_counts_.size() - 1 : 0, 0);
    std::int64_t sum = 0;
    for (std::size_t c = 1; c < true_counts_.size(); ++c)
      foreground_prefix_[c - 1] = (sum += true_counts_[c]);
  }

  extent3 shape_;
  bool background_indexed_ = false;
  bool subsampled_ = false;
  std::vector<std::int64_t> true_counts_;
  std::vector<std::uint64_t> begins_;  // num_classes + 1 entries into locations_
  std::vector<std::uint32_t, detail::default_init_allocator<std::uint32_t>> locations_;
  std::vector<std::int64_t> foreground_prefix_;  // cumulative true counts of classes 1..K-1
};

template <label_value L>
class_index class_index::build(const volume_view<const L>& labels, const class_index_options& options) {
  require(labels.data != nullptr, "class index: label data pointer is null");
  require(all_positive(labels.extent), "class index: label extent ", labels.extent,
          " has a non-positive axis; each axis must be >= 1");
  require(labels.channels == 1, "class index: a label volume has one channel, got ", labels.channels);
  try {
    detail::check_strides_injective(labels.extent, labels.stride, 1, 0);
  } catch (const error& e) {
    fail("class index: labels: ", e.reason());
  }
  require(options.num_classes >= 1, "class index: num_classes ", options.num_classes, " must be >= 1");
  if constexpr (std::numeric_limits<L>::max() < std::numeric_limits<std::int32_t>::max()) {
    require(options.num_classes <= static_cast<std::int64_t>(std::numeric_limits<L>::max()) + 1,
            "class index: num_classes ", options.num_classes, " exceeds what the label type can hold (",
            static_cast<std::int64_t>(std::numeric_limits<L>::max()) + 1, ")");
  }
  require(options.min_samples >= 0, "class index: min_samples ", options.min_samples, " must be >= 0");
  require(options.min_fraction >= 0.0 && options.min_fraction <= 1.0, "class index: min_fraction ",
          options.min_fraction, " must lie in [0, 1]");
  // Samplers draw a stored location of every class that has voxels; with both at 0 a present
  // class would store none.
  require(!options.subsample || options.min_samples > 0 || options.min_fraction > 0.0,
          "class index: subsampling with min_samples 0 and min_fraction 0 would store no location of a class "
          "that has voxels; make at least one of them positive");
  const std::int64_t n = voxel_count(labels.extent);
  require(n <= detail::max_indexed_voxels, "class index: volume ", labels.extent, " has ", n,
          " voxels; locations are 32-bit offsets, so at most 2^32 = ", detail::max_indexed_voxels,
          " are supported");

  const auto k_classes = static_cast<std::size_t>(options.num_classes);
  const auto limit = static_cast<std::uint32_t>(options.num_classes);
  class_index index;
  index.shape_ = labels.extent;
  index.background_indexed_ = options.index_background;
  index.subsampled_ = options.subsample;
  index.true_counts_.assign(k_classes, 0);

  // Read 1: histogram, range check, and the runs themselves while they are few enough to keep
  // (at most 0.75 bytes per voxel); the fill then needs no second read of the labels unless the
  // volume is noise-like.
  struct run {
    std::uint32_t start;
    std::uint32_t length;
    std::uint32_t label;
  };
  std::vector<run> runs;
  const std::size_t run_budget = static_cast<std::size_t>(n / 16 + 4096);
  runs.reserve(std::min<std::size_t>(run_budget, 1u << 16));
  std::int64_t resume = -1;  // first offset whose runs were not kept
  std::int64_t* counts = index.true_counts_.data();
  detail::for_each_label_run(labels, 0, [&](L value, std::int64_t start, std::int64_t length) {
    // Compare as unsigned so negative labels fail the same single test.
    const auto u = static_cast<std::uint32_t>(static_cast<std::int64_t>(value));
    if (u >= limit || static_cast<std::int64_t>(value) < 0) {
      fail("class index: label value ", static_cast<std::int64_t>(value), " at voxel ",
           unravel(start, labels.extent), " is outside the declared classes [0, ", options.num_classes, ")");
    }
    counts[u] += length;
    if (resume < 0) {
      // A run of 2^32 voxels (a one-label volume of the largest indexable size) does not fit
      // the 32-bit length; the second read places it with 64-bit lengths.
      if (runs.size() < run_budget && length <= std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
        runs.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(length), u});
      } else {
        resume = start;
      }
    }
  });

  // Sizes, and for subsampled classes the sorted ranks (k-th voxel of the class in scan order)
  // to keep, written where their offsets will go.
  index.begins_.assign(k_classes + 1, 0);
  std::vector<std::uint64_t> keep(k_classes, 0);
  for (std::size_t c = 0; c < k_classes; ++c) {
    const auto total = static_cast<std::int64_t>(index.true_counts_[c]);
    const bool stored = c >= 1 || options.index_background;
    const std::int64_t k = !stored ? 0
                           : options.subsample
                               ? nnunet_sample_count(total, options.min_samples, options.min_fraction)
                               : total;
    keep[c] = static_cast<std::uint64_t>(k);
    index.begins_[c + 1] = index.begins_[c] + keep[c];
  }
  index.locations_.resize(index.begins_.back());
  std::vector<std::uint64_t> cursor(index.begins_.begin(), index.begins_.end() - 1);
  std::vector<std::uint64_t> seen(k_classes, 0);  // voxels of the class passed so far
  std::vector<std::uint8_t> mode(k_classes, 0);   // 0 skip, 1 all, 2 subset
  for (std::size_t c = 0; c < k_classes; ++c) {
    const auto total = static_cast<std::uint64_t>(index.true_counts_[c]);
    if (keep[c] == 0) continue;
    if (keep[c] == total) {
      mode[c] = 1;
      continue;
    }
    mode[c] = 2;
    random_stream stream(counter{options.seed, 0, 0, 0, static_cast<std::uint32_t>(c)}, stream_purpose::user);
    detail::choose_sorted_ranks(stream, total, keep[c], index.locations_.data() + index.begins_[c]);
  }

  std::uint32_t* out = index.locations_.data();
  const std::uint64_t* ends = index.begins_.data() + 1;
  auto place = [&](std::uint32_t c, std::uint64_t start, std::uint64_t length) {
    switch (mode[c]) {
      case 1: {
        std::uint32_t* dst = out + cursor[c];
        const auto first = static_cast<std::uint32_t>(start);
        for (std::uint64_t i = 0; i < length; ++i) dst[i] = first + static_cast<std::uint32_t>(i);
        cursor[c] += length;
        break;
      }
      case 2: {
        std::uint64_t p = cursor[c];
        const std::uint64_t end = ends[c], base = seen[c];
        while (p < end && out[p] < base + length) {
          out[p] = static_cast<std::uint32_t>(start + (out[p] - base));
          ++p;
        }
        cursor[c] = p;
        seen[c] = base + length;
        break;
      }
      default:
        break;
    }
  };
  for (const run& r : runs) place(r.label, r.start, r.length);
  if (resume >= 0) {
    detail::for_each_label_run(labels, resume, [&](L value, std::int64_t start, std::int64_t length) {
      place(static_cast<std::uint32_t>(static_cast<std::int64_t>(value)), static_cast<std::uint64_t>(start),
            static_cast<std::uint64_t>(length));
    });
  }
  index.finish_tables();
  return index;
}

inline std::vector<unsigned char> class_index::serialize() const {
  detail::byte_writer w;
  w.bytes.reserve(64 + true_counts_.size() * 16 + locations_.size() * 4);
  w.bytes.insert(w.bytes.end(), std::begin(file_magic), std::end(file_magic));
  w.put<std::uint32_t>(file_version);
  w.put<std::uint32_t>((background_indexed_ ? 1u : 0u) | (subsampled_ ? 2u : 0u));
  for (int a = 0; a < axis_count; ++a) w.put<std::int64_t>(shape_[a]);
  w.put<std::int32_t>(num_classes());
  for (std::int32_t c = 0; c < num_classes(); ++c) {
    w.put<std::int64_t>(true_count(c));
    w.put<std::uint64_t>(static_cast<std::uint64_t>(stored_count(c)));
  }
  const std::size_t payload = w.bytes.size();
  w.bytes.resize(payload + locations_.size() * 4);
  unsigned char* dst = w.bytes.data() + payload;
  if constexpr (std::endian::native == std::endian::little) {
    if (!locations_.empty()) std::memcpy(dst, locations_.data(), locations_.size() * 4);
  } else {
    for (std::size_t i = 0; i < locations_.size(); ++i)
      for (int b = 0; b < 4; ++b)
        dst[4 * i + static_cast<std::size_t>(b)] = static_cast<unsigned char>(locations_[i] >> (8 * b));
  }
  w.put<std::uint64_t>(
      detail::fnv1a64(w.bytes.data() + sizeof(file_magic), w.bytes.size() - sizeof(file_magic)));
  return std::move(w.bytes);
}

inline class_index class_index::deserialize(std::span<const unsigned char> bytes) {
  require(bytes.size() >= sizeof(file_magic) && std::equal(std::begin(file_magic), std::end(file_magic),
                                                           reinterpret_cast<const char*>(bytes.data())),
          "not a pgps class index file: the first 8 bytes are not \"PGPSCIDX\"");
  require(bytes.size() >= sizeof(file_magic) + 8, "class index file is truncated: ", bytes.size(), " bytes");
  const std::span<const unsigned char> body =
      bytes.subspan(sizeof(file_magic), bytes.size() - sizeof(file_magic) - 8);
  detail::byte_reader tail(bytes.subspan(bytes.size() - 8));
  detail::byte_reader r(body);
  const auto version = r.get<std::uint32_t>("the version");
  require(version == file_version, "class index file has format version ", version,
          "; this pgps reads version ", file_version);
  const std::uint64_t stored_sum = tail.get<std::uint64_t>("the checksum");
  require(detail::fnv1a64(body.data(), body.size()) == stored_sum,
          "class index file is corrupt or truncated: its checksum does not match its contents");
  class_index index;
  const auto flags = r.get<std::uint32_t>("the flags");
  require(flags <= 3u, "class index file has unknown flags ", flags);
  index.background_indexed_ = (flags & 1u) != 0;
  index.subsampled_ = (flags & 2u) != 0;
  for (int a = 0; a < axis_count; ++a) index.shape_[a] = r.get<std::int64_t>("the shape");
  require(all_positive(index.shape_) && index.shape_[0] <= detail::max_indexed_voxels &&
              index.shape_[1] <= detail::max_indexed_voxels &&
              index.shape_[2] <= detail::max_indexed_voxels &&
              voxel_count(index.shape_) <= detail::max_indexed_voxels,
          "class index file has an invalid shape ", index.shape_);
  const std::int64_t n = voxel_count(index.shape_);
  const auto k = r.get<std::int32_t>("the class count");
  require(k >= 1 && static_cast<std::uint64_t>(k) * 16 <= r.remaining(),
          "class index file has an invalid class count ", k);
  index.true_counts_.resize(static_cast<std::size_t>(k));
  index.begins_.assign(static_cast<std::size_t>(k) + 1, 0);
  std::int64_t total = 0;
  for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c) {
    const auto t = r.get<std::int64_t>("a true count");
    const auto s = r.get<std::uint64_t>("a stored count");
    require(t >= 0 && t <= n && s <= static_cast<std::uint64_t>(t),
            "class index file has invalid counts for class ", c, ": ", t, " voxels, ", s, " stored");
    require(c >= 1 || index.background_indexed_ || s == 0,
            "class index file stores background locations but says it does not");
    require(s > 0 || t == 0 || (c == 0 && !index.background_indexed_), "class index file has ", t,
            " voxels of class ", c,
            " but stores none of their locations; an indexed class with voxels stores >= 1");
    index.true_counts_[c] = t;
    index.begins_[c + 1] = index.begins_[c] + s;
    total += t;
  }
  require(total == n, "class index file's class counts sum to ", total, " but the volume has ", n, " voxels");
  require(r.remaining() == index.begins_.back() * 4,
          "class index file is truncated or has trailing bytes: ", r.remaining(), " bytes of locations for ",
          index.begins_.back(), " stored locations");
  index.locations_.resize(index.begins_.back());
  const unsigned char* src = body.data() + r.position();
  for (std::size_t i = 0; i < index.locations_.size(); ++i) {
    index.locations_[i] = static_cast<std::uint32_t>(src[4 * i]) |
                          (static_cast<std::uint32_t>(src[4 * i + 1]) << 8) |
                          (static_cast<std::uint32_t>(src[4 * i + 2]) << 16) |
                          (static_cast<std::uint32_t>(src[4 * i + 3]) << 24);
  }
  for (std::int32_t c = 0; c < k; ++c) {
    const auto locs = index.locations(c);
    for (std::size_t i = 0; i < locs.size(); ++i) {
      require(static_cast<std::int64_t>(locs[i]) < n && (i == 0 || locs[i - 1] < locs[i]),
              "class index file has an out-of-range or unsorted location for class ", c);
    }
  }
  index.finish_tables();
  return index;
}

inline void class_index::save(const std::string& path) const {
  const std::vector<unsigned char> bytes = serialize();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  require(out.good(), "cannot open class index file '", path, "' for writing");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  require(!out.fail(), "writing class index file '", path, "' failed");
}

inline class_index class_index::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open class index file '", path, "' for reading");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  try {
    return deserialize(bytes);
  } catch (const error& e) {
    fail("'", path, "': ", e.reason());
  }
}

// Builds the index of any label container with a volume_traits specialization.
template <class Source>
requires VolumeSource<Source> class_index build_class_index(Source&& labels,
                                                            const class_index_options& options) {
  const auto view = view_of(labels);
  using L = typename decltype(view)::value_type;
  return class_index::build(static_cast<volume_view<const L>>(view), options);
}

}  // namespace pgps
