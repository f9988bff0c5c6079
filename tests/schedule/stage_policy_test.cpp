// Stage starts of every stage policy, derived by hand, their state round trips and their errors.
#include <span>
#include <vector>

#include "pgps/schedule/stage_policy.hpp"
#include "pgps_catch.hpp"

using starts_t = std::vector<std::int64_t>;

namespace {
pgps::stage_context context(std::int32_t stages, std::int64_t epochs, std::vector<double> costs = {},
                            std::int64_t iterations = 1) {
  pgps::stage_context c;
  c.stage_count = stages;
  c.total_epochs = epochs;
  c.iterations_per_epoch = iterations;
  c.voxels_per_iteration = std::move(costs);
  return c;
}
template <class P>
starts_t starts_of(const P& policy) {
  const std::span<const std::int64_t> s = policy.stage_starts();
  return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("equal epochs follows the reference: L = floor(E / n), the last stage takes the rest") {
  pgps::equal_epochs policy;
  policy.start(context(10, 1000));
  CHECK(starts_of(policy) == starts_t{0, 100, 200, 300, 400, 500, 600, 700, 800, 900});
  policy.start(context(13, 1000));  // L = 76, last stage 912..999 (88 epochs)
  CHECK(policy.stage_starts().back() == 912);
  CHECK(pgps::stage_index_at(policy.stage_starts(), 75) == 0);
  CHECK(pgps::stage_index_at(policy.stage_starts(), 76) == 1);
  CHECK(pgps::stage_index_at(policy.stage_starts(), 999) == 12);
  for (std::int64_t e = 0; e < 1000; ++e) {
    const std::int64_t reference = std::min<std::int64_t>(e / 76, 12);
    REQUIRE(pgps::stage_index_at(policy.stage_starts(), e) == reference);
  }
  PGPS_REQUIRE_ERROR(policy.start(context(10, 9)), "total epochs 9 are fewer than the 10 stages");
}

TEST_CASE("explicit epochs") {
  pgps::explicit_epochs policy({6, 2, 2});
  policy.start(context(3, 10));
  CHECK(starts_of(policy) == starts_t{0, 6, 8});
  PGPS_REQUIRE_ERROR(policy.start(context(3, 11)), "sum to 10 epochs, not the total 11");
  PGPS_REQUIRE_ERROR(policy.start(context(2, 10)), "3 stage lengths given for 2 stages");
  PGPS_REQUIRE_ERROR(pgps::explicit_epochs({3, 0}), "stage length 0");
}

TEST_CASE("compute-proportional epochs give every stage about the same voxels") {
  pgps::compute_proportional policy;
  // costs 1, 2, 4 -> weights 1, 1/2, 1/4; one epoch each, the other 7 split 4, 2, 1.
  policy.start(context(3, 10, {1, 2, 4}));
  CHECK(starts_of(policy) == starts_t{0, 5, 8});
  // costs 1, 1, 1 over 11 epochs: 1 + 8/3 each -> 3, 3, 2 plus remainders to the first two.
  policy.start(context(3, 11, {1, 1, 1}));
  CHECK(starts_of(policy) == starts_t{0, 4, 8});
  PGPS_REQUIRE_ERROR(policy.start(context(3, 10, {1, 2})), "cost of every stage");
  PGPS_REQUIRE_ERROR(policy.start(context(2, 10, {1, 0})), "costs 0 voxels per iteration");
}

TEST_CASE("wall-clock budget splits the time equally") {
  // 1 ms per voxel, 1000 and 2000 voxels per iteration, 1 iteration: 1 s and 2 s per epoch.
  // 20 s / 2 stages = 10 s each: 10 and 5 epochs; the budget ends at epoch 15.
  pgps::wall_clock_budget policy(20, pgps::time_model{1e-3, 0});
  policy.start(context(2, 20, {1000, 2000}));
  CHECK(starts_of(policy) == starts_t{0, 10});
  CHECK(policy.budget_end_epoch() == 15);
  PGPS_REQUIRE_ERROR(policy.start(context(2, 12, {1000, 2000})),
                     "allows 15 epochs, more than the curriculum's total of 12");
  // A fixed overhead of 1 s per iteration: 2 s and 3 s per epoch -> 5 and 3 epochs.
  pgps::wall_clock_budget overhead(20, pgps::time_model{1e-3, 1});
  overhead.start(context(2, 8, {1000, 2000}));
  CHECK(starts_of(overhead) == starts_t{0, 5});
  PGPS_REQUIRE_ERROR(pgps::wall_clock_budget(0, pgps::time_model{1, 0}), "budget 0 seconds");
  PGPS_REQUIRE_ERROR(pgps::wall_clock_budget(10, pgps::time_model{0, 0}), "not both 0");
}

TEST_CASE("plateau advances after patience epochs without improvement, within min and max") {
  pgps::plateau policy({.patience = 2, .min_epochs = 3, .max_epochs = 8});
  policy.start(context(3, 20));
  // Deadlines: stage 1 must start by 20 - 2*3 = 14, stage 2 by 17; projection: max epochs.
  CHECK(starts_of(policy) == starts_t{0, 8, 16});
  policy.report(0, 0.1);
  policy.report(1, 0.2);
  policy.report(2, 0.2);  // no improvement for 1 epoch
  CHECK(starts_of(policy) == starts_t{0, 8, 16});
  policy.report(3, 0.15);  // 2 epochs without improvement, 4 epochs in the stage: advance at 4
  CHECK(starts_of(policy) == starts_t{0, 4, 12});
  for (std::int64_t e = 4; e < 12; ++e) policy.report(e, 0.1 * static_cast<double>(e));
  CHECK(starts_of(policy) == starts_t{0, 4, 12});  // always improving: the stage runs max epochs
  policy.report(12, 0.0);
  policy.report(19, 0.0);  // the last stage ignores plateaus
  CHECK(starts_of(policy) == starts_t{0, 4, 12});
}

TEST_CASE("plateau respects min epochs, deadlines, gaps, NaN and minimising metrics") {
  pgps::plateau policy({.patience = 1, .min_epochs = 3, .max_epochs = 100});
  policy.start(context(3, 10));
  CHECK(starts_of(policy) == starts_t{0, 4, 7});  // deadlines 10 - 6 and 10 - 3
  policy.report(0, 1.0);
  policy.report(1, 0.5);  // plateau, but only 2 epochs in the stage
  CHECK(starts_of(policy) == starts_t{0, 4, 7});
  policy.report(2, 0.5);  // 3 epochs: advance at 3
  CHECK(starts_of(policy) == starts_t{0, 3, 7});
  policy.report(8, 0.5);  // a gap past the deadline of stage 2: it began at 7
  CHECK(starts_of(policy) == starts_t{0, 3, 7});
  PGPS_REQUIRE_ERROR(policy.report(8, 0.5), "reports must come in increasing epoch order");
  PGPS_REQUIRE_ERROR(policy.report(10, 0.5), "outside the run of 10 epochs");

  pgps::plateau loss(
      {.patience = 2, .min_epochs = 1, .max_epochs = 100, .min_delta = 0.1, .maximize = false});
  loss.start(context(2, 10));
  loss.report(0, 1.0);
  loss.report(1, 0.95);  // not better by more than 0.1
  loss.report(2, std::nan(""));
  CHECK(starts_of(loss) == starts_t{0, 3});

  PGPS_REQUIRE_ERROR(pgps::plateau({.patience = 0}), "patience 0");
  PGPS_REQUIRE_ERROR(pgps::plateau({.patience = 1, .min_epochs = 5, .max_epochs = 4}), "maximum 4 epochs");
  pgps::plateau tight({.patience = 1, .min_epochs = 4});
  PGPS_REQUIRE_ERROR(tight.start(context(3, 10)), "need 12 epochs, more than the total 10");
}

TEST_CASE("policy states round trip and refuse foreign or corrupt text") {
  pgps::equal_epochs equal;
  equal.start(context(4, 12));
  equal.restore_state(equal.save_state());
  pgps::equal_epochs other;
  other.start(context(4, 16));
  PGPS_REQUIRE_ERROR(other.restore_state(equal.save_state()), "differently configured");
  PGPS_REQUIRE_ERROR(other.restore_state("plateau 1 2 3"), "expected 'equal_epochs' but found 'plateau'");
  PGPS_REQUIRE_ERROR(other.restore_state("equal_epochs starts 4 0 4 x 12"), "'x' is not an integer");
  PGPS_REQUIRE_ERROR(other.restore_state("equal_epochs starts 4 0 4"), "ends where stage start was expected");

  pgps::plateau a({.patience = 2, .min_epochs = 1, .max_epochs = 5});
  a.start(context(3, 15));
  a.report(0, 0.5);
  a.report(1, 0.4);
  a.report(2, 0.4);
  pgps::plateau b({.patience = 2, .min_epochs = 1, .max_epochs = 5});
  b.start(context(3, 15));
  b.restore_state(a.save_state());
  CHECK(starts_of(b) == starts_of(a));
  CHECK(b.save_state() == a.save_state());
  pgps::plateau c({.patience = 3, .min_epochs = 1, .max_epochs = 5});
  c.start(context(3, 15));
  PGPS_REQUIRE_ERROR(c.restore_state(a.save_state()), "saved plateau state has patience 2");
  PGPS_REQUIRE_ERROR(b.restore_state("plateau 2 1 5 0 max next 3 best 0.5 0 begun 2 0 99"),
                     "corrupt plateau state");
}
