// pgps-train: trains one 3D U-Net three ways (constant patch, PGPS resource-efficient, PGPS
// performance) on a real MRI and compares time and Dice. See docs/trainer.md.
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include "data.hpp"
#include "pgps/core/error.hpp"
#include "report.hpp"
#include "run.hpp"

namespace fs = std::filesystem;
using namespace pgps_train;

namespace {

constexpr const char* description = R"(pgps-train: LibTorch 3D U-Net on a real MRI, constant patch vs PGPS.

Task: segment the left and right hippocampus and the left and right amygdala (4 classes +
background) in a T1-weighted MRI, from Debian's mricron-data: the skull-stripped Colin27 T1
(ch2bet.nii.gz) with labels from the AAL atlas on the same 1 mm grid (aal.nii.gz, labels
37/38 hippocampus L/R, 41/42 amygdala L/R). The volume is cropped to a box around the four
structures plus a margin and resampled to a coarser isotropic grid (--spacing, default 2 mm).

Training data: --training-cases random deformations of that one subject (affine: rotation,
isotropic scale, translation; smooth elastic B-spline displacement; trilinear image / nearest
label resampling) with intensity changes (smooth bias field, gamma, noise), then nnU-Net's
z-score normalisation over the brain mask.
Evaluated on: held-out cases made the same way from a DISJOINT random stream (different Philox
counter words), never seen in training: --validation-cases for the full-patch validation after
every epoch, --test-cases for the final sliding-window evaluation (overlap 0.5, Gaussian
weighting). Limits: all cases come from ONE real subject, so this measures robustness to
deformation and contrast changes, not generalisation to other people's brains.

The same network (same initial weights, seed --seed) is trained three ways with the same
epochs and iterations: constant patch (baseline), PGPS resource-efficient (progressive patch,
constant batch), PGPS performance (progressive patch, constant voxels per batch).)";

std::vector<run_mode> parse_runs(const std::string& text) {
  std::vector<run_mode> runs;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    try {
      runs.push_back(mode_from(name));
    } catch (const pgps::error&) {
      pgps::fail("unknown run '", name,
                 "' in --runs; use constant, efficiency, performance (comma separated)");
    }
  }
  pgps::require(!runs.empty(), "--runs is empty");
  return runs;
}

pgps::extent3 parse_extent(const std::string& text, const char* option) {
  std::stringstream in(text);
  std::string part;
  std::vector<std::int64_t> values;
  while (std::getline(in, part, ',')) {
    try {
      std::size_t used = 0;
      values.push_back(std::stoll(part, &used));
      pgps::require(used == part.size(), "");
    } catch (const std::exception&) {
      pgps::fail(option, " '", text, "' is not a list of integers z,y,x");
    }
  }
  if (values.size() == 1) values = {values[0], values[0], values[0]};
  pgps::require(values.size() == 3, option, " '", text, "' needs one or three integers (z,y,x)");
  return {values[0], values[1], values[2]};
}

void apply_quick(settings& s) {
  s.quick = true;
  s.epochs = 4;
  s.iterations = 12;
  s.patch = {32, 32, 32};
  s.pooling = 4;
  s.batch = 2;
  s.width = 4;
  s.max_width = 32;
  s.spacing_mm = 2.0;
  s.training_cases = 4;
  s.validation_cases = 1;
  s.test_cases = 2;
  s.validation_boxes = 2;
}

case_sets make_cases(const settings& s) {
  const subject subj = load_subject(s.t1_path, s.atlas_path);
  case_sets data;
  data.grid = region_around_structures(subj, s.spacing_mm, s.margin_mm);
  const variation v;
  for (std::int64_t i = 0; i < s.training_cases; ++i)
    data.training.push_back(
        make_case(subj, data.grid, v, s.data_seed, case_kind::training, static_cast<std::uint64_t>(i)));
  for (std::int64_t i = 0; i < s.validation_cases; ++i)
    data.validation.push_back(
        make_case(subj, data.grid, v, s.data_seed, case_kind::validation, static_cast<std::uint64_t>(i)));
  for (std::int64_t i = 0; i < s.test_cases; ++i)
    data.test.push_back(
        make_case(subj, data.grid, v, s.data_seed, case_kind::test, static_cast<std::uint64_t>(i)));
  return data;
}

std::string mean_voxels(const std::vector<case_volume>& cases, std::uint8_t c) {
  double sum = 0;
  for (const auto& k : cases) sum += static_cast<double>(k.voxels_of(c));
  std::ostringstream out;
  out << std::fixed << std::setprecision(0) << sum / static_cast<double>(cases.size());
  return out.str();
}

void write_outputs(const settings& s, const case_sets& data, const std::vector<run_result>& results) {
  const fs::path out(s.output_dir);
  write_epochs_csv((out / "epochs.csv").string(), results);
  write_summary_json((out / "summary.json").string(), s, data, results);
  const std::string svg = (out / "dice_vs_time.svg").string();
  write_dice_plot(svg, results);
  std::ofstream((out / "summary.md").string()) << summary_table(results);
  if (std::system("command -v rsvg-convert >/dev/null 2>&1") == 0) {
    const std::string command = "rsvg-convert -o '" + (out / "dice_vs_time.png").string() + "' '" + svg + "'";
    if (std::system(command.c_str()) != 0)
      std::cerr << "note: rsvg-convert failed; the SVG plot is still there\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  // LibTorch's OpenMP threads spin while they wait. On 2 cores shared with anything else (a
  // compiler, another run) spinning threads starve each other and training slowed down 10-40x
  // in our measurements; passive waiting costs little on an idle machine. libgomp reads the
  // variable when it is loaded, before main, so the trainer re-executes itself once with it set.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then run with spinning threads
  }
  settings s;
  // --quick changes the defaults; options given explicitly still override them.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") apply_quick(s);
  }
  CLI::App app(description, "pgps-train");
  app.footer(
      "Outputs in --output DIR: epochs.csv (every epoch of every run), summary.json, summary.md (the "
      "table),\n"
      "dice_vs_time.svg (+ .png when rsvg-convert exists), and per run <mode>/plans.jsonl (every batch "
      "plan),\n"
      "<mode>/checkpoint/ (model.pt, optimizer.pt, state.pt with the curriculum state, progress.json).\n"
      "Defaults finish the three runs in about 13 minutes on 2 idle cores; --quick takes about 15 seconds.");
  std::string patch_text, runs_text, resume_dir;
  bool quick = false;
  app.add_flag("--quick", quick, "smoke run: tiny network, 32^3 patch, 4 epochs x 12 iterations, 2 mm grid");
  app.add_option("--epochs", s.epochs, "epochs per run")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--iterations", s.iterations, "iterations per epoch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--patch", patch_text, "target patch z,y,x in voxels (default 32,32,48)");
  app.add_option("--pooling", s.pooling, "U-Net downsampling steps per axis; PGPS grows by 2^pooling")
      ->capture_default_str()
      ->check(CLI::Range(1, 6));
  app.add_option("--batch", s.batch, "batch of the baseline (b0)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--width", s.width, "features of the first U-Net stage (doubled per stage)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-width", s.max_width, "cap of the feature doubling")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bool deep_supervision = false;
  app.add_flag("--deep-supervision", deep_supervision,
               "nnU-Net's deep supervision (off by default, see docs/trainer.md)");
  app.add_option("--foreground", s.foreground_fraction, "foreground oversampling fraction (nnU-Net 0.33)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--lr", s.learning_rate, "initial learning rate (poly decay, exponent 0.9)")
      ->capture_default_str();
  app.add_option("--threads", s.threads, "torch::set_num_threads and cropper threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--seed", s.seed, "network initialisation and curriculum seed")->capture_default_str();
  app.add_option("--data-seed", s.data_seed, "seed of the case deformations")->capture_default_str();
  app.add_option("--spacing", s.spacing_mm, "grid spacing of the cases in mm")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 4.0));
  app.add_option("--margin", s.margin_mm, "margin around the structures in mm")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60.0));
  app.add_option("--training-cases", s.training_cases)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--validation-cases", s.validation_cases)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--test-cases", s.test_cases)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--validation-boxes", s.validation_boxes, "full-patch validation boxes per epoch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--t1", s.t1_path, "T1 volume (NIfTI)")->capture_default_str();
  app.add_option("--atlas", s.atlas_path, "AAL label volume on the T1's grid (NIfTI)")->capture_default_str();
  app.add_option("--runs", runs_text,
                 "comma-separated subset of constant,efficiency,performance (default all)");
  app.add_option("-o,--output", s.output_dir, "output directory")->capture_default_str();
  app.add_option("--resume", resume_dir,
                 "continue the runs in this output directory from their checkpoints (settings come from its "
                 "settings.json)");
  app.add_option("--stop-after", s.stop_after_epochs,
                 "stop each run after this many epochs, keeping its checkpoint");
  app.add_flag("--write-cases", s.write_cases,
               "also write the generated cases as NIfTI into <output>/cases/");
  CLI11_PARSE(app, argc, argv);

  try {
    const bool resume = !resume_dir.empty();
    if (resume) {
      const int threads = s.threads;
      const std::int64_t stop_after = s.stop_after_epochs;
      s = load_settings((fs::path(resume_dir) / "settings.json").string());
      s.output_dir = resume_dir;
      s.threads = threads;
      s.stop_after_epochs = stop_after;
    } else {
      if (deep_supervision) s.deep_supervision = true;
      if (!patch_text.empty()) s.patch = parse_extent(patch_text, "--patch");
      if (!runs_text.empty()) s.runs = parse_runs(runs_text);
      // The U-Net halves every axis `pooling` times and concatenates skips, so each axis of the
      // target patch (and of every PGPS stage, which grows in steps of 2^pooling) must divide.
      const std::int64_t step = std::int64_t{1} << s.pooling;
      for (int a = 0; a < pgps::axis_count; ++a) {
        pgps::require(s.patch[a] % step == 0, "--patch ", s.patch, " axis ", a,
                      " is not a multiple of 2^pooling = ", step, "; the U-Net with --pooling ", s.pooling,
                      " needs that");
      }
      fs::create_directories(s.output_dir);
      save_settings((fs::path(s.output_dir) / "settings.json").string(), s);
    }

    std::cout << "pgps-train" << (s.quick ? " (--quick)" : "") << ": output " << s.output_dir << ", "
              << s.threads << " threads\n";
    const case_sets data = make_cases(s);
    std::cout << "data: " << s.t1_path << " + " << s.atlas_path << "\n      region " << data.grid.extent[0]
              << "x" << data.grid.extent[1] << "x" << data.grid.extent[2] << " voxels at "
              << data.grid.spacing_mm << " mm; cases: " << data.training.size() << " training, "
              << data.validation.size() << " validation, " << data.test.size()
              << " test (disjoint deformation streams, data seed " << s.data_seed << ")\n"
              << "      mean voxels per training case:";
    for (std::size_t k = 0; k < structures.size(); ++k) {
      std::cout << ' ' << structures[k].name << ' '
                << mean_voxels(data.training, static_cast<std::uint8_t>(k + 1));
    }
    std::cout << "\n";
    if (s.write_cases) {
      const fs::path dir = fs::path(s.output_dir) / "cases";
      fs::create_directories(dir);
      for (const auto* set : {&data.training, &data.validation, &data.test}) {
        for (const case_volume& c : *set) {
          const std::string stem =
              (dir / (std::string(kind_name(c.kind)) + "_" + std::to_string(c.index))).string();
          write_case(c, data.grid, stem + "_image.nii.gz", stem + "_label.nii.gz");
        }
      }
    }

    std::cout << "network: 3D U-Net, " << s.pooling << " poolings, width " << s.width << " (max "
              << s.max_width << "); " << s.epochs << " epochs x " << s.iterations
              << " iterations, target patch " << s.patch[0] << "x" << s.patch[1] << "x" << s.patch[2]
              << ", batch " << s.batch << "\n";
    for (const run_mode m : s.runs) {
      run_result planned;
      plan_run(m, s, data, planned);
      std::cout << "plan " << std::left << std::setw(11) << mode_name(m) << std::right
                << " predicted voxel fraction " << std::fixed << std::setprecision(3)
                << planned.predicted_voxel_fraction << std::defaultfloat << ", " << planned.stages.size()
                << " stage(s):";
      for (const auto& st : planned.stages) {
        std::cout << ' ' << st.patch[0] << 'x' << st.patch[1] << 'x' << st.patch[2] << "/b" << st.batch;
      }
      std::cout << "\n";
    }

    std::vector<run_result> results;
    bool all_finished = true;
    for (const run_mode m : s.runs) {
      std::cout << "\n== " << mode_title(m) << " ==\n";
      run_result r =
          train_run(m, s, data, resume, [&](const epoch_record& rec, const run_result& run, double eta) {
            std::cout << progress_line(rec, run, eta, s.epochs) << std::endl;
          });
      if (r.finished) {
        std::cout << std::fixed << std::setprecision(1) << "  done: wall " << r.wall_s << " s (train "
                  << r.train_s << " s, of which pgps plan+fill " << r.data_s << " s; val " << r.val_s
                  << " s; test " << r.eval_s << " s), test mean Dice " << std::setprecision(3) << r.mean_dice
                  << std::defaultfloat << "\n";
      }
      all_finished = all_finished && r.finished;
      results.push_back(std::move(r));
      write_outputs(s, data, results);
    }

    std::cout << "\nsummary (" << (all_finished ? "all runs finished" : "some runs stopped early")
              << "; Dice on the " << data.test.size() << " held-out test cases, sliding window):\n"
              << summary_table(results) << "\nwritten: " << (fs::path(s.output_dir) / "summary.json").string()
              << ", " << (fs::path(s.output_dir) / "epochs.csv").string() << ", "
              << (fs::path(s.output_dir) / "dice_vs_time.svg").string() << "\n";
    return 0;
  } catch (const pgps::error& e) {
    std::cerr << "pgps-train: " << e.reason() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pgps-train: " << e.what() << "\n";
    return 1;
  }
}
