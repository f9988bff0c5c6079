// Everything pgps-train writes for people and scripts: progress lines, the summary table, the
// CSV of every epoch, summary.json, the run checkpoints' progress files, and the SVG plot.
#pragma once

#include <string>
#include <vector>

#include "pgps/sampling/batch_plan.hpp"
#include "run.hpp"

namespace pgps_train {

// Writes `text` to `path`, replacing it; throws pgps::error when the file cannot be written.
void write_file(const std::string& path, const std::string& text);

// One line of JSON: {"patch":[z,y,x],"global_batch":B,"first_slot":F,"slots":[[case,z,y,x,class],...]}
std::string plan_json(const pgps::batch_plan& plan);

// A run's records and results, for resuming and for assembling the summary.
void save_progress(const std::string& path, const run_result& result);
run_result load_progress(const std::string& path);

void save_settings(const std::string& path, const settings& s);
settings load_settings(const std::string& path);

std::string progress_line(const epoch_record& r, const run_result& run, double eta_s, std::int64_t epochs);
std::string summary_table(const std::vector<run_result>& runs);
void write_epochs_csv(const std::string& path, const std::vector<run_result>& runs);
void write_summary_json(const std::string& path, const settings& s, const case_sets& data,
                        const std::vector<run_result>& runs);
// Validation Dice against wall time, one line per run, stage boundaries as ticks on each line.
void write_dice_plot(const std::string& path, const std::vector<run_result>& runs);

}  // namespace pgps_train
