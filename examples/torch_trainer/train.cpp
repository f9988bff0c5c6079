// The LibTorch side of pgps-train: one run (constant, efficiency or performance) from the
// curriculum through the pgps::libtorch feed into the U-Net, validation at the full patch each
// epoch, checkpoints, and the final sliding-window evaluation on the test cases.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "network.hpp"
#include "pgps/adapters/tbb.hpp"
#include "pgps/adapters/torch.hpp"
#include "pgps/crop/cropper.hpp"
#include "pgps/curriculum.hpp"
#include "pgps/sampling/class_index.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/foreground_sampler.hpp"
#include "pgps/sampling/grid_sampler.hpp"
#include "report.hpp"
#include "run.hpp"

namespace pgps_train {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using case_view = pgps::training_case<float, std::uint8_t>;
using cropper_type = pgps::cropper<pgps::tbb_executor>;

namespace {

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// What a run's summary says of its curriculum: mode, stages, predicted voxel fraction.
template <class Curriculum>
void describe_run(run_mode mode, const Curriculum& curriculum, run_result& out) {
  out.mode = mode;
  out.stages = curriculum.stages();
  out.predicted_voxel_fraction = curriculum.voxel_fraction();
}

pgps::dataset make_dataset(const std::vector<case_volume>& cases) {
  pgps::dataset data;
  for (const case_volume& c : cases) {
    data.add_case(pgps::class_index::build(c.label_view(), pgps::class_index_options::nnunet(class_count)));
  }
  return data;
}

std::vector<case_view> views_of(const std::vector<case_volume>& cases) {
  std::vector<case_view> views;
  for (const case_volume& c : cases) views.push_back({c.image_view(), c.label_view()});
  return views;
}

pgps::foreground_sampler training_sampler(const settings& s, const case_sets& data) {
  pgps::foreground_sampler_options options = pgps::foreground_sampler_options::nnunet();
  options.foreground_fraction = s.foreground_fraction;
  return pgps::foreground_sampler(make_dataset(data.training), options);
}

// Dice per foreground class from C×3 (tp, fp, fn) counts; NaN where the class is absent in both.
std::array<double, 4> dice_from_counts(const torch::Tensor& counts) {
  std::array<double, 4> dice{};
  const auto c = counts.accessor<std::int64_t, 2>();
  for (std::size_t k = 0; k < dice.size(); ++k) {
    const auto row = static_cast<std::int64_t>(k + 1);
    const double tp = static_cast<double>(c[row][0]), fp = static_cast<double>(c[row][1]),
                 fn = static_cast<double>(c[row][2]);
    dice[k] = tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : std::nan("");
  }
  return dice;
}

// Mean over the structures that have a Dice (nnU-Net's nanmean): a validation box set may miss
// a structure entirely, and an absent structure predicted nowhere has no Dice.
double mean_of(const std::array<double, 4>& values) {
  double sum = 0;
  int count = 0;
  for (const double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++count;
  }
  return count > 0 ? sum / count : std::nan("");
}

// nnU-Net's sliding-window importance map: a Gaussian centred at patch // 2 with sigma = patch / 8,
// scaled to a maximum of 1.
torch::Tensor gaussian_importance(const pgps::extent3& patch) {
  std::vector<torch::Tensor> axes;
  for (int a = 0; a < pgps::axis_count; ++a) {
    const double sigma = static_cast<double>(patch[a]) / 8.0;
    const double centre = static_cast<double>(patch[a] / 2);
    const torch::Tensor t = torch::arange(patch[a], torch::kFloat64);
    axes.push_back(torch::exp(-(t - centre).pow(2) / (2 * sigma * sigma)));
  }
  torch::Tensor map = axes[0].view({-1, 1, 1}) * axes[1].view({1, -1, 1}) * axes[2].view({1, 1, -1});
  map = map / map.max();
  return map.to(torch::kFloat32);
}

// Model, optimizer and the run's own files.
struct run_files {
  fs::path dir, checkpoint, plans, progress;
  explicit run_files(const settings& s, run_mode mode)
      : dir(fs::path(s.output_dir) / mode_name(mode)),
        checkpoint(dir / "checkpoint"),
        plans(dir / "plans.jsonl"),
        progress(dir / "checkpoint" / "progress.json") {}
};

// Keeps the first `epochs` epochs of plans.jsonl (a run interrupted mid-epoch may have written more).
void truncate_plans(const fs::path& path, std::int64_t epochs) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  const std::string key = "{\"epoch\":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    if (std::stoll(line.substr(key.size())) < epochs) kept << line << '\n';
  }
  in.close();
  write_file(path, kept.str());
}

template <class Curriculum>
class run_session {
 public:
  run_session(run_mode mode, const settings& s, const case_sets& data, Curriculum curriculum)
      : mode_(mode),
        s_(s),
        data_(data),
        files_(s, mode),
        curriculum_(std::move(curriculum)),
        cropper_(pgps::pad_options{}, pgps::tbb_executor(s.threads)),
        feed_(curriculum_, cropper_, views_of(data.training)),
        validation_views_(views_of(data.validation)) {}

  void describe(run_result& out) const { describe_run(mode_, curriculum_, out); }

  run_result run(bool resume, const progress_sink& progress) {
    run_result result;
    describe(result);
    fs::create_directories(files_.checkpoint);

    torch::manual_seed(static_cast<std::uint64_t>(s_.seed));  // the same initial network for every run
    unet net(unet_options{1, class_count, s_.pooling, s_.width, s_.max_width, s_.deep_supervision});
    init_weights(*net);
    torch::optim::SGD optimizer(
        net->parameters(),
        torch::optim::SGDOptions(s_.learning_rate).momentum(0.99).nesterov(true).weight_decay(3e-5));

    std::int64_t start_epoch = 0;
    if (resume && fs::exists(files_.checkpoint / "state.pt")) {
      torch::serialize::InputArchive state;
      state.load_from((files_.checkpoint / "state.pt").string());
      feed_.load(state);
      torch::load(net, (files_.checkpoint / "model.pt").string());
      torch::load(optimizer, (files_.checkpoint / "optimizer.pt").string());
      result = load_progress(files_.progress.string());
      describe(result);
      start_epoch = static_cast<std::int64_t>(result.epochs.size());
      truncate_plans(files_.plans, start_epoch);
      if (start_epoch < s_.epochs) {
        write_file(files_.dir / "resumed_plan.json", plan_json(feed_.plan(start_epoch, 0)) + "\n");
      }
      std::cout << "  resumed " << mode_name(mode_) << " at epoch " << start_epoch << " from "
                << files_.checkpoint.string() << "\n";
      if (result.finished) return result;
    } else {
      write_file(files_.plans, "");
    }

    const pgps::batch_plan validation_plan = make_validation_plan();
    const pgps::libtorch::batch validation = fill_validation(validation_plan);

    std::ofstream plans(files_.plans, std::ios::app);
    const auto run_start = clock_type::now();
    const double wall_before = result.wall_s;
    for (std::int64_t epoch = start_epoch; epoch < s_.epochs; ++epoch) {
      const pgps::stage stage = feed_.stage_for(epoch);
      const double lr =
          s_.learning_rate * std::pow(1.0 - static_cast<double>(epoch) / static_cast<double>(s_.epochs), 0.9);
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);

      epoch_record record;
      record.run = mode_name(mode_);
      record.epoch = epoch;
      record.stage = stage.index;
      record.patch = stage.patch;
      record.batch = stage.batch;
      record.lr = lr;
      net->train();
      const auto train_start = clock_type::now();
      double data_s = 0;
      for (std::int64_t iteration = 0; iteration < s_.iterations; ++iteration) {
        const auto data_start = clock_type::now();
        pgps::libtorch::batch b = feed_.next(epoch, iteration);
        data_s += seconds_since(data_start);
        plans << "{\"epoch\":" << epoch << ",\"iteration\":" << iteration << ",\"plan\":" << plan_json(b.plan)
              << "}\n";
        optimizer.zero_grad();
        const loss_parts loss = deep_supervision_loss(net->forward_all(b.image), b.label);
        loss.total.backward();
        torch::nn::utils::clip_grad_norm_(net->parameters(), 12.0);
        optimizer.step();
        record.loss += loss.total.item<double>();
        record.ce += loss.ce.item<double>();
        record.dice_loss += loss.dice.item<double>();
        record.voxels += static_cast<double>(b.label.numel());
      }
      plans.flush();
      record.train_s = seconds_since(train_start);
      record.data_s = data_s;
      const auto iterations = static_cast<double>(s_.iterations);
      record.loss /= iterations;
      record.ce /= iterations;
      record.dice_loss /= iterations;
      record.throughput = record.voxels / record.train_s;

      const auto val_start = clock_type::now();
      record.val_dice = validate(net, validation);
      record.val_mean_dice = mean_of(record.val_dice);
      record.val_s = seconds_since(val_start);
      feed_.report(epoch, record.val_mean_dice);

      result.train_s += record.train_s;
      result.val_s += record.val_s;
      result.data_s += record.data_s;
      result.voxels += record.voxels;
      result.wall_s = wall_before + seconds_since(run_start);
      record.wall_s = result.wall_s;
      result.epochs.push_back(record);
      save_checkpoint(net, optimizer, result);
      progress(record, result, eta(result, epoch));

      const bool stop =
          s_.stop_after_epochs >= 0 && epoch + 1 >= s_.stop_after_epochs && epoch + 1 < s_.epochs;
      if (stop) {
        write_file(files_.dir / "next_plan.json", plan_json(feed_.plan(epoch + 1, 0)) + "\n");
        std::cout << "  stopped " << mode_name(mode_) << " after epoch " << epoch << " (--stop-after "
                  << s_.stop_after_epochs << "); resume with --resume " << s_.output_dir << "\n";
        return result;
      }
    }

    const auto eval_start = clock_type::now();
    evaluate(net, result);
    result.eval_s = seconds_since(eval_start);
    result.wall_s = wall_before + seconds_since(run_start);
    result.finished = true;
    save_progress(files_.progress.string(), result);
    save_progress((files_.dir / "result.json").string(), result);
    return result;
  }

 private:
  // Full-patch boxes over the validation cases, each centred on a structure voxel (every slot
  // forced), fixed for the whole run and the same for every mode.
  pgps::batch_plan make_validation_plan() const {
    pgps::foreground_sampler_options options = pgps::foreground_sampler_options::nnunet();
    options.foreground_fraction = 1.0;
    const pgps::foreground_sampler sampler(make_dataset(data_.validation), options);
    return pgps::make_batch_plan(sampler, curriculum_.target_patch(), s_.validation_boxes,
                                 s_.data_seed ^ 0x5a17ULL, 0, 0);
  }

  pgps::libtorch::batch fill_validation(pgps::batch_plan plan) const {
    return pgps::libtorch::fill_batch(cropper_, std::move(plan), validation_views_, 1);
  }

  std::array<double, 4> validate(unet& net, const pgps::libtorch::batch& validation) const {
    torch::NoGradGuard no_grad;
    net->eval();
    torch::Tensor counts = torch::zeros({class_count, 3}, torch::kInt64);
    const std::int64_t n = validation.image.size(0);
    for (std::int64_t first = 0; first < n; first += s_.batch) {
      const std::int64_t size = std::min(s_.batch, n - first);
      const torch::Tensor logits = net->forward(validation.image.narrow(0, first, size));
      counts += confusion_counts(logits.argmax(1), validation.label.narrow(0, first, size), class_count);
    }
    net->train();
    return dice_from_counts(counts);
  }

  // Sliding-window inference over every test case (nnU-Net's tiling: overlap 0.5, tiles spread
  // evenly; Gaussian importance weighting), then Dice per structure per case.
  void evaluate(unet& net, run_result& result) const {
    torch::NoGradGuard no_grad;
    net->eval();
    const pgps::extent3 patch = curriculum_.target_patch();
    const pgps::grid_sampler grid(make_dataset(data_.test), {0.5, pgps::grid_spacing::even});
    const torch::Tensor importance = gaussian_importance(patch);
    std::vector<pgps::volume_view<const float>> images;
    for (const case_volume& c : data_.test) images.push_back(c.image_view());
    result.case_dice.clear();
    for (std::size_t id = 0; id < data_.test.size(); ++id) {
      const case_volume& c = data_.test[id];
      const pgps::extent3 e = c.extent;
      torch::Tensor scores = torch::zeros({class_count, e[0], e[1], e[2]});
      torch::Tensor weights = torch::zeros({e[0], e[1], e[2]});
      const std::vector<pgps::box> tiles = grid.tiles(static_cast<std::int64_t>(id), patch);
      for (std::size_t first = 0; first < tiles.size(); first += static_cast<std::size_t>(s_.batch)) {
        pgps::batch_plan plan;
        plan.patch = patch;
        for (std::size_t t = first; t < std::min(tiles.size(), first + static_cast<std::size_t>(s_.batch));
             ++t) {
          plan.slots.push_back({static_cast<std::int64_t>(id), tiles[t], pgps::no_forced_class});
        }
        plan.global_batch = static_cast<std::int64_t>(plan.slots.size());
        torch::Tensor input = torch::empty({plan.global_batch, 1, patch[0], patch[1], patch[2]});
        cropper_.fill_images(plan, images, pgps::libtorch::span_of<float>(input));
        const torch::Tensor probabilities = torch::softmax(net->forward(input), 1) * importance;
        for (std::size_t k = 0; k < plan.slots.size(); ++k) {
          const pgps::box& region = plan.slots[k].region;
          // The part of the tile inside the case (tiles of an axis shorter than the patch overhang).
          torch::Tensor tile_scores = probabilities[static_cast<std::int64_t>(k)];
          torch::Tensor tile_weights = importance;
          torch::Tensor case_scores = scores;
          torch::Tensor case_weights = weights;
          for (int a = 0; a < pgps::axis_count; ++a) {
            const std::int64_t lo = std::max<std::int64_t>(0, region.lower[a]);
            const std::int64_t hi = std::min(e[a], region.lower[a] + patch[a]);
            tile_scores = tile_scores.slice(a + 1, lo - region.lower[a], hi - region.lower[a]);
            tile_weights = tile_weights.slice(a, lo - region.lower[a], hi - region.lower[a]);
            case_scores = case_scores.slice(a + 1, lo, hi);
            case_weights = case_weights.slice(a, lo, hi);
          }
          case_scores.add_(tile_scores);
          case_weights.add_(tile_weights);
        }
      }
      const torch::Tensor predicted = (scores / weights.clamp_min(1e-8)).argmax(0);
      const torch::Tensor labels =
          torch::from_blob(const_cast<std::uint8_t*>(c.label.data()), {e[0], e[1], e[2]}, torch::kUInt8)
              .to(torch::kInt64);
      result.case_dice.push_back(dice_from_counts(confusion_counts(predicted, labels, class_count)));
    }
    for (std::size_t k = 0; k < result.dice.size(); ++k) {
      double sum = 0;
      for (const auto& d : result.case_dice) sum += d[k];
      result.dice[k] = sum / static_cast<double>(result.case_dice.size());
    }
    result.mean_dice = mean_of(result.dice);
  }

  void save_checkpoint(unet& net, torch::optim::SGD& optimizer, const run_result& result) const {
    torch::save(net, (files_.checkpoint / "model.pt").string());
    torch::save(optimizer, (files_.checkpoint / "optimizer.pt").string());
    torch::serialize::OutputArchive state;
    feed_.save(state);
    state.save_to((files_.checkpoint / "state.pt").string());
    save_progress(files_.progress.string(), result);
  }

  // Remaining seconds of this run: the remaining voxels at the throughput measured so far, plus
  // validation at its mean cost.
  double eta(const run_result& result, std::int64_t epoch) const {
    double remaining_voxels = 0;
    for (std::int64_t e = epoch + 1; e < s_.epochs; ++e) {
      const pgps::stage st = curriculum_.stage_at(e);
      remaining_voxels += static_cast<double>(st.batch * pgps::voxel_count(st.patch) * s_.iterations);
    }
    const double done = static_cast<double>(result.epochs.size());
    const double per_voxel = result.train_s / std::max(1.0, result.voxels);
    return remaining_voxels * per_voxel + (result.val_s / done) * static_cast<double>(s_.epochs - epoch - 1);
  }

  run_mode mode_;
  const settings& s_;
  const case_sets& data_;
  run_files files_;
  Curriculum curriculum_;
  cropper_type cropper_;
  pgps::libtorch::feed<Curriculum, cropper_type, float, std::uint8_t> feed_;
  std::vector<case_view> validation_views_;
};

template <class F>
auto with_curriculum(run_mode mode, const settings& s, const case_sets& data, F&& f) {
  const pgps::extent3 pooling = pgps::extent3::fill(s.pooling);
  switch (mode) {
    case run_mode::efficiency:
      return f(pgps::presets::pgps_efficiency(s.patch, pooling, s.batch, s.epochs, s.iterations,
                                              training_sampler(s, data), s.seed));
    case run_mode::performance:
      return f(pgps::presets::pgps_performance(s.patch, pooling, s.batch, s.epochs, s.iterations,
                                               training_sampler(s, data), s.seed));
    case run_mode::constant:
      break;
  }
  return f(pgps::presets::constant_baseline(s.patch, s.batch, s.epochs, s.iterations,
                                            training_sampler(s, data), s.seed));
}

}  // namespace

run_result train_run(run_mode mode, const settings& s, const case_sets& data, bool resume,
                     const progress_sink& progress) {
  torch::set_num_threads(s.threads);
  return with_curriculum(mode, s, data, [&](auto curriculum) {
    run_session<decltype(curriculum)> session(mode, s, data, std::move(curriculum));
    return session.run(resume, progress);
  });
}

void plan_run(run_mode mode, const settings& s, const case_sets& data, run_result& out) {
  with_curriculum(mode, s, data, [&](auto curriculum) {
    describe_run(mode, curriculum, out);
    return 0;
  });
}

}  // namespace pgps_train
