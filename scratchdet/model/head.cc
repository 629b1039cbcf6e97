#include "scratchdet/model/head.h"

#include <ATen/ops/cat.h>

#include "scratchdet/core/error.h"

namespace scratchdet::model {

SsdHeadImpl::SsdHeadImpl(const SsdHeadOptions& options) : options_(options) {
  if (options.in_channels().size() != options.priors_per_cell().size())
    Fail("SSD head: {} sources but {} prior levels", options.in_channels().size(),
         options.priors_per_cell().size());
  torch::nn::ModuleList loc, conf;
  for (size_t l = 0; l < options.in_channels().size(); ++l) {
    const int64_t in = options.in_channels()[l];
    const int64_t a = options.priors_per_cell()[l];
    auto block = [&](int64_t out) {
      return ConvBlock(
          ConvBlockOptions(in, out, 3).padding(1).batch_norm(options.batch_norm()).relu(false));
    };
    loc_.push_back(block(a * 4));
    conf_.push_back(block(a * options.num_classes()));
    loc->push_back(loc_.back());
    conf->push_back(conf_.back());
  }
  register_module("loc", loc);
  register_module("conf", conf);
}

std::pair<torch::Tensor, torch::Tensor> SsdHeadImpl::forward(
    const std::vector<torch::Tensor>& sources) {
  if (sources.size() != loc_.size())
    Fail("SSD head: expected {} sources, got {}", loc_.size(), sources.size());
  std::vector<torch::Tensor> locs, confs;
  const int64_t batch = sources.front().size(0);
  for (size_t l = 0; l < sources.size(); ++l) {
    locs.push_back(loc_[l]->forward(sources[l]).permute({0, 2, 3, 1}).reshape({batch, -1, 4}));
    confs.push_back(conf_[l]
                        ->forward(sources[l])
                        .permute({0, 2, 3, 1})
                        .reshape({batch, -1, options_.num_classes()}));
  }
  return {at::cat(locs, 1), at::cat(confs, 1)};
}

}  // namespace scratchdet::model
