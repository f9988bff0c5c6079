// pgps-plan --labels: the class-balance trajectory of a label volume, checked against the
// sampling engine called directly and against a hand count for the baseline.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "pgps/adapters/nifti.hpp"
#include "pgps/sampling/balance_estimate.hpp"
#include "pgps/sampling/foreground_sampler.hpp"
#include "pgps_catch.hpp"

namespace {
std::string run(const std::string& command) {
  std::string output;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) output.append(buffer, n);
  return output;
}
}  // namespace

TEST_CASE("pgps-plan --labels prints the expected foreground fraction per stage") {
  const std::string tool = std::string(PGPS_BINARY_DIR) + "/examples/plan_tool/pgps-plan";
  if (!std::filesystem::exists(tool)) {
    FAIL("build the pgps-plan target first: " << tool << " does not exist");
  }
  // 32x64x64 labels: class 1 in an 8x16x16 block (2048 voxels, 64 of them overwritten by class 2).
  auto labels = pgps::nifti::make_image<std::uint8_t>({32, 64, 64});
  for (std::int64_t z = 12; z < 20; ++z)
    for (std::int64_t y = 24; y < 40; ++y)
      for (std::int64_t x = 24; x < 40; ++x) {
        const bool inner = z >= 14 && z < 18 && y >= 30 && y < 34 && x >= 30 && x < 34;
        labels.voxels[static_cast<std::size_t>((z * 64 + y) * 64 + x)] = inner ? 2 : 1;
      }
  const std::string path = (std::filesystem::temp_directory_path() / "pgps_plan_tool_labels.nii.gz").string();
  pgps::nifti::write(path, labels);

  const std::string out = run(tool +
                              " --patch 32,64,64 --pool 3,4,4 --epochs 100 --iterations 10 --format json "
                              "--balance-batches 8 --labels " +
                              path);
  const auto json = nlohmann::json::parse(out);
  REQUIRE(json["stages"].size() == 10);
  // The baseline's box is the whole volume (nnU-Net's placement keeps a centred box at >= 0, and
  // a 32x64x64 box from 0 covers everything): 2048 / 131072 foreground, exactly.
  CHECK(json["baseline_foreground_fraction"].get<double>() == Approx(2048.0 / 131072.0));
  CHECK(json["baseline_class_fractions"][2].get<double>() == Approx(64.0 / 131072.0));

  // Every stage agrees with the estimator called directly on the same sampler.
  pgps::class_index_options index_options;
  index_options.num_classes = 3;
  index_options.index_background = false;
  pgps::dataset data;
  data.add_case(pgps::class_index::build(labels.view(), index_options));
  const pgps::foreground_sampler sampler(data, pgps::foreground_sampler_options::pgps());
  for (const auto& stage : json["stages"]) {
    const pgps::extent3 patch{stage["patch"][0].get<std::int64_t>(), stage["patch"][1].get<std::int64_t>(),
                              stage["patch"][2].get<std::int64_t>()};
    const auto direct =
        pgps::estimate_class_fractions(sampler, data, patch, stage["batch"].get<std::int64_t>(), 8, 0);
    CHECK(stage["foreground_fraction"].get<double>() == Approx(direct.foreground).epsilon(1e-12));
  }
  // Small patches around forced foreground are far better balanced than the full patch.
  CHECK(json["stages"][0]["foreground_fraction"].get<double>() >
        10 * json["baseline_foreground_fraction"].get<double>());

  const std::string table = run(tool + " --patch 32,64,64 --pool 3,4,4 --epochs 100 --labels " + path);
  CHECK(table.find("class balance") != std::string::npos);
  CHECK(table.find("baseline") != std::string::npos);
  CHECK(table.find("class 2") != std::string::npos);  // few classes: every one is a column

  const std::string chosen =
      run(tool + " --patch 32,64,64 --pool 3,4,4 --epochs 100 --classes 2 --labels " + path);
  CHECK(chosen.find("class 2") != std::string::npos);
  CHECK(chosen.find("class 1") == std::string::npos);
  const std::string refused =
      run(tool + " --patch 32,64,64 --pool 3,4,4 --epochs 100 --classes 1,7 --labels " + path + " 2>&1");
  CHECK(
      refused.find("--classes '1,7': '7' is not a label value of the volume; allowed: integers in [0, 3)") !=
      std::string::npos);
  CHECK(refused.find("stage") == std::string::npos);  // nothing printed before the error
  std::filesystem::remove(path);
}
