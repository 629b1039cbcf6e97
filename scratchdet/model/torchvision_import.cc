#include "scratchdet/model/torchvision_import.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>

#include "scratchdet/core/error.h"

namespace scratchdet::model {

namespace {

std::map<std::string, torch::Tensor> ReadStateDict(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) Fail("{}: cannot open the torchvision state dict", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  torch::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    // LibTorch 1.13 cannot rebuild the OrderedDict (with its _metadata attribute) that
    // model.state_dict() returns; a plain dict of the same tensors reads fine.
    Fail(
        "{}: cannot read it with torch::pickle_load; save the weights as a plain dict: "
        "torch.save(dict(model.state_dict()), path) (scratchdet/model/"
        "export_torchvision_weights.py converts a torchvision .pth file). Cause: {}",
        path, std::string(e.what()).substr(0, 300));
  }
  if (!value.isGenericDict()) Fail("{}: expected a dict of tensors (a state_dict)", path);
  std::map<std::string, torch::Tensor> dict;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor())
      Fail("{}: expected a dict of str -> tensor (a state_dict)", path);
    dict[item.key().toStringRef()] = item.value().toTensor();
  }
  return dict;
}

enum class Family { kResNet, kVgg };

// torchvision `features` index of the conv of convA_B in VGG16 (with BN: 3 modules per conv).
int VggFeatureIndex(int stage, int conv, bool batch_norm) {
  const int per_conv = batch_norm ? 3 : 2;
  const int stage_convs[5] = {2, 2, 3, 3, 3};
  int index = 0;
  for (int s = 1; s < stage; ++s) index += stage_convs[s - 1] * per_conv + 1;  // + pool
  return index + (conv - 1) * per_conv;
}

// Source key for one of our tensor names; nullopt when torchvision has no counterpart.
std::optional<std::string> SourceKey(const std::string& name, Family family, bool batch_norm,
                                     const std::string& features_prefix) {
  if (family == Family::kResNet) {
    static const std::string kStem = "stem.";
    if (name.rfind(kStem, 0) == 0) return name.substr(kStem.size());
    return name;
  }
  static const std::regex kVggConv(R"(conv(\d)_(\d)\.(conv|bn)\.(.+))");
  std::smatch match;
  if (!std::regex_match(name, match, kVggConv)) return std::nullopt;  // fc6, fc7, l2norm
  const int index = VggFeatureIndex(std::stoi(match[1]), std::stoi(match[2]), batch_norm) +
                    (match[3] == "bn" ? 1 : 0);
  return fmt::format("{}{}.{}", features_prefix, index, match[4].str());
}

}  // namespace

TorchvisionImportReport ImportTorchvisionWeights(BackboneImpl& backbone,
                                                 const std::string& state_dict_path) {
  const std::string& name = backbone.options().name();
  Family family;
  if (name.rfind("resnet", 0) == 0) {
    family = Family::kResNet;
  } else if (name == "vgg16" || name == "vgg16_bn") {
    family = Family::kVgg;
  } else {
    Fail(
        "{}: backbone '{}' has no torchvision counterpart (vgg16, vgg16_bn, resnet18, "
        "resnet34 have)",
        state_dict_path, name);
  }
  std::map<std::string, torch::Tensor> source = ReadStateDict(state_dict_path);

  // A full VGG state dict has "features."/"classifier." keys; `model.features` has bare ones.
  std::string features_prefix;
  for (const auto& [key, tensor] : source)
    if (key.rfind("features.", 0) == 0) features_prefix = "features.";

  TorchvisionImportReport report;
  std::map<std::string, std::string> used;  // source key -> our name
  std::vector<std::string> missing, mismatched;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  auto visit = [&](const std::string& ours, const torch::Tensor& target) {
    const auto key = SourceKey(ours, family, backbone.options().batch_norm(), features_prefix);
    if (!key) {
      report.kept_initialised.push_back(ours);
      return;
    }
    const auto it = source.find(*key);
    if (it == source.end()) {
      missing.push_back(fmt::format("{} (for {})", *key, ours));
      return;
    }
    used[*key] = ours;
    if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(fmt::format("{} [{}] vs {} [{}]", *key,
                                       fmt::join(it->second.sizes(), "x"), ours,
                                       fmt::join(target.sizes(), "x")));
      return;
    }
    copies.emplace_back(target, it->second);
    report.imported.push_back(ours);
  };
  for (const auto& item : backbone.named_parameters()) visit(item.key(), item.value());
  for (const auto& item : backbone.named_buffers()) visit(item.key(), item.value());

  // Conv biases of a BN VGG: features.I.bias -> folded into convA_B.bn.running_mean.
  std::vector<std::pair<std::string, std::string>> folded_biases;
  if (family == Family::kVgg && backbone.options().batch_norm()) {
    for (const auto& [key, ours] : std::map<std::string, std::string>(used)) {
      static const std::regex kWeight(R"((.*)\.conv\.weight)");
      std::smatch match;
      if (!std::regex_match(ours, match, kWeight)) continue;
      const std::string bias_key =
          key.substr(0, key.size() - std::string("weight").size()) + "bias";
      if (source.count(bias_key)) {
        folded_biases.emplace_back(bias_key, match[1].str() + ".bn.running_mean");
        used[bias_key] = ours;
      }
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& [key, tensor] : source) {
    if (used.count(key)) continue;
    const bool classifier =
        family == Family::kResNet ? key.rfind("fc.", 0) == 0 : key.rfind("classifier.", 0) == 0;
    if (classifier)
      report.ignored.push_back(key);
    else
      unexpected.push_back(key);
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty())
    Fail(
        "{}: does not fit backbone '{}': missing keys [{}]; shape mismatches [{}]; unexpected "
        "keys [{}]",
        state_dict_path, name, fmt::join(missing, ", "), fmt::join(mismatched, ", "),
        fmt::join(unexpected, ", "));
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
  // torchvision's vgg16_bn convs keep a bias before BN; ours drop it (BN re-centres). Folding
  // it into the running mean is exact: BN(y + b) with mean m equals BN(y) with mean m - b in
  // eval mode, and in train mode the batch mean absorbs b anyway.
  for (const auto& [key, ours] : folded_biases) {
    torch::Tensor running_mean = backbone.named_buffers()[ours];
    running_mean.sub_(source.at(key));
  }
  return report;
}

}  // namespace scratchdet::model
