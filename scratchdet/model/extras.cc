#include "scratchdet/model/extras.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scratchdet/core/error.h"
#include "scratchdet/model/config.h"
#include "scratchdet/model/layers.h"

namespace scratchdet::model {

namespace {

class SsdExtrasImpl : public ExtrasImpl {
 public:
  explicit SsdExtrasImpl(const ExtrasOptions& options) {
    struct Layer {
      int64_t reduce, out, stride, padding;
    };
    // paper.md "Extra layers", SSD-style; the tail's paddings as for the residual extras.
    Layer layers[4] = {{256, 512, 2, 1}, {128, 256, 2, 1}, {128, 256, 1, 0}, {128, 256, 1, 0}};
    if (options.extras_tail() == "released") {
      layers[2].padding = 1;
      layers[3].padding = 1;
    } else if (options.extras_tail() == "mmdet") {
      // As the residual mmdet tail: the third layer downsamples (stride 2, padding 1), the
      // fourth keeps its size. Maps 10,5,3,3 at 300 px; 3,2,1,1 after a 6x6 map (mini).
      layers[2].stride = 2;
      layers[2].padding = 1;
      layers[3].padding = 1;
    } else if (options.extras_tail() != "paper") {
      Fail("model config: key 'extras_tail' has unknown value '{}'; known: paper, released, mmdet",
           options.extras_tail());
    }
    const double w = options.width_multiplier();
    const bool bn = options.batch_norm();
    int64_t in = options.in_channels();
    for (int i = 0; i < 4; ++i) {
      const int64_t reduce = ScaledChannels(layers[i].reduce, w);
      const int64_t out = ScaledChannels(layers[i].out, w);
      reduce_.push_back(register_module(fmt::format("conv{}_1", i + 6),
                                        ConvBlock(ConvBlockOptions(in, reduce, 1).batch_norm(bn))));
      expand_.push_back(
          register_module(fmt::format("conv{}_2", i + 6), ConvBlock(ConvBlockOptions(reduce, out, 3)
                                                                        .stride(layers[i].stride)
                                                                        .padding(layers[i].padding)
                                                                        .batch_norm(bn))));
      channels_.push_back(out);
      in = out;
    }
  }

  std::vector<torch::Tensor> forward(const torch::Tensor& x) override {
    std::vector<torch::Tensor> maps;
    torch::Tensor y = x;
    for (size_t i = 0; i < reduce_.size(); ++i) {
      y = expand_[i]->forward(reduce_[i]->forward(y));
      maps.push_back(y);
    }
    return maps;
  }

  std::vector<int64_t> out_channels() const override { return channels_; }

  std::vector<box::FeatureMapSize> OutputSizes(box::FeatureMapSize input) const override {
    std::vector<box::FeatureMapSize> sizes;
    int64_t h = input.height, w = input.width;
    for (const auto& conv : expand_) {
      h = conv->OutputSize(h);
      w = conv->OutputSize(w);
      sizes.push_back({static_cast<int>(h), static_cast<int>(w)});
    }
    return sizes;
  }

  InitScheme init_scheme() const override { return InitScheme::kXavierUniform; }

 private:
  std::vector<ConvBlock> reduce_, expand_;
  std::vector<int64_t> channels_;
};

class ResidualExtrasImpl : public ExtrasImpl {
 public:
  explicit ResidualExtrasImpl(const ExtrasOptions& options) {
    struct Step {
      int64_t stride, padding;
    };
    std::vector<Step> steps = {{2, 1}, {2, 1}};
    if (options.extras_tail() == "paper") {
      steps.push_back({2, 1});
      steps.push_back({1, 0});
    } else if (options.extras_tail() == "released") {
      steps.push_back({1, 1});
      steps.push_back({1, 1});
    } else if (options.extras_tail() == "mmdet") {
      steps.push_back({2, 1});
      steps.push_back({1, 1});
    } else {
      Fail(
          "model config: key 'extras_tail' has unknown value '{}'; known: paper, released, "
          "mmdet",
          options.extras_tail());
    }
    const int64_t channels = ScaledChannels(128, options.width_multiplier());
    int64_t in = options.in_channels();
    for (size_t i = 0; i < steps.size(); ++i) {
      blocks_.push_back(register_module(fmt::format("block{}", i + 1),
                                        BasicBlock(BasicBlockOptions(in, channels)
                                                       .stride(steps[i].stride)
                                                       .padding(steps[i].padding)
                                                       .batch_norm(options.batch_norm()))));
      in = channels;
    }
  }

  std::vector<torch::Tensor> forward(const torch::Tensor& x) override {
    std::vector<torch::Tensor> maps;
    torch::Tensor y = x;
    for (auto& block : blocks_) {
      y = block->forward(y);
      maps.push_back(y);
    }
    return maps;
  }

  std::vector<int64_t> out_channels() const override {
    std::vector<int64_t> channels;
    for (const auto& block : blocks_) channels.push_back(block->options.out_channels());
    return channels;
  }

  std::vector<box::FeatureMapSize> OutputSizes(box::FeatureMapSize input) const override {
    std::vector<box::FeatureMapSize> sizes;
    int64_t h = input.height, w = input.width;
    for (const auto& block : blocks_) {
      h = block->OutputSize(h);
      w = block->OutputSize(w);
      sizes.push_back({static_cast<int>(h), static_cast<int>(w)});
    }
    return sizes;
  }

  // BasicBlocks are ResNet parts: Kaiming, as the mmdetection port initialises them.
  InitScheme init_scheme() const override { return InitScheme::kKaimingNormalFanOut; }

 private:
  std::vector<BasicBlock> blocks_;
};

}  // namespace

std::vector<std::string> ExtrasNames() { return {"ssd", "residual"}; }

std::shared_ptr<ExtrasImpl> CreateExtras(const ExtrasOptions& options) {
  if (options.style() == "ssd") return std::make_shared<SsdExtrasImpl>(options);
  if (options.style() == "residual") return std::make_shared<ResidualExtrasImpl>(options);
  Fail("model config: key 'extras' has unknown value '{}'; known: {}", options.style(),
       fmt::join(ExtrasNames(), ", "));
}

}  // namespace scratchdet::model
