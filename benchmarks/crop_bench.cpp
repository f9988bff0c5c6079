// Fill throughput of the cropper against memcpy of the same bytes, measured in the same run.
//
// Setup: 4 cases of 181×217×181 voxels (float32 image, int16 labels; 170 MB in all, over 5× the
// 32 MB L3), a batch of 4 boxes, one per case, at random positions inside the volume (so that
// the fill reads as many bytes as memcpy; padding is covered by the tests). 64 plans are cycled,
// so a box is read again only after the fill has touched far more than L3: the fill reads its
// voxels from DRAM, as a training run over a real dataset does.
//
// Fairness of the memcpy baseline: it copies exactly the fill's output bytes (image, then labels)
// into destination buffers of the fill's sizes (reused every iteration by both, so equally hot),
// from source pools of 114 MB (images) and 134 MB (labels) read in consecutive, non-overlapping
// parts, each pool cycled whole: memcpy also reads cold memory, but as one long sequential stream,
// which is its best case (the fill reads short rows scattered over the volume; that is the cost
// being measured). Each fill benchmark times memcpy right after itself with the same iteration
// count and reports vs_memcpy = fill bytes/s ÷ memcpy bytes/s = memcpy time ÷ fill time, so a
// drift in the load of the shared machine between benchmarks cancels. The 2-thread runs time
// the 1-thread fill the same way and report vs_single_thread. Bytes are output bytes (with
// int64 labels the fill reads 2 bytes per label voxel and writes 8; memcpy reads and writes 8).
//
// Two more bounds, measured in the same run, say how much of a gap to memcpy is the memory
// system's and how much the fill's:
// - gather_vs_memcpy (1 thread): memcpy time ÷ the time to only read every cache line of the
//   source rows the fill reads, in the fill's order (image row, then label row, per y), with
//   software prefetch at the best of a few distances. A row at a random offset spans more cache
//   lines than its bytes fill (1.64× at 32³), and scattered rows get no help from the hardware
//   prefetchers, so this read alone can take longer than memcpy. vs_gather = gather time ÷ fill
//   time: the share of the read-only bound the whole fill (reads, conversion, writes) reaches.
// - memcpy_scaling (2 threads): two threads each copying half the bytes from the cold pools,
//   rate over one thread's memcpy of all of them. Where that is below 1.7, memory bandwidth
//   bounds any copy's two-thread speed-up, the fill's included.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "pgps/crop/cropper.hpp"

namespace {

constexpr pgps::extent3 volume_extent{181, 217, 181};
constexpr std::int64_t case_count = 4;
constexpr std::int64_t batch = 4;
constexpr std::size_t plan_count = 64;

struct dataset {
  std::vector<float> images;
  std::vector<std::int16_t> labels;
  std::vector<pgps::training_case<float, std::int16_t>> cases;
  // memcpy's sources, separate memory: the image pool is as large as the image volumes, the
  // label pool large enough for 2× the largest label copy (int64 labels of 4×128³ voxels).
  std::vector<char> image_pool;
  std::vector<char> label_pool;
};

const dataset& data() {
  static const dataset d = [] {
    dataset s;
    const auto voxels = static_cast<std::size_t>(pgps::voxel_count(volume_extent));
    s.images.resize(voxels * case_count);
    s.labels.resize(voxels * case_count);
    // Cheap pseudo-random contents (the copy does not look at values); quick even in Debug.
    std::uint32_t state = 1;
    for (std::size_t i = 0; i < s.images.size(); ++i) {
      state = state * 1664525u + 1013904223u;
      s.images[i] = static_cast<float>(state >> 20) * 0.25f;
      s.labels[i] = static_cast<std::int16_t>(state >> 30);
    }
    for (std::int64_t c = 0; c < case_count; ++c) {
      const auto offset = static_cast<std::size_t>(c) * voxels;
      s.cases.push_back({pgps::contiguous_view<const float>(s.images.data() + offset, volume_extent),
                         pgps::contiguous_view<const std::int16_t>(s.labels.data() + offset, volume_extent)});
    }
    s.image_pool.assign(s.images.size() * sizeof(float), 1);
    s.label_pool.assign(std::size_t{2} * batch * 128 * 128 * 128 * sizeof(std::int64_t), 1);
    return s;
  }();
  return d;
}

std::vector<pgps::batch_plan> make_plans(std::int64_t edge) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(edge));
  std::vector<pgps::batch_plan> plans(plan_count);
  for (auto& plan : plans) {
    plan.patch = pgps::extent3::fill(edge);
    plan.global_batch = batch;
    for (std::int64_t s = 0; s < batch; ++s) {
      pgps::box region{{}, plan.patch};
      for (int a = 0; a < 3; ++a) {
        // Inside the volume: the fill then reads exactly the bytes memcpy reads (a padded box
        // would read fewer and only write the rest).
        const std::int64_t hi = volume_extent[a] - edge;
        region.lower[a] = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi + 1));
      }
      plan.slots.push_back({s, region, pgps::no_forced_class});
    }
  }
  return plans;
}

template <class OI, class OL>
struct buffers {
  std::vector<OI> image;
  std::vector<OL> label;
  explicit buffers(const pgps::batch_plan& plan)
      : image(pgps::image_elements(plan, 1)), label(pgps::label_elements(plan)) {}
  std::size_t bytes() const { return image.size() * sizeof(OI) + label.size() * sizeof(OL); }
};

// Seconds for `iterations` memcpys of the fill's output bytes (see the header comment).
template <class OI, class OL>
double time_memcpy(buffers<OI, OL>& out, std::int64_t iterations, std::size_t first = 0) {
  const dataset& d = data();
  const std::size_t image_bytes = out.image.size() * sizeof(OI);
  const std::size_t label_bytes = out.label.size() * sizeof(OL);
  const std::size_t image_pool_bytes = d.image_pool.size();
  const std::size_t label_pool_bytes = d.label_pool.size();
  // Consecutive copies read consecutive, non-overlapping parts of the pools, wrapping around
  // only at the end of a pool: a part is read again only after the whole pool (over 3× L3) has
  // been, so even the small copies of 32³ patches read DRAM (cycling only 64 parts, 48 MB for
  // 32³, would let some of them hit the 32 MB L3, which the fill's ~80 MB cycle does not).
  const std::size_t image_step = (image_bytes + 63) & ~std::size_t{63};
  const std::size_t label_step = (label_bytes + 63) & ~std::size_t{63};
  const std::size_t image_parts = image_pool_bytes / image_step;
  const std::size_t label_parts = label_pool_bytes / label_step;
  const char* image_src = d.image_pool.data();
  const char* label_src = d.label_pool.data();
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < iterations; ++i) {
    const std::size_t k = first + static_cast<std::size_t>(i);
    std::memcpy(out.image.data(), image_src + (k % image_parts) * image_step, image_bytes);
    std::memcpy(out.label.data(), label_src + (k % label_parts) * label_step, label_bytes);
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Crop, class OI, class OL>
double time_fill(const Crop& crop, const std::vector<pgps::batch_plan>& plans, buffers<OI, OL>& out,
                 std::int64_t iterations) {
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < iterations; ++i) {
    crop.fill(plans[static_cast<std::size_t>(i) % plan_count], data().cases, out.image, out.label);
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One source row the fill reads: its first byte and length.
struct source_row {
  const char* first;
  std::size_t bytes;
};

// The rows a plan's fill reads, in the fill's order: per slot, per z, per y, the image row then
// the label row (the benchmark's boxes lie inside the volume, so every row is read whole).
std::vector<source_row> source_rows(const pgps::batch_plan& plan) {
  const dataset& d = data();
  std::vector<source_row> rows;
  const auto width = static_cast<std::size_t>(plan.patch[2]);
  for (const pgps::slot_plan& slot : plan.slots) {
    const auto& source = d.cases[static_cast<std::size_t>(slot.case_id)];
    for (std::int64_t z = 0; z < plan.patch[0]; ++z) {
      for (std::int64_t y = 0; y < plan.patch[1]; ++y) {
        const pgps::index3 at{slot.region.lower[0] + z, slot.region.lower[1] + y, slot.region.lower[2]};
        rows.push_back({reinterpret_cast<const char*>(source.image.data + source.image.offset(at)),
                        width * sizeof(float)});
        rows.push_back({reinterpret_cast<const char*>(source.label.data + source.label.offset(at)),
                        width * sizeof(std::int16_t)});
      }
    }
  }
  return rows;
}

// Seconds to read one byte of every cache line of the rows of `iterations` plans (cycled as the
// fill cycles them), prefetching the lines of the row `distance` rows ahead.
double time_gather(const std::vector<std::vector<source_row>>& plans_rows, std::int64_t iterations,
                   std::size_t distance) {
  unsigned sum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < iterations; ++i) {
    const std::vector<source_row>& rows = plans_rows[static_cast<std::size_t>(i) % plan_count];
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (distance > 0 && r + distance < rows.size()) {
        const source_row& ahead = rows[r + distance];
        for (std::size_t b = 0; b < ahead.bytes; b += 64) __builtin_prefetch(ahead.first + b);
        __builtin_prefetch(ahead.first + ahead.bytes - 1);
      }
      const source_row& row = rows[r];
      for (std::size_t b = 0; b < row.bytes; b += 64) sum += static_cast<unsigned char>(row.first[b]);
      sum += static_cast<unsigned char>(row.first[row.bytes - 1]);
    }
    benchmark::DoNotOptimize(sum);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The fastest of a few prefetch distances: the read-only bound of the fill (see the header).
double best_gather(const std::vector<pgps::batch_plan>& plans, std::int64_t iterations) {
  std::vector<std::vector<source_row>> plans_rows;
  for (const pgps::batch_plan& plan : plans) plans_rows.push_back(source_rows(plan));
  double best = time_gather(plans_rows, iterations, 0);
  for (const std::size_t distance : {4, 8, 16, 32})
    best = std::min(best, time_gather(plans_rows, iterations, distance));
  return best;
}

// Seconds for `iterations` copies of the fill's output bytes by two threads: each copies half
// of the image bytes and half of the label bytes, from its own consecutive parts of the pools
// (as time_memcpy reads them), into its own halves of the output buffers.
template <class OI, class OL>
double time_memcpy_two_threads(buffers<OI, OL>& out, std::int64_t iterations) {
  const dataset& d = data();
  struct stream {
    char* destination;
    const char* pool;
    std::size_t half;   // bytes per thread
    std::size_t step;   // pool part size, a whole number of cache lines
    std::size_t parts;  // parts in the pool
  };
  auto make_stream = [](char* destination, std::size_t bytes, const std::vector<char>& pool) {
    const std::size_t half = bytes / 2;
    const std::size_t step = (half + 63) & ~std::size_t{63};
    return stream{destination, pool.data(), half, step, pool.size() / step};
  };
  const std::array<stream, 2> streams{
      make_stream(reinterpret_cast<char*>(out.image.data()), out.image.size() * sizeof(OI), d.image_pool),
      make_stream(reinterpret_cast<char*>(out.label.data()), out.label.size() * sizeof(OL), d.label_pool)};
  const pgps::thread_pool pool(2);
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < iterations; ++i) {
    pool.parallel_for(2, [&](std::size_t t) {
      const std::size_t part = 2 * static_cast<std::size_t>(i) + t;
      for (const stream& s : streams) {
        std::memcpy(s.destination + t * s.half, s.pool + (part % s.parts) * s.step, s.half);
      }
    });
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Args: patch edge, threads. OI/OL: output element types; Stores: the cropper's store policy.
template <class OI, class OL, pgps::store_policy Stores = pgps::store_policy::automatic>
void fill_benchmark(benchmark::State& state) {
  const std::int64_t edge = state.range(0);
  const auto threads = static_cast<std::size_t>(state.range(1));
  const auto plans = make_plans(edge);
  buffers<OI, OL> out(plans[0]);
  const pgps::cropper<pgps::thread_pool> crop(pgps::pad_options{}, pgps::thread_pool(threads), Stores);
  time_fill(crop, plans, out, 2);  // warm: output pages, pool threads
  std::size_t k = 0;
  for (auto _ : state) {
    crop.fill(plans[k], data().cases, out.image, out.label);
    benchmark::ClobberMemory();
    k = (k + 1) % plan_count;
  }
  const std::int64_t iterations = state.iterations();
  state.SetBytesProcessed(iterations * static_cast<std::int64_t>(out.bytes()));
  // Reference timings right after, same iteration count, same buffers.
  const double fill_seconds = time_fill(crop, plans, out, iterations);
  const double memcpy_seconds = time_memcpy(out, iterations);
  state.counters["vs_memcpy"] = memcpy_seconds / fill_seconds;
  if (threads == 1) {
    const double gather_seconds = best_gather(plans, iterations);
    state.counters["gather_vs_memcpy"] = memcpy_seconds / gather_seconds;
    state.counters["vs_gather"] = gather_seconds / fill_seconds;
  } else {
    const pgps::cropper<> single(pgps::pad_options{}, pgps::inline_executor{}, Stores);
    const double single_seconds = time_fill(single, plans, out, iterations);
    state.counters["vs_single_thread"] = single_seconds / fill_seconds;
    if (threads == 2)
      state.counters["memcpy_scaling"] = memcpy_seconds / time_memcpy_two_threads(out, iterations);
  }
}

void memcpy_benchmark(benchmark::State& state) {
  const std::int64_t edge = state.range(0);
  buffers<float, std::int16_t> out(make_plans(edge)[0]);
  (void)data();
  std::size_t k = 0;
  for (auto _ : state) time_memcpy(out, 1, k++);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.bytes()));
}

}  // namespace

// float32 image + int16 labels into buffers of the same types (nnU-Net's batch types).
BENCHMARK_TEMPLATE(fill_benchmark, float, std::int16_t)
    ->Name("fill/f32_i16")
    ->ArgNames({"patch", "threads"})
    ->ArgsProduct({{32, 64, 128}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
// The LibTorch trainer's path: int16 labels widened to int64 for cross entropy.
BENCHMARK_TEMPLATE(fill_benchmark, float, std::int64_t)
    ->Name("fill/f32_i64")
    ->ArgNames({"patch", "threads"})
    ->ArgsProduct({{64, 128}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
// The same with store_policy::streaming, for batches handed to a device: at 64³ (6.3 MB) the
// automatic policy writes through the cache. Compared with the same memcpy (cached stores).
BENCHMARK_TEMPLATE(fill_benchmark, float, std::int16_t, pgps::store_policy::streaming)
    ->Name("fill/f32_i16_streaming")
    ->ArgNames({"patch", "threads"})
    ->ArgsProduct({{64}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(memcpy_benchmark)
    ->Name("memcpy")
    ->ArgName("patch")
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Unit(benchmark::kMicrosecond);
