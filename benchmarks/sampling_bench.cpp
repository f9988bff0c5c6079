// Class index build rate (label bytes per second) and planning rate of the samplers on a
// 181×217×181 int16 label volume of blob-shaped organs (MNI-sized, 116 classes like
// TotalSegmentator, or 14 like BTCV).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "pgps/sampling/balance_estimate.hpp"
#include "pgps/sampling/class_index.hpp"
#include "pgps/sampling/class_ratio_sampler.hpp"
#include "pgps/sampling/foreground_sampler.hpp"
#include "pgps/sampling/grid_sampler.hpp"
#include "pgps/sampling/pos_neg_sampler.hpp"
#include "pgps/sampling/uniform_sampler.hpp"
#include "pgps/sampling/weight_map_sampler.hpp"

namespace {

const pgps::extent3 volume_extent{181, 217, 181};

// Ellipsoids of classes 1..classes-1 inside a body ellipsoid; label 0 outside the organs.
std::vector<std::int16_t> organ_labels(int classes, std::uint32_t seed) {
  const pgps::extent3 e = volume_extent;
  std::vector<std::int16_t> labels(static_cast<std::size_t>(pgps::voxel_count(e)), 0);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int c = 1; c < classes; ++c) {
    const double r[3] = {4 + 14 * unit(rng), 4 + 14 * unit(rng), 4 + 14 * unit(rng)};
    double centre[3];
    for (int a = 0; a < 3; ++a) centre[a] = static_cast<double>(e[a]) * (0.2 + 0.6 * unit(rng));
    std::int64_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::max<std::int64_t>(0, static_cast<std::int64_t>(centre[a] - r[a]));
      hi[a] = std::min<std::int64_t>(e[a], static_cast<std::int64_t>(centre[a] + r[a]) + 1);
    }
    for (std::int64_t z = lo[0]; z < hi[0]; ++z)
      for (std::int64_t y = lo[1]; y < hi[1]; ++y)
        for (std::int64_t x = lo[2]; x < hi[2]; ++x) {
          const double dz = (static_cast<double>(z) - centre[0]) / r[0],
                       dy = (static_cast<double>(y) - centre[1]) / r[1],
                       dx = (static_cast<double>(x) - centre[2]) / r[2];
          if (dz * dz + dy * dy + dx * dx <= 1.0)
            labels[static_cast<std::size_t>(pgps::linear_offset({z, y, x}, e))] =
                static_cast<std::int16_t>(c);
        }
  }
  return labels;
}

const std::vector<std::int16_t>& labels_116() {
  static const std::vector<std::int16_t> labels = organ_labels(117, 7);
  return labels;
}
const std::vector<std::int16_t>& labels_14() {
  static const std::vector<std::int16_t> labels = organ_labels(14, 8);
  return labels;
}

void report_build(benchmark::State& state, std::int64_t bytes, const char* label) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes);
  state.counters["bytes_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(bytes), benchmark::Counter::kIsRate);
  state.SetLabel(label);
}

void class_index_build(benchmark::State& state, const std::vector<std::int16_t>& labels, int classes,
                       bool nnunet) {
  const auto view = pgps::contiguous_view(labels.data(), volume_extent);
  const pgps::class_index_options options =
      nnunet ? pgps::class_index_options::nnunet(classes) : pgps::class_index_options{classes};
  std::size_t stored = 0;
  for (auto _ : state) {
    pgps::class_index index = pgps::class_index::build(view, options);
    stored = index.memory_bytes();
    benchmark::DoNotOptimize(index);
  }
  state.counters["index_bytes"] = static_cast<double>(stored);
  report_build(state, static_cast<std::int64_t>(labels.size() * sizeof(std::int16_t)),
               nnunet ? "nnU-Net subsampled, foreground only" : "every voxel, background included");
}

void BM_class_index_build_116_all(benchmark::State& state) {
  class_index_build(state, labels_116(), 117, false);
}
void BM_class_index_build_116_nnunet(benchmark::State& state) {
  class_index_build(state, labels_116(), 117, true);
}
void BM_class_index_build_14_all(benchmark::State& state) {
  class_index_build(state, labels_14(), 14, false);
}
void BM_class_index_build_14_nnunet(benchmark::State& state) {
  class_index_build(state, labels_14(), 14, true);
}
BENCHMARK(BM_class_index_build_116_all)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_class_index_build_116_nnunet)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_class_index_build_14_all)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_class_index_build_14_nnunet)->Unit(benchmark::kMillisecond);

// A dataset of 4 cases sharing the 116-class volume's index (planning cost does not depend on
// the voxels, only on the tables).
const pgps::dataset& bench_dataset() {
  static const pgps::dataset data = [] {
    static std::vector<float> weights(labels_116().size());
    for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = labels_116()[i] > 0 ? 1.0f : 0.01f;
    const auto index = std::make_shared<const pgps::class_index>(pgps::class_index::build(
        pgps::contiguous_view(labels_116().data(), volume_extent), pgps::class_index_options{117}));
    pgps::dataset d;
    for (int i = 0; i < 4; ++i)
      d.add_case(index, pgps::contiguous_view<const float>(weights.data(), volume_extent));
    return d;
  }();
  return data;
}

template <class S>
void plan_batches(benchmark::State& state, const S& sampler) {
  const pgps::extent3 patch{128, 128, 128};
  const std::int64_t batch = 2;
  std::uint64_t iteration = 0;
  for (auto _ : state) {
    pgps::batch_plan plan = pgps::make_batch_plan(sampler, patch, batch, 42, 0, iteration++);
    benchmark::DoNotOptimize(plan);
  }
  state.counters["plans_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["slots_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  state.SetLabel("batch plans of 2 slots, patch 128^3");
}

void BM_plan_uniform(benchmark::State& state) { plan_batches(state, pgps::uniform_sampler(bench_dataset())); }
void BM_plan_foreground(benchmark::State& state) {
  plan_batches(state, pgps::foreground_sampler(bench_dataset(), pgps::foreground_sampler_options::pgps()));
}
void BM_plan_pos_neg(benchmark::State& state) { plan_batches(state, pgps::pos_neg_sampler(bench_dataset())); }
void BM_plan_class_ratio(benchmark::State& state) {
  pgps::class_ratio_sampler_options options;
  options.ratios.assign(117, 1.0);
  plan_batches(state, pgps::class_ratio_sampler(bench_dataset(), options));
}
void BM_plan_weight_map(benchmark::State& state) {
  plan_batches(state, pgps::weight_map_sampler(bench_dataset()));
}
void BM_plan_grid(benchmark::State& state) { plan_batches(state, pgps::grid_sampler(bench_dataset())); }
BENCHMARK(BM_plan_uniform);
BENCHMARK(BM_plan_foreground);
BENCHMARK(BM_plan_pos_neg);
BENCHMARK(BM_plan_class_ratio);
BENCHMARK(BM_plan_weight_map);
BENCHMARK(BM_plan_grid);

// One curriculum stage's class-balance estimate: 50 batches of 2 at 64^3, 116 classes.
void BM_estimate_class_fractions(benchmark::State& state) {
  const pgps::foreground_sampler sampler(bench_dataset(), pgps::foreground_sampler_options::pgps());
  const auto patch = pgps::extent3::fill(state.range(0));
  for (auto _ : state) {
    auto estimate = pgps::estimate_class_fractions(sampler, bench_dataset(), patch, 2, 50, 1);
    benchmark::DoNotOptimize(estimate);
  }
  state.counters["boxes_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 100), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_estimate_class_fractions)->Arg(32)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace
