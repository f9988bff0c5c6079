#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "pgps/core/error.hpp"

namespace pgps_train {

using json = nlohmann::json;

namespace {

json extent_json(const pgps::extent3& e) { return json::array({e[0], e[1], e[2]}); }
pgps::extent3 extent_from(const json& j) {
  return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>(), j.at(2).get<std::int64_t>()};
}

// JSON has no NaN; a structure absent from both prediction and truth is written as null.
json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double number_from(const json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

json dice_json(const std::array<double, 4>& dice) {
  json out = json::object();
  for (std::size_t k = 0; k < structures.size(); ++k) out[structures[k].name] = number_or_null(dice[k]);
  return out;
}
std::array<double, 4> dice_from(const json& j) {
  std::array<double, 4> out{};
  for (std::size_t k = 0; k < structures.size(); ++k) out[k] = number_from(j.at(structures[k].name));
  return out;
}

json record_json(const epoch_record& r) {
  return {{"run", r.run},
          {"epoch", r.epoch},
          {"stage", r.stage},
          {"patch", extent_json(r.patch)},
          {"batch", r.batch},
          {"lr", r.lr},
          {"loss", r.loss},
          {"ce", r.ce},
          {"dice_loss", r.dice_loss},
          {"val_dice", dice_json(r.val_dice)},
          {"val_mean_dice", number_or_null(r.val_mean_dice)},
          {"voxels", r.voxels},
          {"train_s", r.train_s},
          {"data_s", r.data_s},
          {"val_s", r.val_s},
          {"wall_s", r.wall_s},
          {"throughput", r.throughput}};
}

epoch_record record_from(const json& j) {
  epoch_record r;
  r.run = j.at("run").get<std::string>();
  r.epoch = j.at("epoch").get<std::int64_t>();
  r.stage = j.at("stage").get<std::int32_t>();
  r.patch = extent_from(j.at("patch"));
  r.batch = j.at("batch").get<std::int64_t>();
  r.lr = j.at("lr").get<double>();
  r.loss = j.at("loss").get<double>();
  r.ce = j.at("ce").get<double>();
  r.dice_loss = j.at("dice_loss").get<double>();
  r.val_dice = dice_from(j.at("val_dice"));
  r.val_mean_dice = number_from(j.at("val_mean_dice"));
  r.voxels = j.at("voxels").get<double>();
  r.train_s = j.at("train_s").get<double>();
  r.data_s = j.at("data_s").get<double>();
  r.val_s = j.at("val_s").get<double>();
  r.wall_s = j.at("wall_s").get<double>();
  r.throughput = j.at("throughput").get<double>();
  return r;
}

json stages_json(const std::vector<pgps::stage>& stages) {
  json out = json::array();
  for (const pgps::stage& st : stages) {
    out.push_back({{"index", st.index},
                   {"patch", extent_json(st.patch)},
                   {"batch", st.batch},
                   {"first_epoch", st.first_epoch},
                   {"epochs", st.epochs}});
  }
  return out;
}

std::string format_extent(const pgps::extent3& e) {
  return std::to_string(e[0]) + "x" + std::to_string(e[1]) + "x" + std::to_string(e[2]);
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char buffer[32];
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  else if (s >= 60)
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%llds", s);
  return buffer;
}

const run_result* baseline_of(const std::vector<run_result>& runs) {
  for (const run_result& r : runs) {
    if (r.mode == run_mode::constant) return &r;
  }
  return nullptr;
}

}  // namespace

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  pgps::require(static_cast<bool>(out), "cannot write '", path, "'");
}

std::string plan_json(const pgps::batch_plan& plan) {
  json slots = json::array();
  for (const pgps::slot_plan& s : plan.slots) {
    slots.push_back({s.case_id, s.region.lower[0], s.region.lower[1], s.region.lower[2], s.forced_class});
  }
  return json{{"patch", extent_json(plan.patch)},
              {"global_batch", plan.global_batch},
              {"first_slot", plan.first_slot},
              {"slots", slots}}
      .dump();
}

void save_progress(const std::string& path, const run_result& result) {
  json epochs = json::array();
  for (const epoch_record& r : result.epochs) epochs.push_back(record_json(r));
  json cases = json::array();
  for (const auto& d : result.case_dice) cases.push_back(dice_json(d));
  const json j{{"mode", mode_name(result.mode)},
               {"finished", result.finished},
               {"wall_s", result.wall_s},
               {"train_s", result.train_s},
               {"val_s", result.val_s},
               {"eval_s", result.eval_s},
               {"data_s", result.data_s},
               {"voxels", result.voxels},
               {"predicted_voxel_fraction", result.predicted_voxel_fraction},
               {"stages", stages_json(result.stages)},
               {"dice", dice_json(result.dice)},
               {"mean_dice", number_or_null(result.mean_dice)},
               {"case_dice", cases},
               {"epochs", epochs}};
  write_file(path, j.dump(1) + "\n");
}

run_result load_progress(const std::string& path) {
  std::ifstream in(path);
  pgps::require(static_cast<bool>(in), "cannot read the run progress '", path, "'");
  json j;
  try {
    in >> j;
    run_result r;
    r.mode = mode_from(j.at("mode").get<std::string>());
    r.finished = j.at("finished").get<bool>();
    r.wall_s = j.at("wall_s").get<double>();
    r.train_s = j.at("train_s").get<double>();
    r.val_s = j.at("val_s").get<double>();
    r.eval_s = j.at("eval_s").get<double>();
    r.data_s = j.at("data_s").get<double>();
    r.voxels = j.at("voxels").get<double>();
    r.predicted_voxel_fraction = j.at("predicted_voxel_fraction").get<double>();
    r.dice = dice_from(j.at("dice"));
    r.mean_dice = number_from(j.at("mean_dice"));
    for (const json& c : j.at("case_dice")) r.case_dice.push_back(dice_from(c));
    for (const json& e : j.at("epochs")) r.epochs.push_back(record_from(e));
    return r;
  } catch (const json::exception& e) {
    pgps::fail("the run progress '", path, "' is not what pgps-train wrote: ", e.what());
  }
}

void save_settings(const std::string& path, const settings& s) {
  json runs = json::array();
  for (const run_mode m : s.runs) runs.push_back(mode_name(m));
  const json j{{"epochs", s.epochs},
               {"iterations", s.iterations},
               {"patch", extent_json(s.patch)},
               {"pooling", s.pooling},
               {"batch", s.batch},
               {"width", s.width},
               {"max_width", s.max_width},
               {"deep_supervision", s.deep_supervision},
               {"foreground_fraction", s.foreground_fraction},
               {"learning_rate", s.learning_rate},
               {"seed", s.seed},
               {"data_seed", s.data_seed},
               {"spacing_mm", s.spacing_mm},
               {"margin_mm", s.margin_mm},
               {"training_cases", s.training_cases},
               {"validation_cases", s.validation_cases},
               {"test_cases", s.test_cases},
               {"validation_boxes", s.validation_boxes},
               {"t1", s.t1_path},
               {"atlas", s.atlas_path},
               {"quick", s.quick},
               {"runs", runs}};
  write_file(path, j.dump(1) + "\n");
}

settings load_settings(const std::string& path) {
  std::ifstream in(path);
  pgps::require(static_cast<bool>(in), "cannot read '", path,
                "'; --resume needs the output directory of an earlier run");
  try {
    json j;
    in >> j;
    settings s;
    s.epochs = j.at("epochs").get<std::int64_t>();
    s.iterations = j.at("iterations").get<std::int64_t>();
    s.patch = extent_from(j.at("patch"));
    s.pooling = j.at("pooling").get<std::int64_t>();
    s.batch = j.at("batch").get<std::int64_t>();
    s.width = j.at("width").get<std::int64_t>();
    s.max_width = j.at("max_width").get<std::int64_t>();
    s.deep_supervision = j.at("deep_supervision").get<bool>();
    s.foreground_fraction = j.at("foreground_fraction").get<double>();
    s.learning_rate = j.at("learning_rate").get<double>();
    s.seed = j.at("seed").get<std::uint64_t>();
    s.data_seed = j.at("data_seed").get<std::uint64_t>();
    s.spacing_mm = j.at("spacing_mm").get<double>();
    s.margin_mm = j.at("margin_mm").get<double>();
    s.training_cases = j.at("training_cases").get<std::int64_t>();
    s.validation_cases = j.at("validation_cases").get<std::int64_t>();
    s.test_cases = j.at("test_cases").get<std::int64_t>();
    s.validation_boxes = j.at("validation_boxes").get<std::int64_t>();
    s.t1_path = j.at("t1").get<std::string>();
    s.atlas_path = j.at("atlas").get<std::string>();
    s.quick = j.at("quick").get<bool>();
    s.runs.clear();
    for (const json& m : j.at("runs")) s.runs.push_back(mode_from(m.get<std::string>()));
    return s;
  } catch (const json::exception& e) {
    pgps::fail("'", path, "' is not a pgps-train settings file: ", e.what());
  }
}

std::string progress_line(const epoch_record& r, const run_result& run, double eta_s, std::int64_t epochs) {
  char buffer[320];
  std::snprintf(buffer, sizeof buffer,
                "[%-11s] epoch %3lld/%lld  stage %d/%zu  patch %-9s batch %3lld  loss %7.4f  val Dice %.3f  "
                "%6.0fk vox/s  train %5.1fs val %4.1fs  ETA %s",
                r.run.c_str(), static_cast<long long>(r.epoch + 1), static_cast<long long>(epochs),
                r.stage + 1, run.stages.size(), format_extent(r.patch).c_str(),
                static_cast<long long>(r.batch), r.loss, r.val_mean_dice, r.throughput / 1000.0, r.train_s,
                r.val_s, format_duration(eta_s).c_str());
  return buffer;
}

std::string summary_table(const std::vector<run_result>& runs) {
  const run_result* base = baseline_of(runs);
  std::ostringstream out;
  out << "| run | wall s | train s | val s | voxels (M) | predicted voxel fraction | measured train-time "
         "ratio |";
  for (const auto& st : structures) out << ' ' << st.name << " |";
  out << " mean Dice |\n|---|---:|---:|---:|---:|---:|---:|";
  for (std::size_t k = 0; k < structures.size(); ++k) out << "---:|";
  out << "---:|\n";
  out << std::fixed;
  for (const run_result& r : runs) {
    out << "| " << mode_name(r.mode) << " | " << std::setprecision(1) << r.wall_s << " | " << r.train_s
        << " | " << r.val_s << " | " << r.voxels / 1e6 << " | " << std::setprecision(3)
        << r.predicted_voxel_fraction << " | ";
    if (base != nullptr && base->train_s > 0)
      out << r.train_s / base->train_s;
    else
      out << "n/a";
    out << " |";
    for (const double d : r.dice) out << ' ' << d << " |";
    out << ' ' << r.mean_dice << " |\n";
  }
  return out.str();
}

void write_epochs_csv(const std::string& path, const std::vector<run_result>& runs) {
  std::ostringstream out;
  out << "run,epoch,stage,patch_z,patch_y,patch_x,batch,lr,loss,ce,dice_loss";
  for (const auto& st : structures) out << ",val_dice_" << st.name;
  out << ",val_mean_dice,voxels,train_s,data_s,val_s,wall_s,throughput_voxels_per_s\n";
  out << std::setprecision(9);
  for (const run_result& run : runs) {
    for (const epoch_record& r : run.epochs) {
      out << r.run << ',' << r.epoch << ',' << r.stage << ',' << r.patch[0] << ',' << r.patch[1] << ','
          << r.patch[2] << ',' << r.batch << ',' << r.lr << ',' << r.loss << ',' << r.ce << ','
          << r.dice_loss;
      for (const double d : r.val_dice) out << ',' << d;
      out << ',' << r.val_mean_dice << ',' << r.voxels << ',' << r.train_s << ',' << r.data_s << ','
          << r.val_s << ',' << r.wall_s << ',' << r.throughput << '\n';
    }
  }
  write_file(path, out.str());
}

void write_summary_json(const std::string& path, const settings& s, const case_sets& data,
                        const std::vector<run_result>& runs) {
  const run_result* base = baseline_of(runs);
  json list = json::array();
  for (const run_result& r : runs) {
    list.push_back({{"mode", mode_name(r.mode)},
                    {"description", mode_title(r.mode)},
                    {"finished", r.finished},
                    {"wall_s", r.wall_s},
                    {"train_s", r.train_s},
                    {"val_s", r.val_s},
                    {"eval_s", r.eval_s},
                    {"data_s", r.data_s},
                    {"voxels", r.voxels},
                    {"predicted_voxel_fraction", r.predicted_voxel_fraction},
                    {"measured_train_time_ratio",
                     base != nullptr && base->train_s > 0 ? json(r.train_s / base->train_s) : json(nullptr)},
                    {"dice", dice_json(r.dice)},
                    {"mean_dice", number_or_null(r.mean_dice)},
                    {"stages", stages_json(r.stages)}});
  }
  json structure_list = json::array();
  for (std::size_t k = 0; k < structures.size(); ++k) {
    structure_list.push_back(
        {{"class", k + 1}, {"name", structures[k].name}, {"aal_label", structures[k].aal_label}});
  }
  const json j{{"runs", list},
               {"task",
                {{"structures", structure_list},
                 {"t1", s.t1_path},
                 {"atlas", s.atlas_path},
                 {"grid",
                  {{"extent", extent_json(data.grid.extent)},
                   {"spacing_mm", data.grid.spacing_mm},
                   {"origin_mm", data.grid.origin_mm}}},
                 {"training_cases", data.training.size()},
                 {"validation_cases", data.validation.size()},
                 {"test_cases", data.test.size()},
                 {"evaluation",
                  "sliding window, overlap 0.5, Gaussian weighting (sigma = patch/8), Dice per test case"}}},
               {"settings",
                {{"epochs", s.epochs},
                 {"iterations", s.iterations},
                 {"patch", extent_json(s.patch)},
                 {"pooling", s.pooling},
                 {"batch", s.batch},
                 {"width", s.width},
                 {"threads", s.threads},
                 {"seed", s.seed},
                 {"quick", s.quick}}},
               {"machine", {{"hardware_threads", std::thread::hardware_concurrency()}}}};
  write_file(path, j.dump(2) + "\n");
}

void write_dice_plot(const std::string& path, const std::vector<run_result>& runs) {
  constexpr double width = 960, height = 560, left = 80, right = 250, top = 60, bottom = 70;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  double max_t = 1, max_d = 0.1;
  for (const run_result& r : runs) {
    for (const epoch_record& e : r.epochs) {
      max_t = std::max(max_t, e.wall_s);
      if (std::isfinite(e.val_mean_dice)) max_d = std::max(max_d, e.val_mean_dice);
    }
  }
  // Axis ranges rounded up to a readable tick step.
  const double raw_step = max_t / 6;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  double t_step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw_step) {
      t_step = m * magnitude;
      break;
    }
  }
  const double t_end = std::ceil(max_t / t_step) * t_step;
  const double d_end = std::min(1.0, std::ceil(max_d * 10 + 0.5) / 10);
  const double d_step = d_end > 0.5 ? 0.1 : 0.05;
  const auto x_of = [&](double t) { return left + plot_w * t / t_end; };
  const auto y_of = [&](double d) { return top + plot_h * (1 - d / d_end); };
  const char* colours[] = {"#444444", "#1f77b4", "#e6550d"};
  const char* dashes[] = {"", "6 3", "2 3"};

  std::ostringstream svg;
  svg << std::fixed << std::setprecision(1);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << ' ' << height
      << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << left
      << "\" y=\"32\" font-size=\"18\" font-weight=\"bold\">Validation Dice (mean of 4 structures) "
         "against wall time</text>\n";
  svg << "<text x=\"" << left
      << "\" y=\"50\" font-size=\"12\" fill=\"#555\">full-patch validation boxes after every "
         "epoch; vertical lines: the run enters its next PGPS stage</text>\n";
  for (double t = 0; t <= t_end + 1e-9; t += t_step) {
    svg << "<line x1=\"" << x_of(t) << "\" y1=\"" << top << "\" x2=\"" << x_of(t) << "\" y2=\""
        << top + plot_h << "\" stroke=\"#eee\"/>\n";
    svg << "<text x=\"" << x_of(t) << "\" y=\"" << top + plot_h + 18
        << "\" font-size=\"12\" text-anchor=\"middle\">" << std::setprecision(0) << t << std::setprecision(1)
        << "</text>\n";
  }
  for (int i = 0; i * d_step <= d_end + 1e-9; ++i) {
    const double d = i * d_step;
    svg << "<line x1=\"" << left << "\" y1=\"" << y_of(d) << "\" x2=\"" << left + plot_w << "\" y2=\""
        << y_of(d) << "\" stroke=\"#eee\"/>\n";
    svg << "<text x=\"" << left - 8 << "\" y=\"" << y_of(d) + 4 << "\" font-size=\"12\" text-anchor=\"end\">"
        << std::setprecision(2) << d << std::setprecision(1) << "</text>\n";
  }
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << plot_w << "\" height=\"" << plot_h
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  svg << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << height - 22
      << "\" font-size=\"14\" text-anchor=\"middle\">wall time since the run started (s)</text>\n";
  svg << "<text transform=\"translate(24," << top + plot_h / 2
      << ") rotate(-90)\" font-size=\"14\" text-anchor=\"middle\">validation Dice</text>\n";

  double legend_y = top + 10;
  for (const run_result& r : runs) {
    const auto m = static_cast<std::size_t>(r.mode);
    // Stage boundaries: the wall time at which the first epoch of each later stage began.
    // Labels near the top (validation Dice is low while stages change), two rows per run,
    // alternating, so that close boundaries do not overprint.
    int boundary = 0;
    for (std::size_t i = 1; i < r.epochs.size(); ++i) {
      if (r.epochs[i].stage == r.epochs[i - 1].stage) continue;
      const double label_y = top + 12 + 11.0 * static_cast<double>(2 * (m == 0 ? 0 : m - 1) + boundary++ % 2);
      const double x = x_of(r.epochs[i - 1].wall_s);
      svg << "<line x1=\"" << x << "\" y1=\"" << top << "\" x2=\"" << x << "\" y2=\"" << top + plot_h
          << "\" stroke=\"" << colours[m] << "\" stroke-opacity=\"0.45\" stroke-dasharray=\"3 4\"/>\n";
      svg << "<text x=\"" << x + 2 << "\" y=\"" << label_y << "\" font-size=\"9\" fill=\"" << colours[m]
          << "\">" << format_extent(r.epochs[i].patch) << "</text>\n";
    }
    svg << "<polyline fill=\"none\" stroke=\"" << colours[m] << "\" stroke-width=\"2.2\"";
    if (*dashes[m] != '\0') svg << " stroke-dasharray=\"" << dashes[m] << "\"";
    svg << " points=\"";
    for (const epoch_record& e : r.epochs) {
      if (std::isfinite(e.val_mean_dice)) svg << x_of(e.wall_s) << ',' << y_of(e.val_mean_dice) << ' ';
    }
    svg << "\"/>\n";
    for (const epoch_record& e : r.epochs) {
      if (!std::isfinite(e.val_mean_dice)) continue;
      svg << "<circle cx=\"" << x_of(e.wall_s) << "\" cy=\"" << y_of(e.val_mean_dice) << "\" r=\"3\" fill=\""
          << colours[m] << "\"/>\n";
    }
    const double lx = left + plot_w + 16;
    svg << "<line x1=\"" << lx << "\" y1=\"" << legend_y << "\" x2=\"" << lx + 28 << "\" y2=\"" << legend_y
        << "\" stroke=\"" << colours[m] << "\" stroke-width=\"2.2\"";
    if (*dashes[m] != '\0') svg << " stroke-dasharray=\"" << dashes[m] << "\"";
    svg << "/>\n<text x=\"" << lx + 34 << "\" y=\"" << legend_y + 4 << "\" font-size=\"12\">"
        << mode_name(r.mode) << "</text>\n";
    std::ostringstream detail;
    detail << std::fixed << std::setprecision(0) << "train " << r.train_s << " s, test Dice "
           << std::setprecision(3) << r.mean_dice;
    svg << "<text x=\"" << lx + 34 << "\" y=\"" << legend_y + 19 << "\" font-size=\"10\" fill=\"#555\">"
        << detail.str() << "</text>\n";
    legend_y += 44;
  }
  svg << "</svg>\n";
  write_file(path, svg.str());
}

}  // namespace pgps_train
