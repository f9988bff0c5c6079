// The 3D U-Net of the example trainer, in nnU-Net's style, and its Dice + cross-entropy loss.
// Only the LibTorch translation units include this header.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace pgps_train {

struct unet_options {
  std::int64_t in_channels = 1;
  std::int64_t classes = 5;       // including background
  std::int64_t pooling = 4;       // strided-conv downsampling steps (all axes)
  std::int64_t base_width = 8;    // features of the first stage; doubled per stage
  std::int64_t max_width = 128;   // cap of the doubling (nnU-Net: 320 for 3D)
  bool deep_supervision = false;  // extra outputs at the coarser decoder stages (training)
};

// conv3d(3³) – InstanceNorm3d(affine) – LeakyReLU(0.01), twice; the first conv may be strided.
class conv_block_impl : public torch::nn::Module {
 public:
  conv_block_impl(std::int64_t in, std::int64_t out, std::int64_t first_stride);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv3d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::InstanceNorm3d norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE_IMPL(conv_block, conv_block_impl);

// nnU-Net's PlainConvUNet layout: encoder stages with strided-conv downsampling, a decoder of
// transposed-conv upsampling, skip concatenation and two conv blocks per stage, and a 1×1×1
// segmentation head per decoder stage for deep supervision.
class unet_impl : public torch::nn::Module {
 public:
  explicit unet_impl(const unet_options& options);
  // The full-resolution logits.
  torch::Tensor forward(torch::Tensor x);
  // Logits of every decoder stage, full resolution first, then 1/2, 1/4, ... (deep supervision).
  std::vector<torch::Tensor> forward_all(torch::Tensor x);

 private:
  // Encoder and decoder once, logits of the first `heads` decoder stages (full resolution first).
  std::vector<torch::Tensor> forward_heads(torch::Tensor x, std::size_t heads);

  std::vector<std::int64_t> widths_;
  torch::nn::ModuleList encoder_, upsample_, decoder_;
  torch::nn::ModuleList heads_;  // heads_[0] at full resolution
};
TORCH_MODULE_IMPL(unet, unet_impl);

// He (Kaiming normal, a = 0.01) initialisation of conv weights with zero biases, as nnU-Net's
// InitWeights_He(1e-2); deterministic for a given torch::manual_seed.
void init_weights(torch::nn::Module& module);

struct loss_parts {
  torch::Tensor total;  // ce + dice (the dice term is −soft Dice, so the total can be negative)
  torch::Tensor ce;
  torch::Tensor dice;
};

// nnU-Net's DC_and_CE_loss with weights 1 and 1: cross-entropy plus the negative soft Dice over
// the foreground classes, batch Dice (sums over batch and space), smooth 1e-5. Voxels whose label
// is negative (the cropper's padding) are left out of both terms.
loss_parts dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& labels);

// nnU-Net's deep supervision: the loss of output i (at 1/2^i resolution, labels subsampled by
// nearest neighbour) weighted by 1/2^i, the coarsest output weighted 0, weights normalised.
loss_parts deep_supervision_loss(const std::vector<torch::Tensor>& outputs, const torch::Tensor& labels);

// Hard-label confusion counts per class (tp, fp, fn), over voxels with label >= 0; shape C×3.
torch::Tensor confusion_counts(const torch::Tensor& predicted, const torch::Tensor& labels,
                               std::int64_t classes);

}  // namespace pgps_train
