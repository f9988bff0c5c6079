// Resuming at any epoch gives exactly the stages of an uninterrupted run, for every stage policy
// (for the plateau policy given the same reported metrics), and foreign or corrupt states are
// refused with a clear error.
#include <cmath>
#include <string>
#include <vector>

#include "corner_sampler.hpp"
#include "pgps/curriculum.hpp"
#include "pgps_catch.hpp"

using pgps::extent3;

namespace {
using pgps_test::corner_sampler;

// A validation metric with plateaus: rises in steps, flat in between.
double metric_of(std::int64_t epoch) {
  return std::floor(static_cast<double>(epoch) / 3.0) * 0.01 + (epoch % 5 == 0 ? 0.02 : 0);
}

// Runs `make()` uninterrupted, saving the state at the start of every epoch, then resumes a
// fresh curriculum from every one of those states and checks every later epoch.
template <class Make>
void check_resume_everywhere(Make make) {
  auto run = make();
  const std::int64_t epochs = run.total_epochs();
  std::vector<std::string> states;
  std::vector<pgps::stage> stage_of_epoch;
  std::vector<extent3> patch_of_epoch;
  for (std::int64_t e = 0; e < epochs; ++e) {
    states.push_back(run.save_state());
    stage_of_epoch.push_back(run.stage_at(e));
    patch_of_epoch.push_back(run.plan(e, 1).patch);
    run.report(e, metric_of(e));
  }
  for (std::int64_t resume = 0; resume < epochs; ++resume) {
    auto resumed = make();
    resumed.restore_state(states[static_cast<std::size_t>(resume)]);
    for (std::int64_t e = resume; e < epochs; ++e) {
      INFO("resumed at epoch " << resume << ", epoch " << e);
      REQUIRE(resumed.stage_at(e).index == stage_of_epoch[static_cast<std::size_t>(e)].index);
      REQUIRE(resumed.stage_at(e).patch == stage_of_epoch[static_cast<std::size_t>(e)].patch);
      REQUIRE(resumed.plan(e, 1).patch == patch_of_epoch[static_cast<std::size_t>(e)]);
      resumed.report(e, metric_of(e));
    }
    REQUIRE(resumed.stages() == run.stages());
    REQUIRE(resumed.save_state() == run.save_state());
  }
}
}  // namespace

TEST_CASE("resume at every epoch: equal epochs (and the reference's off-by-one)") {
  const auto make = [] {
    return pgps::presets::pgps_efficiency({32, 64, 64}, {3, 4, 4}, 2, 23, 2, corner_sampler{}, 5);
  };
  check_resume_everywhere(make);
  // The paper's trainer on resume at epoch r counts the completed epochs c < r with c % L == 0
  // and then increments again at r when r % L == 0; pgps' stage is min(r / L, n - 1).
  const auto c = make();
  const std::int64_t n = c.stage_count();
  const std::int64_t length = 23 / n;
  for (std::int64_t r = 1; r < 23; ++r) {
    std::int64_t reference = 0;
    for (std::int64_t done = 0; done < r; ++done) reference += done % length == 0 ? 1 : 0;
    if (r % length == 0) ++reference;
    CHECK(c.stage_at(r).index == std::min(r / length, n - 1));
    if (r / length < n - 1) CHECK(reference == c.stage_at(r).index + 1);
  }
}

TEST_CASE("resume at every epoch: explicit epochs (linear ramp)") {
  check_resume_everywhere([] {
    return pgps::presets::linear_ramp_resizing({64, 64, 64}, {4, 4, 4}, 2, 20, 2, corner_sampler{}, 1);
  });
}

TEST_CASE("resume at every epoch: compute-proportional") {
  check_resume_everywhere([] {
    return pgps::curriculum(pgps::progressive_growth::from_pooling({16, 32, 32}, {2, 3, 3}),
                            pgps::constant_voxels(2), pgps::compute_proportional{}, corner_sampler{}, 25, 2,
                            9);
  });
}

TEST_CASE("resume at every epoch: wall-clock budget") {
  check_resume_everywhere([] {
    return pgps::curriculum(pgps::progressive_growth::from_pooling({16, 32, 32}, {3, 4, 4}),
                            pgps::constant_batch(2), pgps::wall_clock_budget(60, pgps::time_model{1e-4, 0.1}),
                            corner_sampler{}, 40, 2, 9);
  });
}

TEST_CASE("resume at every epoch: random patch per iteration") {
  check_resume_everywhere([] {
    return pgps::presets::random_patch_size({32, 64, 64}, {3, 4, 4}, 2, 10, 3, corner_sampler{}, 2);
  });
}

TEST_CASE("resume at every epoch: plateau, given the same metrics") {
  const auto make = [] {
    return pgps::presets::pgps_plateau({32, 64, 64}, {3, 4, 4}, pgps::constant_batch(2),
                                       {.patience = 2, .min_epochs = 2, .max_epochs = 6}, 40, 2,
                                       corner_sampler{}, 3);
  };
  check_resume_everywhere(make);
  // The metrics did move stage boundaries away from the no-plateau projection.
  auto run = make();
  const auto projected = run.stages();
  for (std::int64_t e = 0; e < 40; ++e) run.report(e, metric_of(e));
  CHECK(run.stages() != projected);
}

TEST_CASE("foreign, corrupt and mismatched states are refused") {
  const auto make = [](std::int64_t epochs, std::uint64_t seed) {
    return pgps::presets::pgps_efficiency({32, 64, 64}, {3, 4, 4}, 2, epochs, 2, corner_sampler{}, seed);
  };
  auto c = make(23, 5);
  const std::string good = c.save_state();
  CHECK(good.rfind("pgps-curriculum 1\n", 0) == 0);
  PGPS_REQUIRE_ERROR(c.restore_state(""), "ends where the word pgps-curriculum was expected");
  PGPS_REQUIRE_ERROR(c.restore_state("hello world"), "not a pgps curriculum state: it starts with 'hello'");
  PGPS_REQUIRE_ERROR(c.restore_state("pgps-curriculum 7"), "unsupported curriculum state version 7");
  PGPS_REQUIRE_ERROR(make(24, 5).restore_state(good), "is for 23 epochs x 2 iterations with seed 5");
  PGPS_REQUIRE_ERROR(make(23, 6).restore_state(good), "with seed 6");
  const auto performance =
      pgps::presets::pgps_performance({32, 64, 64}, {3, 4, 4}, 2, 23, 2, corner_sampler{}, 5);
  auto copy = performance;
  PGPS_REQUIRE_ERROR(copy.restore_state(good), "its patches or batches differ");
  std::string truncated = good.substr(0, good.size() - 6);
  PGPS_REQUIRE_ERROR(c.restore_state(truncated),
                     "corrupt curriculum state: it ends where stage start was expected");
  auto plateau =
      pgps::curriculum(pgps::progressive_growth::from_pooling({32, 64, 64}, {3, 4, 4}),
                       pgps::constant_batch(2), pgps::plateau({.patience = 2}), corner_sampler{}, 23, 2, 5);
  PGPS_REQUIRE_ERROR(plateau.restore_state(good), "expected 'plateau' but found 'equal_epochs'");
  // A refused state leaves the curriculum as it was.
  CHECK(c.save_state() == good);
}
