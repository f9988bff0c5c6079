// Executors: every index exactly once, pools reused across calls, exceptions carried back.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pgps/adapters/tbb.hpp"
#include "pgps/crop/executor.hpp"
#include "pgps_catch.hpp"

namespace {
template <class E>
void check_each_index_once(const E& executor) {
  for (std::size_t n : {0u, 1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    executor.parallel_for(n, [&](std::size_t i) { hits[i].fetch_add(1); });
    for (std::size_t i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
  }
}
}  // namespace

TEST_CASE("executors call every index exactly once") {
  check_each_index_once(pgps::inline_executor{});
  for (std::size_t threads : {1u, 2u, 3u, 8u}) {
    const pgps::thread_pool pool(threads);
    CHECK(pool.size() == threads);
    for (int repeat = 0; repeat < 20; ++repeat) check_each_index_once(pool);
  }
  check_each_index_once(pgps::tbb_executor(2));
  check_each_index_once(pgps::tbb_executor());
}

TEST_CASE("a thread pool runs tasks on several threads") {
  const pgps::thread_pool pool(3);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  pool.parallel_for(3, [&](std::size_t) {
    const int now = inside.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    // Wait for a second participant, bounded by time rather than by a spin count: a worker that
    // sleeps takes a scheduler slice to wake on a loaded machine, which can outlast any fixed spin.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (most.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    inside.fetch_sub(1);
  });
  CHECK(most.load() >= 2);
}

TEST_CASE("a thread pool survives moves and concurrent callers") {
  pgps::thread_pool a(2);
  pgps::thread_pool b = std::move(a);
  check_each_index_once(b);
  std::atomic<long> sum{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 50; ++r) b.parallel_for(10, [&](std::size_t i) { sum += static_cast<long>(i); });
    });
  }
  for (auto& t : callers) t.join();
  CHECK(sum.load() == 3 * 50 * 45);
}

TEST_CASE("a task's exception reaches the caller and the pool stays usable") {
  const pgps::thread_pool pool(2);
  std::atomic<int> ran{0};
  CHECK_THROWS_AS(pool.parallel_for(100,
                                    [&](std::size_t i) {
                                      ran.fetch_add(1);
                                      if (i == 42) throw std::runtime_error("task 42");
                                    }),
                  std::runtime_error);
  CHECK(ran.load() == 100);
  check_each_index_once(pool);
  PGPS_REQUIRE_ERROR(pgps::thread_pool(0), "thread pool size 0 must be >= 1");
  PGPS_REQUIRE_ERROR(pgps::tbb_executor(0), "TBB executor concurrency 0 must be >= 1");
}
