// Stage policies: when each stage starts.
//
// A policy is started once with the curriculum's shape (stage count, epochs, iterations, the
// cost of an iteration in each stage) and then answers with the first epoch of every stage,
// stage_starts(): n strictly increasing epochs, the first 0, the last < total epochs; stage i
// lasts until stage i + 1 starts, the last stage until the end. Lookups are a binary search on
// that cached list and never allocate.
//
// Every policy is resumable: save_state() writes a one-line text form of its small state and
// restore_state() checks that the text belongs to an identically configured policy before taking
// it, so resuming at any epoch gives exactly the stage of an uninterrupted run. (The paper's
// trainer recounts stages on resume with `epoch % L == 0` over the completed epochs *and* again
// at the resumed epoch, one stage too many; pgps' stages are a function of the epoch only, or of
// the reported metrics for the plateau policy.)
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgps/core/error.hpp"
#include "pgps/schedule/cost_model.hpp"

namespace pgps {

struct stage_context {
  std::int32_t stage_count = 1;
  std::int64_t total_epochs = 1;
  std::int64_t iterations_per_epoch = 1;
  std::vector<double> voxels_per_iteration;  // per stage, for compute- and time-based policies
};

template <class P>
concept StagePolicy = requires(P& policy, const P& view, const stage_context& context) {
  { policy.start(context) } -> std::same_as<void>;
  { view.stage_starts() } -> std::convertible_to<std::span<const std::int64_t>>;
};

template <class P>
concept ResumableStagePolicy = StagePolicy<P> && requires(P& policy, const P& view, std::string_view text) {
  { view.save_state() } -> std::same_as<std::string>;
  { policy.restore_state(text) } -> std::same_as<void>;
};

// A policy that listens to validation metrics (already reduced across ranks by the host).
template <class P>
concept AdaptiveStagePolicy = StagePolicy<P> && requires(P& policy, std::int64_t epoch, double metric) {
  { policy.report(epoch, metric) } -> std::same_as<void>;
};

// The stage of an epoch given the first epochs of the stages; epochs before 0 map to stage 0.
inline std::int32_t stage_index_at(std::span<const std::int64_t> starts, std::int64_t epoch) {
  const auto after = std::upper_bound(starts.begin(), starts.end(), epoch);
  return after == starts.begin() ? 0 : static_cast<std::int32_t>(after - starts.begin() - 1);
}

namespace detail {

inline void require_context(const stage_context& context, const char* policy) {
  require(context.stage_count >= 1, policy, ": stage count ", context.stage_count, " must be >= 1");
  require(context.iterations_per_epoch >= 1, policy, ": iterations per epoch ", context.iterations_per_epoch,
          " must be >= 1");
  require(context.total_epochs >= context.stage_count, "total epochs ", context.total_epochs,
          " are fewer than the ", context.stage_count,
          " stages of the schedule; each stage needs at least one epoch (", policy, ")");
}

inline std::string format_double(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// Reads the whitespace-separated tokens of a saved state; every mismatch is a clear error.
class state_reader {
 public:
  explicit state_reader(std::string_view text) : text_(text) {}

  std::string_view token(const char* what) {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    const std::size_t begin = pos_;
    while (pos_ < text_.size() && !is_space(text_[pos_])) ++pos_;
    if (begin == pos_) fail("corrupt curriculum state: it ends where ", what, " was expected");
    return text_.substr(begin, pos_ - begin);
  }
  void expect(std::string_view word) {
    const std::string_view got = token(std::string(word).c_str());
    if (got != word) fail("corrupt or foreign curriculum state: expected '", word, "' but found '", got, "'");
  }
  std::int64_t integer(const char* what) {
    const std::string text(token(what));
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (end != text.c_str() + text.size())
      fail("corrupt curriculum state: ", what, " '", text, "' is not an integer");
    return value;
  }
  double real(const char* what) {
    const std::string text(token(what));
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size())
      fail("corrupt curriculum state: ", what, " '", text, "' is not a number");
    return value;
  }
  // Everything after the tokens read so far, without leading blanks.
  [[nodiscard]] std::string_view rest() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    return text_.substr(pos_);
  }
  [[nodiscard]] bool at_end() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    return pos_ == text_.size();
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
  std::string_view text_;
  std::size_t pos_ = 0;
};

inline std::string format_starts(std::span<const std::int64_t> starts) {
  std::string out = std::to_string(starts.size());
  for (const std::int64_t s : starts) out += ' ' + std::to_string(s);
  return out;
}

inline std::vector<std::int64_t> read_starts(state_reader& in) {
  const std::int64_t count = in.integer("stage count");
  if (count < 1 || count > 100000)
    fail("corrupt curriculum state: stage count ", count, " is outside [1, 100000]");
  std::vector<std::int64_t> starts(static_cast<std::size_t>(count));
  for (auto& s : starts) s = in.integer("stage start");
  return starts;
}

// For policies whose stages are a pure function of their configuration: the state is the list
// of stage starts, and restoring checks that it matches.
inline std::string save_fixed(const char* name, std::span<const std::int64_t> starts) {
  return std::string(name) + " starts " + format_starts(starts);
}
inline void restore_fixed(const char* name, std::string_view text, std::span<const std::int64_t> starts) {
  state_reader in(text);
  in.expect(name);
  in.expect("starts");
  const std::vector<std::int64_t> saved = read_starts(in);
  if (!in.at_end()) fail("corrupt curriculum state: unexpected text after the ", name, " state");
  if (!std::equal(saved.begin(), saved.end(), starts.begin(), starts.end())) {
    fail("the saved ", name, " state has stage starts [", format_starts(saved), "] but this curriculum has [",
         format_starts(starts), "] (count first); it was saved by a differently configured curriculum");
  }
}

inline std::vector<std::int64_t> starts_from_epochs(std::span<const std::int64_t> epochs) {
  std::vector<std::int64_t> starts(epochs.size());
  std::int64_t first = 0;
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    starts[i] = first;
    first += epochs[i];
  }
  return starts;
}

// Splits `total` into parts proportional to weights, each at least 1: every part gets 1, the
// rest is split by largest remainder (ties to the earlier stage).
inline std::vector<std::int64_t> apportion(std::int64_t total, std::span<const double> weights) {
  const std::size_t n = weights.size();
  std::vector<std::int64_t> parts(n, 1);
  const std::int64_t rest = total - static_cast<std::int64_t>(n);
  const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<double> remainder(n, 0.0);
  std::int64_t given = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double share = static_cast<double>(rest) * weights[i] / sum;
    const auto whole = static_cast<std::int64_t>(std::floor(share));
    parts[i] += whole;
    given += whole;
    remainder[i] = share - static_cast<double>(whole);
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
  for (std::size_t k = 0; given < rest; ++k, ++given) ++parts[order[k % n]];
  return parts;
}

}  // namespace detail

// The reference: L = floor(E / n) epochs per stage, stage = min(floor(e / L), n - 1), so the last
// stage takes the remainder (1000 epochs over 10 stages: 100 each; over 13 stages: 76 each and
// 88 for the last).
class equal_epochs {
 public:
  void start(const stage_context& context) {
    detail::require_context(context, "equal epochs");
    const std::int64_t length = context.total_epochs / context.stage_count;
    starts_.resize(static_cast<std::size_t>(context.stage_count));
    for (std::size_t i = 0; i < starts_.size(); ++i) starts_[i] = static_cast<std::int64_t>(i) * length;
  }
  [[nodiscard]] std::span<const std::int64_t> stage_starts() const { return starts_; }
  [[nodiscard]] std::string save_state() const { return detail::save_fixed("equal_epochs", starts_); }
  void restore_state(std::string_view text) { detail::restore_fixed("equal_epochs", text, starts_); }

 private:
  std::vector<std::int64_t> starts_;
};

// Given epoch counts per stage (e.g. linear_ramp::stage_epochs()); they must sum to the total.
class explicit_epochs {
 public:
  explicit explicit_epochs(std::vector<std::int64_t> epochs) : epochs_(std::move(epochs)) {
    for (const std::int64_t e : epochs_) require(e >= 1, "stage length ", e, " epochs must be >= 1");
  }
  void start(const stage_context& context) {
    detail::require_context(context, "explicit epochs");
    require(static_cast<std::int64_t>(epochs_.size()) == context.stage_count,
            "explicit epochs: ", epochs_.size(), " stage lengths given for ", context.stage_count, " stages");
    const std::int64_t sum = std::accumulate(epochs_.begin(), epochs_.end(), std::int64_t{0});
    require(sum == context.total_epochs, "explicit epochs: the stage lengths sum to ", sum,
            " epochs, not the total ", context.total_epochs);
    starts_ = detail::starts_from_epochs(epochs_);
  }
  [[nodiscard]] std::span<const std::int64_t> stage_starts() const { return starts_; }
  [[nodiscard]] std::string save_state() const { return detail::save_fixed("explicit_epochs", starts_); }
  void restore_state(std::string_view text) { detail::restore_fixed("explicit_epochs", text, starts_); }

 private:
  std::vector<std::int64_t> epochs_;
  std::vector<std::int64_t> starts_;
};

// Equal compute per stage: epochs in proportion to 1 / (voxels per iteration), so every stage
// processes about the same voxels. Each stage gets one epoch, the other E - n are apportioned by
// largest remainder.
class compute_proportional {
 public:
  void start(const stage_context& context) {
    detail::require_context(context, "compute-proportional epochs");
    require(context.voxels_per_iteration.size() == static_cast<std::size_t>(context.stage_count),
            "compute-proportional epochs need the cost of every stage");
    std::vector<double> weights;
    for (const double cost : context.voxels_per_iteration) {
      require(cost > 0, "compute-proportional epochs: a stage costs ", cost,
              " voxels per iteration; must be > 0");
      weights.push_back(1.0 / cost);
    }
    starts_ = detail::starts_from_epochs(detail::apportion(context.total_epochs, weights));
  }
  [[nodiscard]] std::span<const std::int64_t> stage_starts() const { return starts_; }
  [[nodiscard]] std::string save_state() const { return detail::save_fixed("compute_proportional", starts_); }
  void restore_state(std::string_view text) { detail::restore_fixed("compute_proportional", text, starts_); }

 private:
  std::vector<std::int64_t> starts_;
};

// A wall-clock budget split equally between stages under a time model: stage i gets
// max(1, floor((budget / n) / seconds per epoch of stage i)) epochs. The budget's epochs must fit
// the curriculum's total epochs; epochs after budget_end_epoch() (if any) stay in the last stage,
// so a host stops there to keep the budget.
class wall_clock_budget {
 public:
  wall_clock_budget(double budget_seconds, time_model model) : budget_(budget_seconds), model_(model) {
    require(budget_seconds > 0, "wall-clock budget ", budget_seconds, " seconds must be > 0");
    require(model.seconds_per_voxel >= 0 && model.overhead_seconds_per_iteration >= 0 &&
                model.seconds_per_voxel + model.overhead_seconds_per_iteration > 0,
            "time model: seconds per voxel ", model.seconds_per_voxel, " and overhead ",
            model.overhead_seconds_per_iteration, " s per iteration must be >= 0 and not both 0");
  }
  void start(const stage_context& context) {
    detail::require_context(context, "wall-clock budget");
    require(context.voxels_per_iteration.size() == static_cast<std::size_t>(context.stage_count),
            "wall-clock budget needs the cost of every stage");
    const double share = budget_ / static_cast<double>(context.stage_count);
    std::vector<std::int64_t> epochs;
    for (const double cost : context.voxels_per_iteration) {
      const double epoch_seconds =
          model_.seconds_per_iteration(cost) * static_cast<double>(context.iterations_per_epoch);
      const double fit = std::floor(share / epoch_seconds);
      epochs.push_back(fit < 1 ? 1 : static_cast<std::int64_t>(std::min(fit, 1e15)));
    }
    budget_end_ = std::accumulate(epochs.begin(), epochs.end(), std::int64_t{0});
    require(budget_end_ <= context.total_epochs, "the wall-clock budget of ", budget_, " s allows ",
            budget_end_, " epochs, more than the curriculum's total of ", context.total_epochs,
            "; pass at least that many total epochs or a smaller budget");
    starts_ = detail::starts_from_epochs(epochs);
  }
  [[nodiscard]] std::span<const std::int64_t> stage_starts() const { return starts_; }
  [[nodiscard]] std::int64_t budget_end_epoch() const { return budget_end_; }
  [[nodiscard]] std::string save_state() const { return detail::save_fixed("wall_clock_budget", starts_); }
  void restore_state(std::string_view text) { detail::restore_fixed("wall_clock_budget", text, starts_); }

 private:
  double budget_;
  time_model model_;
  std::int64_t budget_end_ = 0;
  std::vector<std::int64_t> starts_;
};

// Advances when the reported validation metric has not improved (by more than min_delta) for
// `patience` epochs, once the stage has run min_epochs; a stage ends at the latest after
// max_epochs, or earlier when the remaining epochs are just enough for the remaining stages at
// min_epochs each. The best metric resets at every stage start. Reports come in epoch order
// (gaps allowed: an epoch without a report is an epoch without improvement).
//
// stage_starts() reflects what is known: the starts of the stages begun so far are final; the
// next stages are projected as if no plateau is found (each runs max_epochs, or until its
// deadline). A report can only move a projected start earlier, never a past one.
class plateau {
 public:
  struct options {
    std::int64_t patience = 10;
    std::int64_t min_epochs = 1;
    std::int64_t max_epochs = std::numeric_limits<std::int64_t>::max() / 4;
    double min_delta = 0;
    bool maximize = true;  // Dice: higher is better; set false for a loss
  };

  explicit plateau(options opts) : opts_(opts) {
    require(opts.patience >= 1, "plateau patience ", opts.patience, " epochs must be >= 1");
    require(opts.min_epochs >= 1, "plateau minimum ", opts.min_epochs, " epochs per stage must be >= 1");
    require(opts.max_epochs >= opts.min_epochs, "plateau maximum ", opts.max_epochs,
            " epochs per stage is below the minimum ", opts.min_epochs);
    require(opts.min_delta >= 0, "plateau min_delta ", opts.min_delta, " must be >= 0");
  }

  void start(const stage_context& context) {
    detail::require_context(context, "plateau");
    require(opts_.min_epochs * context.stage_count <= context.total_epochs, "plateau: ", context.stage_count,
            " stages of at least ", opts_.min_epochs, " epochs need ", opts_.min_epochs * context.stage_count,
            " epochs, more than the total ", context.total_epochs);
    stage_count_ = context.stage_count;
    total_epochs_ = context.total_epochs;
    begun_ = {0};
    next_report_ = 0;
    reset_best(0);
    project();
  }

  [[nodiscard]] std::span<const std::int64_t> stage_starts() const { return projected_; }

  void report(std::int64_t epoch, double metric) {
    require(epoch >= next_report_, "plateau: epoch ", epoch, " was reported after epoch ", next_report_ - 1,
            "; reports must come in increasing epoch order");
    require(epoch < total_epochs_, "plateau: epoch ", epoch, " is outside the run of ", total_epochs_,
            " epochs");
    // Stages that the projection started by this epoch have begun, whatever was reported.
    while (static_cast<std::int32_t>(begun_.size()) < stage_count_ && projected_[begun_.size()] <= epoch) {
      begun_.push_back(projected_[begun_.size()]);
      reset_best(begun_.back());
    }
    next_report_ = epoch + 1;
    if (static_cast<std::int32_t>(begun_.size()) == stage_count_) return;
    const bool improved =
        opts_.maximize ? metric > best_ + opts_.min_delta : metric < best_ - opts_.min_delta;
    if (improved) {
      best_ = metric;
      best_epoch_ = epoch;
    }
    const std::int64_t in_stage = epoch - begun_.back() + 1;
    if (in_stage >= opts_.min_epochs && epoch - best_epoch_ >= opts_.patience) {
      begun_.push_back(epoch + 1);
      reset_best(epoch + 1);
    }
    project();
  }

  [[nodiscard]] std::string save_state() const {
    std::string out = "plateau " + std::to_string(opts_.patience) + ' ' + std::to_string(opts_.min_epochs) +
                      ' ' + std::to_string(opts_.max_epochs) + ' ' + detail::format_double(opts_.min_delta) +
                      ' ' + (opts_.maximize ? "max" : "min");
    out += " next " + std::to_string(next_report_) + " best " + detail::format_double(best_) + ' ' +
           std::to_string(best_epoch_) + " begun " + detail::format_starts(begun_);
    return out;
  }

  void restore_state(std::string_view text) {
    detail::state_reader in(text);
    in.expect("plateau");
    const std::int64_t patience = in.integer("patience");
    const std::int64_t min_epochs = in.integer("minimum epochs");
    const std::int64_t max_epochs = in.integer("maximum epochs");
    const double min_delta = in.real("min_delta");
    const std::string_view direction = in.token("direction");
    if (patience != opts_.patience || min_epochs != opts_.min_epochs || max_epochs != opts_.max_epochs ||
        min_delta != opts_.min_delta || direction != (opts_.maximize ? "max" : "min")) {
      fail("the saved plateau state has patience ", patience, ", epochs [", min_epochs, ", ", max_epochs,
           "], min_delta ", min_delta, ", ", direction, " but this policy has patience ", opts_.patience,
           ", epochs [", opts_.min_epochs, ", ", opts_.max_epochs, "], min_delta ", opts_.min_delta, ", ",
           opts_.maximize ? "max" : "min");
    }
    in.expect("next");
    const std::int64_t next = in.integer("next report epoch");
    in.expect("best");
    const double best = in.real("best metric");
    const std::int64_t best_epoch = in.integer("best epoch");
    in.expect("begun");
    std::vector<std::int64_t> begun = detail::read_starts(in);
    if (!in.at_end()) fail("corrupt curriculum state: unexpected text after the plateau state");
    const bool ordered = begun.front() == 0 && std::is_sorted(begun.begin(), begun.end()) &&
                         std::adjacent_find(begun.begin(), begun.end()) == begun.end();
    if (!ordered || static_cast<std::int32_t>(begun.size()) > stage_count_ || begun.back() >= total_epochs_ ||
        next < 0 || next > total_epochs_) {
      fail("corrupt plateau state: stage starts [", detail::format_starts(begun),
           "] (count first) and next epoch ", next, " do not fit ", stage_count_, " stages over ",
           total_epochs_, " epochs");
    }
    begun_ = std::move(begun);
    next_report_ = next;
    best_ = best;
    best_epoch_ = best_epoch;
    project();
  }

  [[nodiscard]] const options& settings() const { return opts_; }

 private:
  void reset_best(std::int64_t stage_start) {
    best_ =
        opts_.maximize ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    best_epoch_ = stage_start - 1;
  }

  // Latest start of stage i + 1 that leaves min_epochs for each stage after it.
  [[nodiscard]] std::int64_t deadline_after(std::size_t stage) const {
    return total_epochs_ - (static_cast<std::int64_t>(stage_count_) - 1 - static_cast<std::int64_t>(stage)) *
                               opts_.min_epochs;
  }

  void project() {
    projected_ = begun_;
    projected_.reserve(static_cast<std::size_t>(stage_count_));
    while (static_cast<std::int32_t>(projected_.size()) < stage_count_) {
      const std::size_t current = projected_.size() - 1;
      const std::int64_t longest = projected_.back() + opts_.max_epochs;
      projected_.push_back(std::min(longest, deadline_after(current)));
    }
  }

  options opts_;
  std::int32_t stage_count_ = 1;
  std::int64_t total_epochs_ = 1;
  std::vector<std::int64_t> begun_{0};
  std::vector<std::int64_t> projected_{0};
  std::int64_t next_report_ = 0;
  double best_ = 0;
  std::int64_t best_epoch_ = -1;
};

static_assert(ResumableStagePolicy<equal_epochs>);
static_assert(ResumableStagePolicy<explicit_epochs>);
static_assert(ResumableStagePolicy<compute_proportional>);
static_assert(ResumableStagePolicy<wall_clock_budget>);
static_assert(ResumableStagePolicy<plateau>);
static_assert(AdaptiveStagePolicy<plateau>);

}  // namespace pgps
