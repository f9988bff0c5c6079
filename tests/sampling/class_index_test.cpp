#include "pgps/sampling/class_index.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pgps_catch.hpp"
#include "synthetic_labels.hpp"

using pgps::class_index;
using pgps::class_index_options;
using pgps::extent3;
using pgps::index3;

namespace {
template <class L>
std::vector<std::vector<std::uint32_t>> naive_locations(const std::vector<L>& labels, int classes) {
  std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i)
    out[static_cast<std::size_t>(labels[i])].push_back(static_cast<std::uint32_t>(i));
  return out;
}

template <class L>
void check_exact(const std::vector<L>& labels, const extent3& e, int classes) {
  class_index_options o;
  o.num_classes = classes;
  const class_index index = class_index::build(pgps::contiguous_view(labels.data(), e), o);
  const auto expected = naive_locations(labels, classes);
  REQUIRE(index.shape() == e);
  REQUIRE(index.num_classes() == classes);
  std::int64_t foreground = 0;
  for (int c = 0; c < classes; ++c) {
    const auto locs = index.locations(c);
    REQUIRE(std::vector<std::uint32_t>(locs.begin(), locs.end()) == expected[static_cast<std::size_t>(c)]);
    REQUIRE(index.true_count(c) == static_cast<std::int64_t>(expected[static_cast<std::size_t>(c)].size()));
    if (c >= 1) foreground += index.true_count(c);
  }
  REQUIRE(index.foreground_count() == foreground);
  REQUIRE(index.memory_bytes() <=
          static_cast<std::size_t>(pgps::voxel_count(e)) * 4 + static_cast<std::size_t>(classes) * 32);
}
}  // namespace

TEST_CASE("class index equals a naive per-class scan for every label type", "[class_index]") {
  const extent3 e{9, 13, 17};
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    check_exact(pgps_test::blob_labels<std::uint8_t>(e, 5, seed), e, 5);
    check_exact(pgps_test::blob_labels<std::int8_t>(e, 5, seed), e, 5);
    check_exact(pgps_test::blob_labels<std::int16_t>(e, 7, seed), e, 7);
    check_exact(pgps_test::blob_labels<std::uint16_t>(e, 3, seed), e, 3);
    check_exact(pgps_test::blob_labels<std::int32_t>(e, 4, seed), e, 4);
    check_exact(pgps_test::noise_labels<std::int16_t>(e, 4, seed), e, 4);
  }
  // Noise larger than the run budget exercises the second read of the labels.
  const extent3 big{40, 40, 40};
  check_exact(pgps_test::noise_labels<std::uint8_t>(big, 3, 9), big, 3);
  check_exact(pgps_test::noise_labels<std::int32_t>(big, 117, 9), big, 117);
  // A single class everywhere, and a single voxel.
  check_exact(std::vector<std::int16_t>(500, 2), extent3{5, 10, 10}, 3);
  check_exact(std::vector<std::uint8_t>(1, 0), extent3{1, 1, 1}, 1);
}

TEST_CASE("class index reads strided views like their contiguous copy", "[class_index]") {
  const extent3 e{6, 7, 8};
  const auto labels = pgps_test::blob_labels<std::int16_t>(e, 4, 5);
  class_index_options o;
  o.num_classes = 4;
  const class_index reference = class_index::build(pgps::contiguous_view(labels.data(), e), o);
  // x slowest in memory (Fortran order) and padded rows.
  std::vector<std::int16_t> fortran(labels.size());
  std::vector<std::int16_t> padded(static_cast<std::size_t>(6 * 7 * 11), std::int16_t{99});
  for (std::int64_t z = 0; z < e[0]; ++z)
    for (std::int64_t y = 0; y < e[1]; ++y)
      for (std::int64_t x = 0; x < e[2]; ++x) {
        const auto v = labels[static_cast<std::size_t>(pgps::linear_offset({z, y, x}, e))];
        fortran[static_cast<std::size_t>(x * 42 + y * 6 + z)] = v;
        padded[static_cast<std::size_t>(z * 77 + y * 11 + x)] = v;
      }
  const auto f = pgps::make_volume_view<const std::int16_t>(fortran.data(), e, index3{1, 6, 42});
  const auto p = pgps::make_volume_view<const std::int16_t>(padded.data(), e, index3{77, 11, 1});
  REQUIRE(class_index::build(f, o) == reference);
  REQUIRE(class_index::build(p, o) == reference);
  REQUIRE(pgps::build_class_index(p, o) == reference);
}

TEST_CASE("nnU-Net subsampling keeps max(min(10000, n), ceil(n/100)) locations", "[class_index][subsample]") {
  CHECK(pgps::nnunet_sample_count(0) == 0);
  CHECK(pgps::nnunet_sample_count(5) == 5);
  CHECK(pgps::nnunet_sample_count(10000) == 10000);
  CHECK(pgps::nnunet_sample_count(20000) == 10000);
  CHECK(pgps::nnunet_sample_count(1000000) == 10000);
  CHECK(pgps::nnunet_sample_count(1000001) == 10001);
  CHECK(pgps::nnunet_sample_count(2000000) == 20000);
  CHECK(pgps::nnunet_sample_count(300, 100, 0.01) == 100);

  const extent3 e{20, 30, 40};
  const auto labels = pgps_test::blob_labels<std::uint8_t>(e, 4, 11, 3);
  const auto all = naive_locations(labels, 4);
  class_index_options o = class_index_options::nnunet(4);
  o.min_samples = 50;  // small volume: make the rule bite
  const class_index index = class_index::build(pgps::contiguous_view(labels.data(), e), o);
  REQUIRE(index.subsampled());
  REQUIRE_FALSE(index.background_indexed());
  REQUIRE(index.stored_count(0) == 0);
  REQUIRE(index.true_count(0) == static_cast<std::int64_t>(all[0].size()));
  for (int c = 1; c < 4; ++c) {
    const auto n = static_cast<std::int64_t>(all[static_cast<std::size_t>(c)].size());
    REQUIRE(index.true_count(c) == n);
    REQUIRE(index.stored_count(c) == pgps::nnunet_sample_count(n, 50, 0.01));
    const auto locs = index.locations(c);
    REQUIRE(std::is_sorted(locs.begin(), locs.end()));
    REQUIRE(std::adjacent_find(locs.begin(), locs.end()) == locs.end());
    for (std::uint32_t l : locs) REQUIRE(labels[l] == c);
  }
  // Deterministic for a seed, different for another.
  REQUIRE(class_index::build(pgps::contiguous_view(labels.data(), e), o) == index);
  o.seed = 99;
  REQUIRE_FALSE(class_index::build(pgps::contiguous_view(labels.data(), e), o) == index);
}

TEST_CASE("subsampled subsets are uniform over the class voxels", "[class_index][subsample][statistics]") {
  // 1000 voxels of class 1, keep 100 (and 700 via the complement path): each voxel must be
  // kept in about k/n of 400 seeds.
  const extent3 e{10, 10, 10};
  const std::vector<std::uint8_t> labels(1000, 1);
  for (const std::int64_t keep : {std::int64_t{100}, std::int64_t{700}}) {
    std::vector<int> hits(1000, 0);
    class_index_options o;
    o.num_classes = 2;
    o.subsample = true;
    o.min_samples = keep;
    o.min_fraction = 0.0;
    const int seeds = 400;
    for (int s = 0; s < seeds; ++s) {
      o.seed = static_cast<std::uint64_t>(s);
      const class_index index = class_index::build(pgps::contiguous_view(labels.data(), e), o);
      REQUIRE(index.stored_count(1) == keep);
      for (std::uint32_t l : index.locations(1)) ++hits[l];
    }
    const double p = static_cast<double>(keep) / 1000.0;
    const double expected = seeds * p;
    double chi2 = 0;
    for (int h : hits) chi2 += (h - expected) * (h - expected) / (expected * (1 - p));
    // 999 degrees of freedom: mean 999, sd ~44.7; 5 sd.
    CHECK(chi2 < 999 + 5 * 44.7);
    CHECK(chi2 > 999 - 5 * 44.7);
  }
}

TEST_CASE("class index rejects bad labels and bad options", "[class_index][errors]") {
  const extent3 e{2, 3, 4};
  std::vector<std::int16_t> labels(24, 0);
  labels[static_cast<std::size_t>(pgps::linear_offset({1, 2, 3}, e))] = 5;
  class_index_options o;
  o.num_classes = 5;
  PGPS_REQUIRE_ERROR(class_index::build(pgps::contiguous_view(labels.data(), e), o),
                     "label value 5 at voxel [1, 2, 3] is outside the declared classes [0, 5)");
  labels[static_cast<std::size_t>(pgps::linear_offset({1, 2, 3}, e))] = 0;
  labels[static_cast<std::size_t>(pgps::linear_offset({0, 1, 0}, e))] = -3;
  PGPS_REQUIRE_ERROR(class_index::build(pgps::contiguous_view(labels.data(), e), o),
                     "label value -3 at voxel [0, 1, 0]");
  std::vector<std::int8_t> small(24, 0);
  o.num_classes = 200;
  PGPS_REQUIRE_ERROR(class_index::build(pgps::contiguous_view(small.data(), e), o),
                     "exceeds what the label type can hold (128)");
  o.num_classes = 0;
  PGPS_REQUIRE_ERROR(class_index::build(pgps::contiguous_view(small.data(), e), o),
                     "num_classes 0 must be >= 1");
  o.num_classes = 2;
  o.min_fraction = 1.5;
  PGPS_REQUIRE_ERROR(class_index::build(pgps::contiguous_view(small.data(), e), o), "min_fraction 1.5");
  o.min_fraction = 0.01;
  pgps::volume_view<const std::int8_t> null_view{nullptr, e, index3{12, 4, 1}};
  PGPS_REQUIRE_ERROR(class_index::build(null_view, o), "null");
  // 2^33 voxels: rejected from the extent alone, before any label is read.
  pgps::volume_view<const std::int8_t> huge{small.data(), extent3{2048, 2048, 2048},
                                            index3{2048 * 2048, 2048, 1}};
  PGPS_REQUIRE_ERROR(class_index::build(huge, o), "at most 2^32");
  pgps::volume_view<const std::int8_t> two_channels{small.data(), extent3{1, 3, 4}, index3{12, 4, 1}, 2, 12};
  PGPS_REQUIRE_ERROR(class_index::build(two_channels, o), "one channel, got 2");
  // Raw views with strides that revisit voxels would count them twice.
  pgps::volume_view<const std::int8_t> zero_strides{small.data(), e, index3{0, 0, 1}};
  PGPS_REQUIRE_ERROR(class_index::build(zero_strides, o),
                     "class index: labels: volume stride [0, 0, 1] has a non-positive entry on axis 0");
  pgps::volume_view<const std::int8_t> overlapping{small.data(), e, index3{4, 4, 1}};
  PGPS_REQUIRE_ERROR(class_index::build(overlapping, o), "class index: labels: volume strides [4, 4, 1]");
  // Subsampling that would keep no location of a present class.
  o.subsample = true;
  o.min_samples = 0;
  o.min_fraction = 0.0;
  PGPS_REQUIRE_ERROR(class_index::build(pgps::contiguous_view(small.data(), e), o),
                     "min_samples 0 and min_fraction 0 would store no location");
  o.min_samples = 1;
  REQUIRE(class_index::build(pgps::contiguous_view(small.data(), e), o).stored_count(0) == 1);
}

TEST_CASE("class index files round-trip and reject corrupt, truncated and foreign files",
          "[class_index][io]") {
  const extent3 e{8, 9, 10};
  const auto labels = pgps_test::blob_labels<std::uint16_t>(e, 6, 21);
  class_index_options o = class_index_options::nnunet(6);
  o.min_samples = 20;
  const class_index index = class_index::build(pgps::contiguous_view(labels.data(), e), o);
  const std::string path = std::string(PGPS_BINARY_DIR) + "/class_index_test.pgpsidx";
  index.save(path);
  const class_index loaded = class_index::load(path);
  REQUIRE(loaded == index);
  REQUIRE(loaded.foreground_count() == index.foreground_count());

  const std::vector<unsigned char> bytes = index.serialize();
  REQUIRE(class_index::deserialize(bytes) == index);
  // Every stored location costs 4 bytes on disk; the rest is a small header.
  std::int64_t stored = 0;
  for (int c = 0; c < 6; ++c) stored += index.stored_count(c);
  REQUIRE(bytes.size() == static_cast<std::size_t>(8 + 4 + 4 + 24 + 4 + 6 * 16 + stored * 4 + 8));

  auto corrupt = bytes;
  corrupt[corrupt.size() / 2] ^= 0x10;
  PGPS_REQUIRE_ERROR(class_index::deserialize(corrupt), "checksum does not match");
  auto truncated = bytes;
  truncated.resize(bytes.size() - 5);
  PGPS_REQUIRE_ERROR(class_index::deserialize(truncated), "corrupt or truncated");
  PGPS_REQUIRE_ERROR(class_index::deserialize(std::vector<unsigned char>(bytes.begin(), bytes.begin() + 12)),
                     "truncated");
  auto foreign = bytes;
  foreign[0] = 'X';
  PGPS_REQUIRE_ERROR(class_index::deserialize(foreign), "not a pgps class index file");
  auto future = bytes;
  future[8] = 2;
  PGPS_REQUIRE_ERROR(class_index::deserialize(future), "format version 2");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "#!/bin/sh\necho not an index\n";
  }
  PGPS_REQUIRE_ERROR(class_index::load(path), "not a pgps class index file");
  // A well-formed file whose class 1 has voxels but no stored location: samplers could not
  // draw one, so loading refuses it.
  {
    pgps::detail::byte_writer w;
    w.bytes.assign(std::begin(class_index::file_magic), std::end(class_index::file_magic));
    w.put<std::uint32_t>(class_index::file_version);
    w.put<std::uint32_t>(0);  // background not indexed, not subsampled
    for (const std::int64_t axis : {1, 1, 2}) w.put<std::int64_t>(axis);
    w.put<std::int32_t>(2);
    for (int c = 0; c < 2; ++c) {
      w.put<std::int64_t>(1);   // one voxel of each class
      w.put<std::uint64_t>(0);  // none stored
    }
    w.put<std::uint64_t>(pgps::detail::fnv1a64(w.bytes.data() + 8, w.bytes.size() - 8));
    PGPS_REQUIRE_ERROR(class_index::deserialize(w.bytes),
                       "1 voxels of class 1 but stores none of their locations");
  }
  std::remove(path.c_str());
  PGPS_REQUIRE_ERROR(class_index::load(path), "cannot open class index file");
}

TEST_CASE("foreground ranks map to classes in proportion to their counts", "[class_index]") {
  std::vector<std::uint8_t> labels{0, 1, 1, 3, 3, 3, 0, 0};
  class_index_options o;
  o.num_classes = 4;
  const class_index index = class_index::build(pgps::contiguous_view(labels.data(), extent3{1, 2, 4}), o);
  REQUIRE(index.foreground_count() == 5);
  REQUIRE(index.foreground_class_of_rank(0) == 1);
  REQUIRE(index.foreground_class_of_rank(1) == 1);
  REQUIRE(index.foreground_class_of_rank(2) == 3);
  REQUIRE(index.foreground_class_of_rank(4) == 3);
  REQUIRE(index.location(3, 1) == index3{0, 1, 0});
  REQUIRE_FALSE(index.present(2));
}
