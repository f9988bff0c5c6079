#include "network.hpp"

#include <algorithm>
#include <string>

namespace pgps_train {

namespace nn = torch::nn;

conv_block_impl::conv_block_impl(std::int64_t in, std::int64_t out, std::int64_t first_stride) {
  conv1_ =
      register_module("conv1", nn::Conv3d(nn::Conv3dOptions(in, out, 3).stride(first_stride).padding(1)));
  norm1_ =
      register_module("norm1", nn::InstanceNorm3d(nn::InstanceNorm3dOptions(out).affine(true).eps(1e-5)));
  conv2_ = register_module("conv2", nn::Conv3d(nn::Conv3dOptions(out, out, 3).padding(1)));
  norm2_ =
      register_module("norm2", nn::InstanceNorm3d(nn::InstanceNorm3dOptions(out).affine(true).eps(1e-5)));
}

torch::Tensor conv_block_impl::forward(torch::Tensor x) {
  x = norm1_->forward(conv1_->forward(x));
  torch::leaky_relu_(x, 0.01);
  x = norm2_->forward(conv2_->forward(x));
  torch::leaky_relu_(x, 0.01);
  return x;
}

unet_impl::unet_impl(const unet_options& options) {
  TORCH_CHECK(options.pooling >= 1, "unet: pooling ", options.pooling, " must be >= 1");
  TORCH_CHECK(options.base_width >= 1 && options.max_width >= options.base_width, "unet: widths ",
              options.base_width, " / ", options.max_width, " must satisfy 1 <= base <= max");
  for (std::int64_t s = 0; s <= options.pooling; ++s) {
    widths_.push_back(std::min(options.base_width << s, options.max_width));
  }
  encoder_ = register_module("encoder", nn::ModuleList());
  upsample_ = register_module("upsample", nn::ModuleList());
  decoder_ = register_module("decoder", nn::ModuleList());
  std::int64_t in = options.in_channels;
  for (std::size_t s = 0; s < widths_.size(); ++s) {
    encoder_->push_back(conv_block(in, widths_[s], s == 0 ? 1 : 2));
    in = widths_[s];
  }
  // Decoder stage s goes from stage s+1's resolution to stage s's, deepest first.
  for (std::size_t s = widths_.size() - 1; s-- > 0;) {
    upsample_->push_back(
        nn::ConvTranspose3d(nn::ConvTranspose3dOptions(widths_[s + 1], widths_[s], 2).stride(2)));
    decoder_->push_back(conv_block(2 * widths_[s], widths_[s], 1));
  }
  heads_ = register_module("heads", nn::ModuleList());
  const std::size_t head_count = options.deep_supervision ? widths_.size() - 1 : 1;
  for (std::size_t s = 0; s < head_count; ++s) {
    heads_->push_back(nn::Conv3d(nn::Conv3dOptions(widths_[s], options.classes, 1)));
  }
}

std::vector<torch::Tensor> unet_impl::forward_heads(torch::Tensor x, std::size_t heads) {
  std::vector<torch::Tensor> skips;
  for (std::size_t s = 0; s < encoder_->size(); ++s) {
    x = encoder_[s]->as<conv_block>()->forward(x);
    if (s + 1 < encoder_->size()) skips.push_back(x);
  }
  std::vector<torch::Tensor> outputs(heads);
  for (std::size_t d = 0; d < decoder_->size(); ++d) {
    x = upsample_[d]->as<nn::ConvTranspose3d>()->forward(x);
    x = torch::cat({x, skips[skips.size() - 1 - d]}, 1);
    x = decoder_[d]->as<conv_block>()->forward(x);
    const std::size_t level = decoder_->size() - 1 - d;  // 0 = full resolution
    if (level < heads) outputs[level] = heads_[level]->as<nn::Conv3d>()->forward(x);
  }
  return outputs;
}

std::vector<torch::Tensor> unet_impl::forward_all(torch::Tensor x) {
  return forward_heads(x, heads_->size());
}

torch::Tensor unet_impl::forward(torch::Tensor x) { return forward_heads(x, 1)[0]; }

void init_weights(nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/true)) {
    auto init = [](torch::Tensor& weight, torch::Tensor& bias) {
      nn::init::kaiming_normal_(weight, 1e-2);
      if (bias.defined()) nn::init::zeros_(bias);
    };
    if (auto* conv = child->as<nn::Conv3d>())
      init(conv->weight, conv->bias);
    else if (auto* up = child->as<nn::ConvTranspose3d>())
      init(up->weight, up->bias);
  }
}

loss_parts dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const std::int64_t classes = logits.size(1);
  const torch::Tensor ce = torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1));

  const torch::Tensor valid = labels.ge(0).unsqueeze(1).to(logits.scalar_type());  // N×1×D×H×W
  const torch::Tensor probabilities = torch::softmax(logits, 1).narrow(1, 1, classes - 1) * valid;
  const torch::Tensor onehot = torch::one_hot(labels.clamp_min(0), classes)
                                   .permute({0, 4, 1, 2, 3})
                                   .narrow(1, 1, classes - 1)
                                   .to(logits.scalar_type()) *
                               valid;
  const std::vector<std::int64_t> axes{0, 2, 3, 4};  // batch Dice: sum over batch and space
  const torch::Tensor intersection = (probabilities * onehot).sum(axes);
  const torch::Tensor predicted = probabilities.sum(axes);
  const torch::Tensor truth = onehot.sum(axes);
  constexpr double smooth = 1e-5;
  const torch::Tensor dice = (2 * intersection + smooth) / (truth + predicted + smooth).clamp_min(1e-8);
  const torch::Tensor dice_loss = -dice.mean();
  return {ce + dice_loss, ce, dice_loss};
}

loss_parts deep_supervision_loss(const std::vector<torch::Tensor>& outputs, const torch::Tensor& labels) {
  if (outputs.size() == 1) return dice_ce_loss(outputs[0], labels);
  std::vector<double> weights;
  double sum = 0;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    weights.push_back(i + 1 == outputs.size() ? 0.0 : 1.0 / static_cast<double>(1 << i));
    sum += weights.back();
  }
  loss_parts total{torch::zeros({}), torch::zeros({}), torch::zeros({})};
  for (std::size_t i = 0; i + 1 < outputs.size(); ++i) {
    // Nearest-neighbour subsampling by 2^i: the voxel nearest each coarse voxel's centre.
    const std::int64_t step = std::int64_t{1} << i;
    torch::Tensor scaled = labels;
    for (std::int64_t axis = 1; axis <= 3; ++axis)
      scaled = scaled.slice(axis, step / 2, labels.size(axis), step);
    const loss_parts part = dice_ce_loss(outputs[i], scaled);
    const double w = weights[i] / sum;
    total.total = total.total + w * part.total;
    total.ce = total.ce + w * part.ce;
    total.dice = total.dice + w * part.dice;
  }
  return total;
}

torch::Tensor confusion_counts(const torch::Tensor& predicted, const torch::Tensor& labels,
                               std::int64_t classes) {
  const torch::Tensor valid = labels.ge(0);
  const torch::Tensor p = predicted.masked_select(valid);
  const torch::Tensor t = labels.masked_select(valid);
  torch::Tensor counts = torch::zeros({classes, 3}, torch::kInt64);
  for (std::int64_t c = 0; c < classes; ++c) {
    const torch::Tensor pc = p.eq(c), tc = t.eq(c);
    counts[c][0] = (pc & tc).sum();
    counts[c][1] = (pc & ~tc).sum();
    counts[c][2] = (~pc & tc).sum();
  }
  return counts;
}

}  // namespace pgps_train
