// A test sampler for the curriculum tests: slot s takes case s at the origin, so a plan shows
// which slots a rank got and which patch each step used.
#pragma once

#include "pgps/sampling/sampler.hpp"

namespace pgps_test {
struct corner_sampler {
  pgps::slot_plan plan_slot(const pgps::slot_request& request) const {
    return {static_cast<std::int64_t>(request.where.slot), pgps::box{{0, 0, 0}, request.patch},
            pgps::no_forced_class};
  }
};
static_assert(pgps::Sampler<corner_sampler>);
}  // namespace pgps_test
