// Executors run independent tasks 0..n-1, possibly on several threads. The cropper splits its
// work into tasks whose outputs are disjoint and whose results do not depend on which thread runs
// them, so any executor gives bit-identical buffers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pgps/core/error.hpp"

namespace pgps {

namespace detail {
// Stands for any task an executor is given: callable with an index, returning nothing.
struct index_task_archetype {
  void operator()(std::size_t) const {}
};
}  // namespace detail

// ex.parallel_for(n, f) calls f(i) exactly once for every i in [0, n), in any order and on any
// threads, and returns after all calls have finished.
template <class E>
concept Executor = requires(const E& ex, std::size_t n, const detail::index_task_archetype& f) {
  ex.parallel_for(n, f);
};

// Runs every task on the calling thread, in order.
struct inline_executor {
  template <class F>
  void parallel_for(std::size_t n, const F& f) const {
    for (std::size_t i = 0; i < n; ++i) f(i);
  }
};

// A fixed set of threads reused across calls: `threads` participants in every parallel_for, the
// calling thread included, so thread_pool(1) starts no thread. Tasks are handed out one at a
// time through an atomic counter; parallel_for allocates nothing. Calls from several threads
// are serialized. Between calls, workers poll for the next call for a short while before they
// sleep, and the caller polls for the workers' end before it sleeps: waking a sleeping thread
// takes tens of microseconds, as long as a whole small crop batch. The caller does not wait for
// workers that have not started by the time every task is claimed. If a task throws, the remaining tasks
// still run and the first exception is rethrown by parallel_for.
class thread_pool {
 public:
  explicit thread_pool(std::size_t threads) : state_(std::make_unique<state>()) {
    require(threads >= 1, "thread pool size ", threads, " must be >= 1 (the calling thread counts as one)");
    state_->workers.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) {
      state_->workers.emplace_back([s = state_.get()](const std::stop_token& stop) { s->work(stop); });
    }
  }

  thread_pool(thread_pool&&) noexcept = default;
  thread_pool& operator=(thread_pool&&) noexcept = default;
  ~thread_pool() {
    if (!state_) return;
    for (std::jthread& worker : state_->workers) worker.request_stop();
    state_->wake.notify_all();
    state_->workers.clear();  // joins
  }

  // Participants in each parallel_for, the calling thread included.
  std::size_t size() const { return state_->workers.size() + 1; }

  template <class F>
  void parallel_for(std::size_t n, const F& f) const {
    if (n == 0) return;
    if (state_->workers.empty() || n == 1) {
      for (std::size_t i = 0; i < n; ++i) f(i);
      return;
    }
    state_->run(n, &invoke<F>, &f);
  }

 private:
  template <class F>
  static void invoke(const void* f, std::size_t i) {
    (*static_cast<const F*>(f))(i);
  }

  // One CPU-friendly step of a polling loop.
  static void relax() {
#if defined(__SSE2__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
  }

  // Polls `ready` for up to `limit`, yielding the core now and then so that polling costs
  // little on a machine with more runnable threads than cores. True once ready.
  template <class Ready>
  static bool poll(Ready ready, std::chrono::microseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (ready()) return true;
        relax();
      }
      if (std::chrono::steady_clock::now() >= deadline) return ready();
      std::this_thread::yield();
    }
  }

  static constexpr std::chrono::microseconds worker_poll{100};
  static constexpr std::chrono::microseconds caller_poll{1000};

  struct state {
    std::mutex call_mutex;  // one parallel_for at a time
    std::mutex mutex;
    std::condition_variable_any wake;
    std::condition_variable done;
    std::vector<std::jthread> workers;

    // The current job: written while no worker is inside one, then opened by storing its
    // (nonzero) number in `open_job`, under `mutex` so that a worker going to sleep cannot miss
    // it. A worker takes part only if it enters while the job is open; the caller closes the
    // job once every task has been claimed and waits only for the workers inside. A worker the
    // OS has not scheduled yet is not waited for: on a loaded machine that wait would cost more
    // than the whole job.
    void (*task)(const void*, std::size_t) = nullptr;
    const void* context = nullptr;
    std::size_t count = 0;
    std::atomic<std::size_t> next{0};
    std::size_t jobs = 0;                  // number of the last job
    std::atomic<std::size_t> open_job{0};  // 0: none open
    std::atomic<std::size_t> inside{0};    // workers that entered the current job
    std::size_t sleepers = 0;              // workers waiting on `wake`, under `mutex`
    std::exception_ptr failure;            // under `mutex`

    void run(std::size_t n, void (*t)(const void*, std::size_t), const void* c) {
      std::lock_guard call_lock(call_mutex);
      task = t;
      context = c;
      count = n;
      failure = nullptr;
      next.store(0, std::memory_order_relaxed);
      bool sleeping = false;
      {
        std::lock_guard lock(mutex);
        open_job.store(++jobs);
        sleeping = sleepers > 0;
      }
      if (sleeping) wake.notify_all();
      drain();
      // Every task is claimed: late workers must not enter any more (they would find nothing).
      open_job.store(0);
      auto finished = [this] { return inside.load() == 0; };
      if (!poll(finished, caller_poll)) {
        std::unique_lock lock(mutex);
        done.wait(lock, finished);
      }
      std::lock_guard lock(mutex);
      if (failure) std::rethrow_exception(std::exchange(failure, nullptr));
    }

    void drain() {
      for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < count;
           i = next.fetch_add(1, std::memory_order_relaxed)) {
        try {
          task(context, i);
        } catch (...) {
          std::lock_guard lock(mutex);
          if (!failure) failure = std::current_exception();
        }
      }
    }

    void work(std::stop_token stop) {
      std::size_t seen = 0;
      for (;;) {
        auto published = [&] {
          const std::size_t job = open_job.load();
          return job != 0 && job != seen;
        };
        if (!poll([&] { return published() || stop.stop_requested(); }, worker_poll) || !published()) {
          std::unique_lock lock(mutex);
          ++sleepers;
          const bool woken = wake.wait(lock, stop, published);
          --sleepers;
          if (!woken) return;
        }
        const std::size_t job = open_job.load();
        if (job == 0) continue;  // closed meanwhile
        // Enter, then check the job is still open (sequentially consistent, as the caller's
        // close and count check): either this worker sees it closed, or the caller waits for it.
        inside.fetch_add(1);
        if (open_job.load() == job) {
          seen = job;
          drain();
        }
        if (inside.fetch_sub(1) == 1) {
          std::lock_guard lock(mutex);
          done.notify_one();
        }
      }
    }
  };

  std::unique_ptr<state> state_;
};

static_assert(Executor<inline_executor>);
static_assert(Executor<thread_pool>);

}  // namespace pgps
