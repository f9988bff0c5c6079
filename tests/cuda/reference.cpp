#include "reference.hpp"

#include "pgps/crop/cropper.hpp"

namespace pgps_test {
void cpu_fill(const pgps::batch_plan& plan, const std::vector<pgps::volume_view<const float>>& images,
              const std::vector<pgps::volume_view<const std::uint8_t>>& labels, pgps::pad_mode mode,
              std::vector<float>& image_out, std::vector<std::int64_t>& label_out) {
  std::vector<pgps::training_case<float, std::uint8_t>> cases;
  for (std::size_t k = 0; k < images.size(); ++k) cases.push_back({images[k], labels[k]});
  pgps::pad_options pad;
  pad.image = {mode, 0.0};
  pad.label = {mode, -1.0};
  const pgps::cropper<> cropper(pad);
  image_out.assign(pgps::image_elements(plan, images[0].channels), 0.0f);
  label_out.assign(pgps::label_elements(plan), 0);
  cropper.fill(plan, cases, image_out, label_out);
}
}  // namespace pgps_test
