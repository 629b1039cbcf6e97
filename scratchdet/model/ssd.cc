#include "scratchdet/model/ssd.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scratchdet/box/matcher.h"
#include "scratchdet/core/error.h"
#include "scratchdet/model/init.h"

namespace scratchdet::model {

namespace {

BackboneOptions MakeBackboneOptions(const ModelConfig& config) {
  return BackboneOptions(config.backbone)
      .batch_norm(ResolveBackboneBatchNorm(config.backbone, config.bn_backbone))
      .width_multiplier(config.width_multiplier);
}

std::string Describe(const std::vector<box::FeatureMapSize>& maps) {
  std::vector<std::string> parts;
  for (const auto& m : maps) parts.push_back(fmt::format("{}x{}", m.height, m.width));
  return fmt::format("{}", fmt::join(parts, ", "));
}

bool AllNonEmpty(const std::vector<box::FeatureMapSize>& maps) {
  for (const auto& m : maps)
    if (m.height <= 0 || m.width <= 0) return false;
  return true;
}

}  // namespace

SsdDetectorImpl::SsdDetectorImpl(const ModelConfig& config) : config_(config) {
  config_.bn_backbone = ResolveBackboneBatchNorm(config.backbone, config.bn_backbone);
  prior_config_ = box::BuiltinPriorConfig(config.prior_config);
  backbone_ = register_module("backbone", CreateBackbone(MakeBackboneOptions(config_)));
  extras_ = register_module(
      "extras", CreateExtras(ExtrasOptions(config.extras, backbone_->out_channels().back())
                                 .batch_norm(config.bn_extras)
                                 .width_multiplier(config.width_multiplier)
                                 .extras_tail(config.extras_tail)));
  const std::vector<int64_t> channels = source_channels();
  if (static_cast<int>(channels.size()) != prior_config_.num_levels())
    Fail("model config: key 'prior_config' = '{}' has {} levels but the model has {} sources",
         config.prior_config, prior_config_.num_levels(), channels.size());
  std::vector<int64_t> per_cell;
  for (int l = 0; l < prior_config_.num_levels(); ++l)
    per_cell.push_back(prior_config_.priors_per_cell(l));
  head_ = register_module(
      "head",
      SsdHead(SsdHeadOptions(channels, per_cell, config.num_classes).batch_norm(config.bn_pred)));
}

std::vector<int64_t> SsdDetectorImpl::source_channels() const {
  std::vector<int64_t> channels = backbone_->out_channels();
  for (int64_t c : extras_->out_channels()) channels.push_back(c);
  return channels;
}

std::vector<box::FeatureMapSize> SsdDetectorImpl::RawSizes(int height, int width) const {
  std::vector<box::FeatureMapSize> maps = backbone_->SourceSizes(height, width);
  for (const auto& m : extras_->OutputSizes(maps.back())) maps.push_back(m);
  return maps;
}

int SsdDetectorImpl::MinimumInputSize() const {
  // Map sizes grow monotonically with the input, so the first working size is the minimum.
  for (int n = 1; n <= 4096; ++n)
    if (AllNonEmpty(RawSizes(n, n))) return n;
  Fail("model '{}': no input up to 4096 gives six non-empty maps", config_.backbone);
}

std::vector<box::FeatureMapSize> SsdDetectorImpl::FeatureMapSizes(int height, int width) const {
  const auto maps = RawSizes(height, width);
  if (!AllNonEmpty(maps))
    Fail(
        "model (backbone '{}', extras '{}', extras_tail '{}'): input {}x{} is too small, "
        "feature maps would be {}; the smallest square input is {}",
        config_.backbone, config_.extras, config_.extras_tail, height, width, Describe(maps),
        MinimumInputSize());
  return maps;
}

SsdOutput SsdDetectorImpl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3)
    Fail("SsdDetector: expected images [B, 3, H, W], got {}", fmt::join(images.sizes(), "x"));
  // Checked first so a too-small input fails with the minimum, not a LibTorch shape error.
  FeatureMapSizes(static_cast<int>(images.size(2)), static_cast<int>(images.size(3)));
  std::vector<torch::Tensor> sources = backbone_->forward(images);
  for (auto& map : extras_->forward(sources.back())) sources.push_back(map);
  SsdOutput output;
  for (const auto& s : sources)
    output.maps.push_back({static_cast<int>(s.size(2)), static_cast<int>(s.size(3))});
  std::tie(output.loc, output.conf) = head_->forward(sources);
  return output;
}

DetectionLoss SsdDetectorImpl::Loss(const torch::Tensor& images,
                                    const std::vector<torch::Tensor>& boxes,
                                    const std::vector<torch::Tensor>& labels) {
  const int height = static_cast<int>(images.size(2)), width = static_cast<int>(images.size(3));
  const SsdOutput out = forward(images);
  const torch::Tensor priors = Priors(height, width).to(images.device());
  const box::MatchTargets targets = box::MatchPriors(boxes, labels, priors, prior_config_.variances);
  // The loss in fp32 whatever the forward's precision (engine/precision.h); a no-op in fp32.
  DetectionLoss loss{
      box::MultiBoxLoss(out.loc.to(torch::kFloat), out.conf.to(torch::kFloat), targets), {}};
  // The forward's own map sizes (equal to FeatureMapSizes, tested) give the level bounds.
  const std::vector<int64_t> level_ends = box::PriorLevelEnds(prior_config_, out.maps);
  const torch::Tensor per_prior = (targets.labels > 0).sum(0).to(torch::kCPU);  // [P]
  int64_t begin = 0;
  for (int64_t end : level_ends) {
    loss.positives_per_level.push_back(per_prior.slice(0, begin, end).sum().item<double>());
    begin = end;
  }
  return loss;
}

std::vector<box::Detections> SsdDetectorImpl::Predict(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  const SsdOutput out = forward(images);
  const torch::Tensor priors =
      Priors(static_cast<int>(images.size(2)), static_cast<int>(images.size(3))).to(images.device());
  return box::PostProcess(out.loc, out.conf, priors, prior_config_.variances);
}

torch::Tensor SsdDetectorImpl::Priors(int height, int width) {
  std::lock_guard<std::mutex> lock(priors_mutex_);
  auto& cached = priors_cache_[{height, width}];
  if (!cached.defined())
    cached = box::GeneratePriors(prior_config_, FeatureMapSizes(height, width), height, width);
  return cached;
}

SsdDetector BuildDetector(const ModelConfig& config, int64_t seed) {
  SsdDetector detector(config);
  InitializeWeights(*detector, seed);
  return detector;
}

SsdDetector BuildDetector(const nlohmann::json& config_or_preset, int64_t seed) {
  return BuildDetector(ParseModelConfig(config_or_preset), seed);
}

std::shared_ptr<BackboneImpl> BuildBackbone(const ModelConfig& config, int64_t seed) {
  std::shared_ptr<BackboneImpl> backbone = CreateBackbone(MakeBackboneOptions(config));
  InitializeWeights(*backbone, seed);
  return backbone;
}

void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace scratchdet::model
