// Executors run independent tasks 0..n-1, possibly on several threads. The cropper splits its
// work into tasks whose outputs are disjoint and whose results do not depend on which thread runs
// them, so any executor gives bit-identical buffers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

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
// are serialized. If a task throws, the remaining tasks still run and the first exception is
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

  struct state {
    std::mutex call_mutex;  // one parallel_for at a time
    std::mutex mutex;
    std::condition_variable_any wake;
    std::condition_variable done;
    std::vector<std::jthread> workers;

    // The current job, published under `mutex` with a new generation.
    void (*task)(const void*, std::size_t) = nullptr;
    const void* context = nullptr;
    std::size_t count = 0;
    std::atomic<std::size_t> next{0};
    std::size_t generation = 0;
    std::size_t busy = 0;
    std::exception_ptr failure;

    void run(std::size_t n, void (*t)(const void*, std::size_t), const void* c) {
      std::lock_guard call_lock(call_mutex);
      {
        std::lock_guard lock(mutex);
        task = t;
        context = c;
        count = n;
        next.store(0, std::memory_order_relaxed);
        busy = workers.size();
        failure = nullptr;
        ++generation;
      }
      wake.notify_all();
      drain();
      std::unique_lock lock(mutex);
      done.wait(lock, [this] { return busy == 0; });
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
        {
          std::unique_lock lock(mutex);
          if (!wake.wait(lock, stop, [&] { return generation != seen; })) return;
          seen = generation;
        }
        drain();
        std::lock_guard lock(mutex);
        if (--busy == 0) done.notify_one();
      }
    }
  };

  std::unique_ptr<state> state_;
};

static_assert(Executor<inline_executor>);
static_assert(Executor<thread_pool>);

}  // namespace pgps
