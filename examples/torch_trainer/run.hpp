// What main() and the LibTorch part of the trainer share, without LibTorch types, so that only
// train.cpp and network.cpp include <torch/torch.h>.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data.hpp"
#include "pgps/core/error.hpp"
#include "pgps/core/geometry.hpp"
#include "pgps/schedule/stage.hpp"

namespace pgps_train {

enum class run_mode { constant, efficiency, performance };

inline const char* mode_name(run_mode m) {
  return m == run_mode::constant ? "constant" : m == run_mode::efficiency ? "efficiency" : "performance";
}
// The mode a name (as mode_name writes it) stands for; pgps::error for any other name.
inline run_mode mode_from(const std::string& name) {
  for (const run_mode m : {run_mode::constant, run_mode::efficiency, run_mode::performance}) {
    if (name == mode_name(m)) return m;
  }
  pgps::fail("unknown run mode '", name, "'; use constant, efficiency or performance");
}
inline const char* mode_title(run_mode m) {
  return m == run_mode::constant     ? "constant patch (baseline)"
         : m == run_mode::efficiency ? "PGPS resource-efficient (constant batch)"
                                     : "PGPS performance (constant voxels)";
}

struct settings {
  // training
  std::int64_t epochs = 30;
  std::int64_t iterations = 60;
  pgps::extent3 patch{32, 32, 48};  // (z, y, x) target patch
  std::int64_t pooling = 4;         // 2x downsamplings per axis; the PGPS step is 2^pooling
  std::int64_t batch = 2;           // b0: the baseline's batch
  std::int64_t width = 8;           // features of the first U-Net stage
  std::int64_t max_width = 128;
  // nnU-Net's deep supervision (losses at the coarser decoder stages too). Off by default: in
  // this short CPU budget it delayed learning (val Dice still 0 after 700 iterations vs 0.38).
  bool deep_supervision = false;
  double foreground_fraction = 0.33;  // nnU-Net's oversample_foreground_percent, all runs
  double learning_rate = 0.01;
  std::uint64_t seed = 12345;  // network init and curriculum draws; data uses data_seed
  // data
  std::uint64_t data_seed = 2025;
  double spacing_mm = 2.0;
  double margin_mm = 12.0;
  std::int64_t training_cases = 12;
  std::int64_t validation_cases = 2;
  std::int64_t test_cases = 4;
  std::int64_t validation_boxes = 4;  // full-patch boxes per epoch over the validation cases
  std::string t1_path = "/usr/share/mricron/templates/ch2bet.nii.gz";
  std::string atlas_path = "/usr/share/mricron/templates/aal.nii.gz";
  // machine
  int threads = 2;
  // what to run
  std::vector<run_mode> runs{run_mode::constant, run_mode::efficiency, run_mode::performance};
  std::string output_dir = "pgps-train-out";
  bool quick = false;
  std::int64_t stop_after_epochs = -1;  // stop each run after this many epochs (checkpoint kept)
  bool write_cases = false;             // write the generated cases as NIfTI
};

struct epoch_record {
  std::string run;
  std::int64_t epoch = 0;
  std::int32_t stage = 0;
  pgps::extent3 patch;
  std::int64_t batch = 0;
  double lr = 0;
  double loss = 0, ce = 0, dice_loss = 0;  // means over the epoch's iterations
  std::array<double, 4> val_dice{};        // per structure, on the validation boxes
  double val_mean_dice = 0;
  double voxels = 0;              // voxels trained on in this epoch
  double train_s = 0, val_s = 0;  // this epoch
  double data_s = 0;              // of train_s: planning and filling the batches
  double wall_s = 0;              // since the run started, at the end of the epoch
  double throughput = 0;          // voxels / train_s
};

struct run_result {
  run_mode mode = run_mode::constant;
  std::vector<pgps::stage> stages;
  std::vector<epoch_record> epochs;
  double predicted_voxel_fraction = 1.0;
  double wall_s = 0, train_s = 0, val_s = 0, eval_s = 0;
  double data_s = 0;  // of train_s: pgps planning and filling
  double voxels = 0;
  bool finished = false;         // trained all epochs and evaluated
  std::array<double, 4> dice{};  // test cases, sliding window, mean over cases
  double mean_dice = 0;
  std::vector<std::array<double, 4>> case_dice;  // per test case
};

struct case_sets {
  region_grid grid;
  std::vector<case_volume> training, validation, test;
};

using progress_sink = std::function<void(const epoch_record&, const run_result&, double eta_s)>;

// Trains (or resumes) one run into settings.output_dir/<mode>/ and evaluates it.
run_result train_run(run_mode mode, const settings& s, const case_sets& data, bool resume,
                     const progress_sink& progress);

// The stages and predicted voxel fraction of a run, without training (for the summary).
void plan_run(run_mode mode, const settings& s, const case_sets& data, run_result& out);

}  // namespace pgps_train
