// Umbrella header: everything in pgps that needs no optional dependency.
#pragma once

#include "pgps/core/config.hpp"
#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/core/rng.hpp"
#include "pgps/core/volume.hpp"
#include "pgps/sampling/batch_plan.hpp"
#include "pgps/schedule/stage.hpp"
#include "pgps/sampling/sampler.hpp"
#include "pgps/crop/padding.hpp"
#include "pgps/crop/convert.hpp"
#include "pgps/crop/executor.hpp"
#include "pgps/crop/cropper.hpp"
#include "pgps/crop/class_fractions.hpp"
