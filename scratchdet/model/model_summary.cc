#include "scratchdet/model/model_summary.h"

#include <fmt/format.h>
#include <torch/types.h>

#include "scratchdet/model/mac_counter.h"

namespace scratchdet::model {

ModelSummary SummarizeModel(SsdDetectorImpl& model, int height, int width) {
  ModelSummary summary;
  summary.config = model.config();
  summary.input_height = height;
  summary.input_width = width;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) summary.params += p.numel();
  const bool was_training = model.is_training();
  model.eval();
  SsdOutput output;
  {
    torch::NoGradGuard no_grad;
    MacCounter counter;
    output = model.forward(torch::zeros({1, 3, height, width}));
    summary.macs = counter.macs();
    summary.convs = counter.distinct_convs();
  }
  model.train(was_training);
  const std::vector<int64_t> channels = model.source_channels();
  for (size_t l = 0; l < output.maps.size(); ++l)
    summary.sources.push_back({channels[l], output.maps[l].height, output.maps[l].width});
  summary.priors = model.Priors(height, width).size(0);
  return summary;
}

nlohmann::json ToJson(const ModelSummary& summary) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : summary.sources)
    sources.push_back({{"channels", s.channels}, {"height", s.height}, {"width", s.width}});
  return {{"config", ToJson(summary.config)},
          {"input_size", {summary.input_height, summary.input_width}},
          {"params", summary.params},
          {"macs", summary.macs},
          {"gmacs", summary.macs / 1e9},
          {"sources", sources},
          {"priors", summary.priors}};
}

std::string FormatSummary(const ModelSummary& summary) {
  const ModelConfig& c = summary.config;
  std::string text = fmt::format(
      "model       {}{}\n"
      "backbone    {} (bn {}), extras {}{}, bn_extras {}, bn_pred {}, width x{}\n"
      "input       {}x{}, num_classes {}, priors {} ({})\n"
      "params      {} ({:.2f} M)\n"
      "MACs        {:.3f} G per image\n"
      "sources     ",
      c.preset.empty() ? "(custom)" : c.preset, "", c.backbone, c.bn_backbone.value_or(false),
      c.extras, " (tail " + c.extras_tail + ")", c.bn_extras,
      c.bn_pred, c.width_multiplier, summary.input_height, summary.input_width, c.num_classes,
      summary.priors, c.prior_config, summary.params, summary.params / 1e6, summary.macs / 1e9);
  for (size_t l = 0; l < summary.sources.size(); ++l)
    text += fmt::format("{}{}@{}x{}", l ? ", " : "", summary.sources[l].channels,
                        summary.sources[l].height, summary.sources[l].width);
  return text + "\n";
}

}  // namespace scratchdet::model
