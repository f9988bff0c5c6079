// The device cropper against the CPU cropper, voxel for voxel, for every pad mode and for boxes
// inside, overhanging and outside the volume. Exits 77 (CTest: skipped) without a CUDA device.
#include <cstdio>
#include <vector>

#include "pgps/core/rng.hpp"
#include "pgps/cuda/crop.cuh"
#include "reference.hpp"

namespace {
template <class T>
T* to_device(const std::vector<T>& host) {
  T* device = nullptr;
  pgps::cuda::check(cudaMalloc(&device, host.size() * sizeof(T)), "cudaMalloc");
  pgps::cuda::check(cudaMemcpy(device, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
                    "cudaMemcpy");
  return device;
}

int failures = 0;
void expect(bool ok, const char* what, std::size_t at) {
  if (!ok && failures++ < 10) std::printf("mismatch in %s at element %zu\n", what, at);
}
}  // namespace

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  const pgps::extent3 extents[] = {{9, 13, 17}, {5, 6, 31}};
  const std::int64_t channels = 2;
  std::vector<std::vector<float>> image_memory;
  std::vector<std::vector<std::uint8_t>> label_memory;
  std::vector<pgps::volume_view<const float>> host_images, device_images;
  std::vector<pgps::volume_view<const std::uint8_t>> host_labels, device_labels;
  pgps::random_stream values(pgps::counter{99, 0, 0, 0, 0});
  for (const auto& e : extents) {
    std::vector<float> image(static_cast<std::size_t>(channels * pgps::voxel_count(e)));
    std::vector<std::uint8_t> label(static_cast<std::size_t>(pgps::voxel_count(e)));
    for (auto& v : image) v = static_cast<float>(values.uniform01());
    for (auto& v : label) v = static_cast<std::uint8_t>(values.below(5));
    image_memory.push_back(image);
    label_memory.push_back(label);
  }
  for (std::size_t k = 0; k < image_memory.size(); ++k) {
    host_images.push_back(pgps::contiguous_view<const float>(image_memory[k].data(), extents[k], channels));
    host_labels.push_back(pgps::contiguous_view<const std::uint8_t>(label_memory[k].data(), extents[k]));
    auto di = host_images.back();
    di.data = to_device(image_memory[k]);
    auto dl = host_labels.back();
    dl.data = to_device(label_memory[k]);
    device_images.push_back(di);
    device_labels.push_back(dl);
  }

  pgps::batch_plan plan;
  plan.patch = {8, 16, 20};
  plan.global_batch = 6;
  const pgps::index3 corners[] = {{0, 0, 0},    {-3, -5, -7}, {4, 2, 20},
                                  {-20, 30, 1}, {1, -1, 11},  {-8, -16, -20}};
  for (std::int64_t s = 0; s < 6; ++s) {
    plan.slots.push_back({s % 2, pgps::box{corners[s], plan.patch}, pgps::no_forced_class});
  }

  for (pgps::pad_mode mode : {pgps::pad_mode::constant, pgps::pad_mode::edge, pgps::pad_mode::reflect}) {
    std::vector<float> expected_image;
    std::vector<std::int64_t> expected_label;
    pgps_test::cpu_fill(plan, host_images, host_labels, mode, expected_image, expected_label);

    pgps::cuda::device_cropper<float, std::uint8_t> cropper(device_images, device_labels, 0.0, -1.0, mode,
                                                            mode);
    float* image_out = nullptr;
    std::int64_t* label_out = nullptr;
    pgps::cuda::check(cudaMalloc(&image_out, expected_image.size() * sizeof(float)), "cudaMalloc");
    pgps::cuda::check(cudaMalloc(&label_out, expected_label.size() * sizeof(std::int64_t)), "cudaMalloc");
    cropper.fill(plan, image_out, label_out);
    std::vector<float> image(expected_image.size());
    std::vector<std::int64_t> label(expected_label.size());
    pgps::cuda::check(
        cudaMemcpy(image.data(), image_out, image.size() * sizeof(float), cudaMemcpyDeviceToHost),
        "cudaMemcpy");
    pgps::cuda::check(
        cudaMemcpy(label.data(), label_out, label.size() * sizeof(std::int64_t), cudaMemcpyDeviceToHost),
        "cudaMemcpy");
    for (std::size_t i = 0; i < image.size(); ++i)
      expect(image[i] == expected_image[i], pgps::name_of(mode), i);
    for (std::size_t i = 0; i < label.size(); ++i)
      expect(label[i] == expected_label[i], pgps::name_of(mode), i);
    cudaFree(image_out);
    cudaFree(label_out);
  }
  bool rejected = false;
  try {
    pgps::cuda::device_cropper<float, std::uint8_t> cropper(device_images, device_labels);
    pgps::batch_plan bad = plan;
    bad.slots[0].case_id = 7;
    cropper.fill(bad, static_cast<float*>(nullptr) + 1, static_cast<std::int64_t*>(nullptr));
  } catch (const pgps::error& e) {
    rejected = true;
    std::printf("bad plan rejected: %s\n", e.what());
  }
  expect(rejected, "error path", 0);
  std::printf("%s: %d mismatches\n", failures == 0 ? "passed" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
