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
// takes tens of microseconds, as long as a whole small crop batch. If a task throws, the remaining tasks still run and the first exception is
// rethrown by parallel_for.
class thread_pool {
 public:
  explicit thread_pool(std::size_t threads) : state_(std::make_unique<state>()) {
    require(threads >= 1, "thread pool size ", threads, " must be >= 1 (the calling thread counts as one)");
    state_->workers.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) {
      state_->workers.emplace_back([s = state_.get()](std::stop_token stop) { s->work(stop); });
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

    // The current job, written while no worker runs one and published by a new generation
    // (changed under `mutex`, so that a worker going to sleep cannot miss it).
    void (*task)(const void*, std::size_t) = nullptr;
    const void* context = nullptr;
    std::size_t count = 0;
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> generation{0};
    std::atomic<std::size_t> busy{0};  // workers that have not finished the current job
    std::size_t sleepers = 0;          // workers waiting on `wake`, under `mutex`
    std::exception_ptr failure;        // under `mutex`

    void run(std::size_t n, void (*t)(const void*, std::size_t), const void* c) {
      std::lock_guard call_lock(call_mutex);
      task = t;
      context = c;
      count = n;
      failure = nullptr;
      next.store(0, std::memory_order_relaxed);
      busy.store(workers.size(), std::memory_order_relaxed);
      bool sleeping = false;
      {
        std::lock_guard lock(mutex);
        generation.fetch_add(1, std::memory_order_release);
        sleeping = sleepers > 0;
      }
      if (sleeping) wake.notify_all();
      drain();
      auto finished = [this] { return busy.load(std::memory_order_acquire) == 0; };
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
        auto published = [&] { return generation.load(std::memory_order_acquire) != seen; };
        if (!poll([&] { return published() || stop.stop_requested(); }, worker_poll) || !published()) {
          std::unique_lock lock(mutex);
          ++sleepers;
          const bool woken = wake.wait(lock, stop, published);
          --sleepers;
          if (!woken) return;
        }
        seen = generation.load(std::memory_order_acquire);
        drain();
        if (busy.fetch_sub(1, std::memory_order_acq_rel) == 1) {
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
