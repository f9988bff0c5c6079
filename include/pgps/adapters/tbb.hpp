// An Executor on oneTBB: the cropper's tasks run in a task arena of a chosen concurrency, so a
// host that already uses TBB shares its worker threads instead of starting more.
#pragma once

#include <cstddef>
#include <memory>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include "pgps/core/error.hpp"
#include "pgps/crop/executor.hpp"

namespace pgps {

// Runs tasks with tbb::parallel_for inside an arena limited to `max_concurrency` threads
// (automatic: TBB's default, all cores). Copies share one arena. Task grain is 1: the cropper's
// tasks are already slabs of thousands of voxels.
class tbb_executor {
 public:
  explicit tbb_executor(int max_concurrency = oneapi::tbb::task_arena::automatic) {
    require(max_concurrency == oneapi::tbb::task_arena::automatic || max_concurrency >= 1,
            "TBB executor concurrency ", max_concurrency, " must be >= 1 or task_arena::automatic");
    arena_ = std::make_shared<oneapi::tbb::task_arena>(max_concurrency);
  }

  int max_concurrency() const { return arena_->max_concurrency(); }

  template <class F>
  void parallel_for(std::size_t n, const F& f) const {
    if (n == 0) return;
    arena_->execute([&] {
      oneapi::tbb::parallel_for(
          oneapi::tbb::blocked_range<std::size_t>(0, n, 1),
          [&](const oneapi::tbb::blocked_range<std::size_t>& range) {
            for (std::size_t i = range.begin(); i != range.end(); ++i) f(i);
          },
          oneapi::tbb::simple_partitioner{});
    });
  }

 private:
  std::shared_ptr<oneapi::tbb::task_arena> arena_;
};

static_assert(Executor<tbb_executor>);

}  // namespace pgps
