// pgps-plan: the stages of a Progressive Growing of Patch Size curriculum for an nnU-Net-like
// plan (target patch, poolings per axis, batch, epochs), their cost against the constant
// baseline, an SVG plot, and with --labels the expected class balance of each stage.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "pgps/curriculum.hpp"
#include "pgps/sampling/balance_estimate.hpp"
#include "pgps/sampling/class_index.hpp"
#include "pgps/sampling/dataset.hpp"
#include "pgps/sampling/foreground_sampler.hpp"
#if defined(PGPS_PLAN_WITH_NIFTI)
#include "pgps/adapters/nifti.hpp"
#endif

namespace {

using pgps::extent3;

constexpr const char* mode_names = "efficiency, performance, plus, random, ramp, constant";

struct options {
  std::string patch;
  std::string pool;
  std::string min_patch;
  std::string step;
  std::int64_t batch = 2;
  std::int64_t epochs = 1000;
  std::int64_t iterations = 250;
  std::string mode = "efficiency";
  std::string format = "table";
  std::string plot;
  std::string labels;
  std::uint64_t seed = 0;
  bool reference_overshoot = false;
  double ramp_initial_scale = 0.5;
  double ramp_delay = 0.5;
  double ramp_finetune = 0.2;
  double oversample = 0.5;
  std::int64_t balance_batches = 16;
  std::string classes;  // label values shown as columns of the class-balance table
};

// pgps-plan prints shapes and costs, never boxes; the curriculum still composes a sampler, so it
// gets one that places every box at the origin of case 0. (--labels uses a real foreground
// sampler for the class balance.)
struct shape_only_sampler {
  pgps::slot_plan plan_slot(const pgps::slot_request& request) const {
    return {0, pgps::box{{0, 0, 0}, request.patch}, pgps::no_forced_class};
  }
};

// "z,y,x" -> extent; every problem names the option, the text and what is allowed.
extent3 parse_extent(const std::string& text, const char* option) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, ',')) parts.push_back(part);
  if (!text.empty() && text.back() == ',') parts.emplace_back();
  if (parts.size() != 3) {
    pgps::fail(option, " '", text, "' has ", parts.size(), " value", parts.size() == 1 ? "" : "s",
               "; expected three comma-separated integers z,y,x");
  }
  extent3 out;
  for (int a = 0; a < 3; ++a) {
    const std::string& p = parts[static_cast<std::size_t>(a)];
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(p, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (p.empty() || used != p.size()) {
      pgps::fail(option, " '", text, "': '", p, "' on axis ", pgps::axis_name(a),
                 " is not an integer; expected three comma-separated integers z,y,x");
    }
    out[a] = value;
  }
  return out;
}

std::string dims(const extent3& e) {
  return std::to_string(e[0]) + "x" + std::to_string(e[1]) + "x" + std::to_string(e[2]);
}

struct stage_row {
  pgps::stage stage;
  double voxels_per_iteration = 0;
  double fraction_of_baseline = 0;
  std::vector<extent3> candidates;
};

struct balance_row {
  extent3 patch;
  std::int64_t batch = 0;
  pgps::class_balance_estimate estimate;
};

struct plan_summary {
  std::string mode;
  extent3 target;
  std::int64_t baseline_batch = 0;
  std::int64_t epochs = 0;
  std::int64_t iterations = 0;
  double voxel_fraction = 0;
  std::vector<stage_row> rows;
  std::vector<balance_row> balance;  // per stage, then the baseline last
};

template <class C>
plan_summary summarize(const C& curriculum, const std::string& mode) {
  plan_summary out;
  out.mode = mode;
  out.target = curriculum.target_patch();
  out.baseline_batch = curriculum.baseline_batch();
  out.epochs = curriculum.total_epochs();
  out.iterations = curriculum.iterations_per_epoch();
  const pgps::cost_summary cost = curriculum.cost();
  out.voxel_fraction = cost.voxel_fraction;
  const std::vector<pgps::stage> stages = curriculum.stages();
  for (std::size_t i = 0; i < stages.size(); ++i) {
    stage_row row{stages[i], cost.stages[i].voxels_per_iteration, cost.stages[i].fraction_of_baseline, {}};
    const auto& candidates = curriculum.candidates(static_cast<std::int32_t>(i));
    if (candidates.size() > 1) row.candidates = candidates;
    out.rows.push_back(std::move(row));
  }
  return out;
}

// Builds the curriculum of the chosen mode and summarizes it.
plan_summary plan_for(const options& o) {
  const extent3 target = parse_extent(o.patch, "--patch");
  const bool by_pool = !o.pool.empty();
  const bool by_step = !o.min_patch.empty() || !o.step.empty();
  const shape_only_sampler sampler;
  if (o.mode == "constant") {
    return summarize(
        pgps::presets::constant_baseline(target, o.batch, o.epochs, o.iterations, sampler, o.seed), o.mode);
  }
  if (by_pool == by_step) {
    pgps::fail("mode ", o.mode,
               " needs the growth step: give either --pool z,y,x or both --min-patch z,y,x and "
               "--step z,y,x",
               by_pool ? ", not both" : "");
  }
  if (by_step && (o.min_patch.empty() || o.step.empty())) {
    pgps::fail(o.min_patch.empty() ? "--step" : "--min-patch", " needs ",
               o.min_patch.empty() ? "--min-patch" : "--step", " as well");
  }
  const extent3 pool = by_pool ? parse_extent(o.pool, "--pool") : extent3{};
  const extent3 min_patch = by_step ? parse_extent(o.min_patch, "--min-patch") : extent3{};
  const extent3 step = by_step ? parse_extent(o.step, "--step") : extent3{};
  const auto overshoot = o.reference_overshoot ? pgps::overshoot::reference : pgps::overshoot::clamp;
  const auto progressive = [&] {
    return by_pool ? pgps::progressive_growth::from_pooling(target, pool, overshoot)
                   : pgps::progressive_growth(target, min_patch, step, overshoot);
  };
  const auto round_robin = [&] {
    return by_pool ? pgps::round_robin_growth::from_pooling(target, pool)
                   : pgps::round_robin_growth(target, min_patch, step);
  };
  if (o.mode == "efficiency") {
    return summarize(pgps::curriculum(progressive(), pgps::constant_batch(o.batch), pgps::equal_epochs{},
                                      sampler, o.epochs, o.iterations, o.seed),
                     o.mode);
  }
  if (o.mode == "performance") {
    return summarize(pgps::curriculum(progressive(), pgps::constant_voxels(o.batch), pgps::equal_epochs{},
                                      sampler, o.epochs, o.iterations, o.seed),
                     o.mode);
  }
  if (o.mode == "plus") {
    return summarize(pgps::curriculum(round_robin(), pgps::backward_planning(o.batch), pgps::equal_epochs{},
                                      sampler, o.epochs, o.iterations, o.seed),
                     o.mode);
  }
  if (o.mode == "random") {
    return summarize(
        pgps::curriculum(pgps::random_per_iteration::from(round_robin()), pgps::constant_batch(o.batch),
                         pgps::equal_epochs{}, sampler, o.epochs, o.iterations, o.seed),
        o.mode);
  }
  if (o.mode == "ramp") {
    if (by_step && !(min_patch == step)) {
      pgps::fail("--min-patch ", o.min_patch,
                 " has no meaning in ramp mode (the ramp starts at --ramp-initial-scale); "
                 "give --pool or --step alone with --min-patch equal to it");
    }
    const extent3 increment = by_pool ? pgps::pooling_step(pool, target) : step;
    pgps::linear_ramp ramp(target, increment, o.epochs,
                           pgps::linear_ramp::options{o.ramp_initial_scale, o.ramp_delay, o.ramp_finetune});
    pgps::explicit_epochs lengths(ramp.stage_epochs());
    return summarize(pgps::curriculum(std::move(ramp), pgps::constant_batch(o.batch), std::move(lengths),
                                      sampler, o.epochs, o.iterations, o.seed),
                     o.mode);
  }
  pgps::fail("unknown mode '", o.mode, "'; allowed: ", mode_names);
}

// "37,38,41" -> label values; an empty text shows every class when there are few of them.
std::vector<std::size_t> shown_classes(const std::string& text, std::size_t class_count) {
  std::vector<std::size_t> shown;
  if (text.empty()) {
    constexpr std::size_t most_columns = 8;
    if (class_count <= most_columns) {
      for (std::size_t c = 0; c < class_count; ++c) shown.push_back(c);
    }
    return shown;
  }
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    std::size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || value < 0 || static_cast<std::size_t>(value) >= class_count) {
      pgps::fail("--classes '", text, "': '", part,
                 "' is not a label value of the volume; allowed: integers in [0, ", class_count, ")");
    }
    shown.push_back(static_cast<std::size_t>(value));
  }
  return shown;
}

#if defined(PGPS_PLAN_WITH_NIFTI)
// The class balance a foreground-oversampling sampler gives each stage's patch and batch on one
// label volume (Monte Carlo over balance_batches batches, counted exactly from the class index).
void add_class_balance(plan_summary& plan, const options& o) {
  const auto labels = pgps::nifti::read<std::int32_t>(o.labels);
  std::int32_t max_label = 0;
  for (const std::int32_t v : labels.voxels) {
    if (v < 0) pgps::fail("--labels '", o.labels, "' holds the negative label ", v, "; labels must be >= 0");
    max_label = std::max(max_label, v);
  }
  pgps::class_index_options index_options;
  index_options.num_classes = max_label + 1;
  index_options.index_background = false;
  pgps::dataset data;
  data.add_case(pgps::class_index::build(labels.view(), index_options));
  pgps::foreground_sampler_options sampler_options = pgps::foreground_sampler_options::pgps();
  sampler_options.foreground_fraction = o.oversample;
  const pgps::foreground_sampler sampler(data, sampler_options);
  for (const stage_row& row : plan.rows) {
    plan.balance.push_back({row.stage.patch, row.stage.batch,
                            pgps::estimate_class_fractions(sampler, data, row.stage.patch, row.stage.batch,
                                                           o.balance_batches, o.seed)});
  }
  plan.balance.push_back({plan.target, plan.baseline_batch,
                          pgps::estimate_class_fractions(sampler, data, plan.target, plan.baseline_batch,
                                                         o.balance_batches, o.seed)});
  (void)shown_classes(o.classes, index_options.num_classes);  // reject a bad --classes before printing
}
#endif

std::string percent(double fraction, int digits = 1) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << fraction * 100 << '%';
  return out.str();
}

void print_table(const plan_summary& p, const options& o, std::ostream& out) {
  out << "pgps-plan: " << p.mode << " mode, target " << dims(p.target) << ", batch " << p.baseline_batch
      << ", " << p.epochs << " epochs x " << p.iterations << " iterations\n\n";
  out << std::left << std::setw(6) << "stage" << std::setw(16) << "patch (z,y,x)" << std::right
      << std::setw(10) << "voxels" << std::setw(7) << "batch" << std::setw(13) << "first epoch"
      << std::setw(8) << "epochs" << std::setw(14) << "voxels/iter" << std::setw(13) << "of baseline" << '\n';
  for (const stage_row& r : p.rows) {
    out << std::left << std::setw(6) << r.stage.index << std::setw(16) << dims(r.stage.patch) << std::right
        << std::setw(10) << pgps::voxel_count(r.stage.patch) << std::setw(7) << r.stage.batch << std::setw(13)
        << r.stage.first_epoch << std::setw(8) << r.stage.epochs << std::setw(14) << std::setprecision(0)
        << std::fixed << r.voxels_per_iteration << std::setw(13) << percent(r.fraction_of_baseline, 2)
        << '\n';
    if (!r.candidates.empty()) {
      out << "      draws one patch per iteration, uniformly from:";
      for (const extent3& c : r.candidates) out << ' ' << dims(c);
      out << "\n      (patch and batch above: the largest candidate; voxels/iter: the expectation)\n";
    }
  }
  out << "\nvoxels processed: " << percent(p.voxel_fraction) << " of the constant baseline ("
      << dims(p.target) << ", batch " << p.baseline_batch << ", same epochs and iterations); voxel fraction "
      << std::setprecision(3) << p.voxel_fraction << '\n';
  if (!p.balance.empty()) {
    out << "\nclass balance (mean fraction of patch voxels per class, foreground-oversampling sampler):\n";
    const std::size_t class_count = p.balance.front().estimate.per_class.size();
    const std::vector<std::size_t> shown = shown_classes(o.classes, class_count);
    out << std::left << std::setw(10) << "stage" << std::setw(16) << "patch" << std::right << std::setw(7)
        << "batch" << std::setw(12) << "foreground" << std::setw(10) << "padding";
    for (const std::size_t c : shown) out << std::setw(10) << ("class " + std::to_string(c));
    out << '\n';
    for (std::size_t i = 0; i < p.balance.size(); ++i) {
      const balance_row& b = p.balance[i];
      out << std::left << std::setw(10)
          << (i + 1 == p.balance.size() ? std::string("baseline") : std::to_string(i)) << std::setw(16)
          << dims(b.patch) << std::right << std::setw(7) << b.batch << std::setw(12)
          << percent(b.estimate.foreground, 2) << std::setw(10) << percent(b.estimate.padding, 2);
      for (const std::size_t c : shown) out << std::setw(10) << percent(b.estimate.per_class[c], 2);
      out << '\n';
    }
    if (shown.size() < class_count && o.classes.empty()) {
      out << "(" << class_count << " classes: pick columns with --classes, e.g. --classes 1,2; "
          << "--format json lists every class)\n";
    }
  }
}

void print_csv(const plan_summary& p, std::ostream& out) {
  out << "stage,patch_z,patch_y,patch_x,batch,first_epoch,epochs,voxels_per_iteration,fraction_of_baseline";
  if (!p.balance.empty()) out << ",foreground_fraction";
  out << '\n';
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    const stage_row& r = p.rows[i];
    out << r.stage.index << ',' << r.stage.patch[0] << ',' << r.stage.patch[1] << ',' << r.stage.patch[2]
        << ',' << r.stage.batch << ',' << r.stage.first_epoch << ',' << r.stage.epochs << ','
        << std::setprecision(10) << r.voxels_per_iteration << ',' << r.fraction_of_baseline;
    if (!p.balance.empty()) out << ',' << p.balance[i].estimate.foreground;
    out << '\n';
  }
}

nlohmann::ordered_json to_json(const plan_summary& p) {
  const auto array = [](const extent3& e) { return nlohmann::ordered_json::array({e[0], e[1], e[2]}); };
  nlohmann::ordered_json j;
  j["mode"] = p.mode;
  j["target"] = array(p.target);
  j["baseline_batch"] = p.baseline_batch;
  j["epochs"] = p.epochs;
  j["iterations"] = p.iterations;
  j["voxel_fraction"] = p.voxel_fraction;
  j["stages"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    const stage_row& r = p.rows[i];
    nlohmann::ordered_json s;
    s["index"] = r.stage.index;
    s["patch"] = array(r.stage.patch);
    s["batch"] = r.stage.batch;
    s["first_epoch"] = r.stage.first_epoch;
    s["epochs"] = r.stage.epochs;
    s["voxels_per_iteration"] = r.voxels_per_iteration;
    s["fraction_of_baseline"] = r.fraction_of_baseline;
    if (!r.candidates.empty()) {
      s["candidates"] = nlohmann::ordered_json::array();
      for (const extent3& c : r.candidates) s["candidates"].push_back(array(c));
    }
    if (!p.balance.empty()) {
      s["foreground_fraction"] = p.balance[i].estimate.foreground;
      s["class_fractions"] = p.balance[i].estimate.per_class;
    }
    j["stages"].push_back(std::move(s));
  }
  if (!p.balance.empty()) {
    j["baseline_foreground_fraction"] = p.balance.back().estimate.foreground;
    j["baseline_class_fractions"] = p.balance.back().estimate.per_class;
  }
  return j;
}

// ---- SVG ---------------------------------------------------------------------------------------

// About `count` round steps (1, 2 or 5 times a power of ten) covering [0, max].
double nice_step(double max, int count) {
  if (max <= 0) return 1;
  const double raw = max / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

std::string short_number(double v) {
  std::ostringstream out;
  if (v >= 1e6) {
    out << std::setprecision(3) << v / 1e6 << 'M';
  } else if (v >= 1e3) {
    out << std::setprecision(3) << v / 1e3 << 'k';
  } else {
    out << std::setprecision(3) << v;
  }
  return out.str();
}

class svg {
 public:
  svg(int width, int height) : width_(width), height_(height) {}
  void line(double x1, double y1, double x2, double y2, const std::string& style) {
    body_ << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2 << "\" " << style
          << "/>\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& points, const std::string& style) {
    body_ << "<polyline fill=\"none\" " << style << " points=\"";
    for (const auto& [x, y] : points) body_ << x << ',' << y << ' ';
    body_ << "\"/>\n";
  }
  void rect(double x, double y, double w, double h, const std::string& style) {
    body_ << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << h << "\" "
          << style << "/>\n";
  }
  void text(double x, double y, const std::string& content, const std::string& style) {
    body_ << "<text x=\"" << x << "\" y=\"" << y << "\" " << style << '>' << content << "</text>\n";
  }
  [[nodiscard]] std::string str() const {
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
        << width_ << "\" height=\"" << height_ << "\" viewBox=\"0 0 " << width_ << ' ' << height_
        << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" "
           "height=\"100%\" "
           "fill=\"white\"/>\n"
        << body_.str() << "</svg>\n";
    return out.str();
  }

 private:
  int width_;
  int height_;
  std::ostringstream body_;
};

constexpr const char* patch_colour = "#1f77b4";
constexpr const char* batch_colour = "#d62728";
constexpr const char* baseline_colour = "#7f7f7f";

void write_plot(const plan_summary& p, const std::string& path) {
  const double width = 980, height = 700;
  const double left = 100, right = width - 100;
  const double top1 = 78, bottom1 = 360;   // panel 1: patch voxels and batch size
  const double top2 = 450, bottom2 = 640;  // panel 2: cumulative compute
  svg out(static_cast<int>(width), static_cast<int>(height));
  const auto epochs = static_cast<double>(p.epochs);
  const auto x_of = [&](double epoch) { return left + (right - left) * epoch / epochs; };

  out.text(width / 2, 30,
           "pgps-plan: " + p.mode + " mode, target " + dims(p.target) + ", batch " +
               std::to_string(p.baseline_batch) + ", " + std::to_string(p.epochs) + " epochs",
           "font-size=\"18\" font-weight=\"bold\" text-anchor=\"middle\"");
  out.text(width / 2, 52,
           std::to_string(p.rows.size()) + " stages; voxels processed: " + percent(p.voxel_fraction) +
               " of the constant baseline",
           "font-size=\"13\" fill=\"#444\" text-anchor=\"middle\"");

  // Both panels share the epoch axis.
  const double x_step = nice_step(epochs, 10);
  const auto epoch_axis = [&](double bottom, double top, bool label) {
    for (double e = 0; e <= epochs + 1e-9; e += x_step) {
      out.line(x_of(e), top, x_of(e), bottom, "stroke=\"#eee\"");
      out.line(x_of(e), bottom, x_of(e), bottom + 5, "stroke=\"#333\"");
      out.text(x_of(e), bottom + 19, std::to_string(static_cast<std::int64_t>(e)),
               "font-size=\"12\" text-anchor=\"middle\"");
    }
    out.line(left, bottom, right, bottom, "stroke=\"#333\"");
    if (label) out.text((left + right) / 2, bottom + 40, "epoch", "font-size=\"13\" text-anchor=\"middle\"");
  };

  // Panel 1: stepped patch voxels (left axis) and batch size (right axis).
  double max_voxels = 0, max_batch = 0;
  for (const stage_row& r : p.rows) {
    max_voxels = std::max(max_voxels, static_cast<double>(pgps::voxel_count(r.stage.patch)));
    max_batch = std::max(max_batch, static_cast<double>(r.stage.batch));
  }
  // Headroom above the largest values keeps the lines off the frame and the patch labels inside.
  const double v_step = nice_step(max_voxels * 1.08, 5),
               b_step = std::max(1.0, nice_step(max_batch * 1.08, 5));
  const double v_top = std::ceil(max_voxels * 1.08 / v_step) * v_step;
  const double b_top = std::ceil(max_batch * 1.08 / b_step) * b_step;
  const auto y_voxels = [&](double v) { return bottom1 - (bottom1 - top1) * v / v_top; };
  const auto y_batch = [&](double b) { return bottom1 - (bottom1 - top1) * b / b_top; };
  for (double v = 0; v <= v_top + 1e-9; v += v_step) {
    out.line(left, y_voxels(v), right, y_voxels(v), "stroke=\"#eee\"");
    out.line(left - 5, y_voxels(v), left, y_voxels(v), "stroke=\"#333\"");
    out.text(left - 9, y_voxels(v) + 4, short_number(v),
             std::string("font-size=\"12\" text-anchor=\"end\" fill=\"") + patch_colour + "\"");
  }
  for (double b = 0; b <= b_top + 1e-9; b += b_step) {
    out.line(right, y_batch(b), right + 5, y_batch(b), "stroke=\"#333\"");
    out.text(right + 9, y_batch(b) + 4, short_number(b),
             std::string("font-size=\"12\" fill=\"") + batch_colour + "\"");
  }
  epoch_axis(bottom1, top1, false);
  out.line(left, top1, left, bottom1, std::string("stroke=\"") + patch_colour + "\"");
  out.line(right, top1, right, bottom1, std::string("stroke=\"") + batch_colour + "\"");
  out.text(30, (top1 + bottom1) / 2, "patch voxels",
           std::string("font-size=\"13\" text-anchor=\"middle\" fill=\"") + patch_colour +
               "\" transform=\"rotate(-90 30 " + std::to_string((top1 + bottom1) / 2) + ")\"");
  out.text(width - 30, (top1 + bottom1) / 2, "global batch size",
           std::string("font-size=\"13\" text-anchor=\"middle\" fill=\"") + batch_colour +
               "\" transform=\"rotate(90 " + std::to_string(width - 30) + ' ' +
               std::to_string((top1 + bottom1) / 2) + ")\"");
  std::vector<std::pair<double, double>> voxel_steps, batch_steps;
  for (const stage_row& r : p.rows) {
    const double x0 = x_of(static_cast<double>(r.stage.first_epoch));
    const double x1 = x_of(static_cast<double>(r.stage.first_epoch + r.stage.epochs));
    const auto v = static_cast<double>(pgps::voxel_count(r.stage.patch));
    voxel_steps.emplace_back(x0, y_voxels(v));
    voxel_steps.emplace_back(x1, y_voxels(v));
    batch_steps.emplace_back(x0, y_batch(static_cast<double>(r.stage.batch)));
    batch_steps.emplace_back(x1, y_batch(static_cast<double>(r.stage.batch)));
    if (r.stage.first_epoch > 0) out.line(x0, top1, x0, bottom1, "stroke=\"#ccc\" stroke-dasharray=\"2,3\"");
    // The patch of a stage, where there is room for it.
    const std::string label = dims(r.stage.patch);
    if (x1 - x0 >= 5.6 * static_cast<double>(label.size()) + 4) {
      out.text((x0 + x1) / 2, y_voxels(v) - 6, label,
               std::string("font-size=\"9\" text-anchor=\"middle\" fill=\"") + patch_colour + "\"");
    }
  }
  out.polyline(voxel_steps, std::string("stroke=\"") + patch_colour + "\" stroke-width=\"2.5\"");
  out.polyline(batch_steps,
               std::string("stroke=\"") + batch_colour + "\" stroke-width=\"2\" stroke-dasharray=\"7,4\"");
  // Legend, top centre of panel 1, clear of both lines' usual ends.
  const double lx = left + (right - left) * 0.36, ly = top1 - 14;
  out.line(lx, ly, lx + 26, ly, std::string("stroke=\"") + patch_colour + "\" stroke-width=\"2.5\"");
  out.text(lx + 32, ly + 4, "patch voxels (left axis)", "font-size=\"12\"");
  out.line(lx + 200, ly, lx + 226, ly,
           std::string("stroke=\"") + batch_colour + "\" stroke-width=\"2\" stroke-dasharray=\"7,4\"");
  out.text(lx + 232, ly + 4, "batch size (right axis)", "font-size=\"12\"");

  // Panel 2: cumulative voxels processed, in % of the baseline's total.
  double total = 0;
  std::vector<std::pair<double, double>> cumulative{{0, 0}};
  for (const stage_row& r : p.rows) {
    total += r.fraction_of_baseline;
    cumulative.emplace_back(static_cast<double>(r.stage.first_epoch + r.stage.epochs), total);
  }
  const double c_step = nice_step(std::max(1.0, total), 4);
  const double c_top = std::ceil(std::max(1.0, total) / c_step) * c_step;
  const auto y_cum = [&](double f) { return bottom2 - (bottom2 - top2) * f / c_top; };
  for (double f = 0; f <= c_top + 1e-9; f += c_step) {
    out.line(left, y_cum(f), right, y_cum(f), "stroke=\"#eee\"");
    out.line(left - 5, y_cum(f), left, y_cum(f), "stroke=\"#333\"");
    out.text(left - 9, y_cum(f) + 4, percent(f, 0), "font-size=\"12\" text-anchor=\"end\"");
  }
  epoch_axis(bottom2, top2, true);
  out.line(left, top2, left, bottom2, "stroke=\"#333\"");
  out.text(30, (top2 + bottom2) / 2, "cumulative voxels",
           "font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 30 " +
               std::to_string((top2 + bottom2) / 2) + ")\"");
  out.text(48, (top2 + bottom2) / 2, "(% of baseline total)",
           "font-size=\"11\" fill=\"#555\" text-anchor=\"middle\" transform=\"rotate(-90 48 " +
               std::to_string((top2 + bottom2) / 2) + ")\"");
  out.line(x_of(0), y_cum(0), x_of(epochs), y_cum(1),
           std::string("stroke=\"") + baseline_colour + "\" stroke-width=\"2\" stroke-dasharray=\"6,4\"");
  std::vector<std::pair<double, double>> points;
  for (const auto& [e, f] : cumulative) points.emplace_back(x_of(e), y_cum(f));
  out.polyline(points, std::string("stroke=\"") + patch_colour + "\" stroke-width=\"2.5\"");
  out.text(right + 6, y_cum(1) + 4, "100%", std::string("font-size=\"12\" fill=\"") + baseline_colour + "\"");
  out.text(right + 6, y_cum(total) + (std::abs(total - 1) < 0.06 ? 16 : 4), percent(total),
           std::string("font-size=\"12\" font-weight=\"bold\" fill=\"") + patch_colour + "\"");
  out.text(left, top2 - 14, "Cumulative compute", "font-size=\"14\" font-weight=\"bold\"");
  const double kx = left + 200, ky = top2 - 18;
  out.line(kx, ky, kx + 26, ky, std::string("stroke=\"") + patch_colour + "\" stroke-width=\"2.5\"");
  out.text(kx + 32, ky + 4, "this curriculum", "font-size=\"12\"");
  out.line(kx + 150, ky, kx + 176, ky,
           std::string("stroke=\"") + baseline_colour + "\" stroke-width=\"2\" stroke-dasharray=\"6,4\"");
  out.text(kx + 182, ky + 4,
           "constant baseline (" + dims(p.target) + ", batch " + std::to_string(p.baseline_batch) + ")",
           "font-size=\"12\"");

  std::ofstream file(path);
  if (!file) pgps::fail("--plot: cannot write '", path, "'");
  file << out.str();
  if (!file) pgps::fail("--plot: writing '", path, "' failed");
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"pgps-plan: the stages, batches and cost of a Progressive Growing of Patch Size curriculum"};
  app.add_option("--patch", o.patch, "target patch z,y,x (the nnU-Net plan's patch_size)")->required();
  app.add_option("--pool", o.pool, "2x poolings per axis z,y,x; step and smallest patch are 2^k");
  app.add_option("--min-patch", o.min_patch, "smallest patch z,y,x (instead of --pool, with --step)");
  app.add_option("--step", o.step, "growth step z,y,x (instead of --pool, with --min-patch)");
  app.add_option("--batch", o.batch, "batch size at the target patch (b0)")->capture_default_str();
  app.add_option("--epochs", o.epochs, "total epochs")->capture_default_str();
  app.add_option("--iterations", o.iterations, "iterations per epoch")->capture_default_str();
  app.add_option("--mode", o.mode, std::string("curriculum: ") + mode_names)->capture_default_str();
  app.add_option("--format", o.format, "output: table, json or csv")->capture_default_str();
  app.add_option("--plot", o.plot, "also write an SVG plot to this file");
  app.add_option("--seed", o.seed, "seed of the random schedule and the class-balance estimate")
      ->capture_default_str();
  app.add_flag("--reference-overshoot", o.reference_overshoot,
               "grow past a target that is not a multiple of the step, as the paper's code does");
  app.add_option("--ramp-initial-scale", o.ramp_initial_scale, "ramp mode: initial scale")
      ->capture_default_str();
  app.add_option("--ramp-delay", o.ramp_delay, "ramp mode: fraction of training at the initial scale")
      ->capture_default_str();
  app.add_option("--ramp-finetune", o.ramp_finetune, "ramp mode: fraction of training at full size")
      ->capture_default_str();
#if defined(PGPS_PLAN_WITH_NIFTI)
  app.add_option("--labels", o.labels,
                 "a label volume (.nii/.nii.gz): print the expected class balance per stage");
  app.add_option("--oversample", o.oversample, "--labels: fraction of each batch forced to foreground")
      ->capture_default_str();
  app.add_option("--classes", o.classes, "--labels: label values shown as table columns, e.g. 37,38,41,42");
  app.add_option("--balance-batches", o.balance_batches, "--labels: batches averaged per stage")
      ->capture_default_str();
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "pgps-plan: error: " << e.what() << '\n';
    return 2;
  }
  try {
    if (o.format != "table" && o.format != "json" && o.format != "csv") {
      pgps::fail("unknown format '", o.format, "'; allowed: table, json, csv");
    }
    if (o.mode != "efficiency" && o.mode != "performance" && o.mode != "plus" && o.mode != "random" &&
        o.mode != "ramp" && o.mode != "constant") {
      pgps::fail("unknown mode '", o.mode, "'; allowed: ", mode_names);
    }
    plan_summary plan = plan_for(o);
#if defined(PGPS_PLAN_WITH_NIFTI)
    if (!o.labels.empty()) add_class_balance(plan, o);
#endif
    if (o.format == "json") {
      std::cout << to_json(plan).dump(2) << '\n';
    } else if (o.format == "csv") {
      print_csv(plan, std::cout);
    } else {
      print_table(plan, o, std::cout);
    }
    if (!o.plot.empty()) write_plot(plan, o.plot);
  } catch (const pgps::error& e) {
    std::cerr << "pgps-plan: error: " << e.reason() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pgps-plan: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
