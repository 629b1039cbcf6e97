#include "scratchdet/model/ssd.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "scratchdet/box/matcher.h"
#include "scratchdet/box/multibox_loss.h"
#include "scratchdet/box/postprocess.h"
#include "scratchdet/box/priors.h"
#include "scratchdet/core/error.h"
#include "scratchdet/model/layers.h"
#include "scratchdet/model/mac_counter.h"
#include "scratchdet/model/model_summary.h"
#include "tests/testing/error_of.h"

namespace scratchdet::model {
namespace {

using ::scratchdet::testing::ErrorOf;

struct Combination {
  std::string backbone, extras, tail;
};

// Every backbone with both extras, and every residual tail.
std::vector<Combination> AllCombinations() {
  std::vector<Combination> all;
  for (const std::string& b : BackboneNames()) {
    all.push_back({b, "ssd", "paper"});
    all.push_back({b, "ssd", "mmdet"});
    for (const std::string tail : {"paper", "released", "mmdet"})
      all.push_back({b, "residual", tail});
  }
  return all;
}

nlohmann::json Json(const Combination& c, double width) {
  return {{"backbone", c.backbone},
          {"extras", c.extras},
          {"extras_tail", c.tail},
          {"bn_extras", true},
          {"width_multiplier", width}};
}

std::string Name(const Combination& c) { return c.backbone + "+" + c.extras + "/" + c.tail; }

int64_t CountModules(torch::nn::Module& module, const std::function<bool(torch::nn::Module&)>& is) {
  int64_t n = 0;
  for (const auto& m : module.modules()) n += is(*m) ? 1 : 0;
  return n;
}

int64_t BatchNorms(torch::nn::Module& module) {
  return CountModules(module, [](torch::nn::Module& m) {
    return dynamic_cast<torch::nn::BatchNorm2dImpl*>(&m) != nullptr;
  });
}

int64_t Params(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

TEST(SsdDetectorTest, EveryCombinationGivesThePaperMapsAt300) {
  torch::NoGradGuard no_grad;
  for (const Combination& c : AllCombinations()) {
    SCOPED_TRACE(Name(c));
    SsdDetector model = BuildDetector(Json(c, 0.125));
    model->eval();
    const SsdOutput out = model->forward(torch::zeros({1, 3, 300, 300}));
    std::vector<int> expected = {38, 19, 10, 5, 3, 1};
    int64_t priors = 8732;
    if (c.extras == "residual" && c.tail == "released") {
      expected = {38, 19, 10, 5, 5, 5};
      priors = 8892;
    } else if (c.tail == "mmdet") {
      expected = {38, 19, 10, 5, 3, 3};
      priors = 8764;
    }
    ASSERT_EQ(out.maps.size(), 6u);
    const auto arithmetic = model->FeatureMapSizes(300, 300);
    for (int l = 0; l < 6; ++l) {
      EXPECT_EQ(out.maps[l].height, expected[l]) << "level " << l;
      EXPECT_EQ(out.maps[l].width, expected[l]) << "level " << l;
      EXPECT_EQ(arithmetic[l].height, expected[l]) << "level " << l;
    }
    EXPECT_EQ(out.loc.sizes(), (std::vector<int64_t>{1, priors, 4}));
    EXPECT_EQ(out.conf.sizes(), (std::vector<int64_t>{1, priors, 21}));
    EXPECT_EQ(model->Priors(300, 300).size(0), priors);
  }
}

TEST(SsdDetectorTest, SourceChannelsFollowThePaper) {
  auto channels = [](const std::string& preset) {
    return BuildDetector(preset)->source_channels();
  };
  EXPECT_EQ(channels("ssd300_vgg16"), (std::vector<int64_t>{512, 1024, 512, 256, 256, 256}));
  EXPECT_EQ(channels("scratchdet300"), (std::vector<int64_t>{256, 512, 128, 128, 128, 128}));
  EXPECT_EQ(channels("scratchdet300_root18"), (std::vector<int64_t>{256, 512, 512, 256, 256, 256}));
  EXPECT_EQ(BuildDetector(nlohmann::json{{"backbone", "resnet18_a"}, {"width_multiplier", 0.25}})
                ->source_channels(),
            (std::vector<int64_t>{64, 128, 128, 64, 64, 64}));
}

TEST(SsdDetectorTest, PresetsGive8732PriorsAnd8892WithTheReleasedTail) {
  EXPECT_EQ(BuildDetector("ssd300_vgg16")->Priors(300, 300).size(0), 8732);
  EXPECT_EQ(BuildDetector("scratchdet300")->Priors(300, 300).size(0), 8732);
  EXPECT_EQ(
      BuildDetector(nlohmann::json{{"preset", "scratchdet300"}, {"extras_tail", "released"}})
          ->Priors(300, 300)
          .size(0),
      8892);
}

TEST(SsdDetectorTest, ShapeArithmeticMatchesTheForwardAtOtherSizes) {
  torch::NoGradGuard no_grad;
  for (const Combination& c : AllCombinations()) {
    SCOPED_TRACE(Name(c));
    SsdDetector model = BuildDetector(Json(c, 0.125));
    model->eval();
    const int min = model->MinimumInputSize();
    for (auto [h, w] :
         std::vector<std::pair<int, int>>{{min, min}, {min + 3, min + 44}, {301, 333}}) {
      const SsdOutput out = model->forward(torch::zeros({1, 3, h, w}));
      const auto arithmetic = model->FeatureMapSizes(h, w);
      for (int l = 0; l < 6; ++l) {
        EXPECT_EQ(out.maps[l].height, arithmetic[l].height) << h << "x" << w << " level " << l;
        EXPECT_EQ(out.maps[l].width, arithmetic[l].width) << h << "x" << w << " level " << l;
      }
      EXPECT_EQ(out.loc.size(1), model->Priors(h, w).size(0));
    }
    // One pixel less than the minimum: a clear error that states the minimum.
    const std::string error = ErrorOf([&] {
      model->forward(torch::zeros({1, 3, min - 1, min - 1}));
    });
    EXPECT_NE(error.find(fmt::format("the smallest square input is {}", min)), std::string::npos)
        << error;
  }
}

TEST(SsdDetectorTest, MiniProfileSizes) {
  // The paper's tails need a 5x5 map before the last two 3x3/p0 layers (input >= 268
  // for VGG16: pool4 floors 33 to 16 below it); the released/mmdet residual tails work at the
  // mini profile's 128.
  EXPECT_EQ(BuildDetector(nlohmann::json{{"preset", "ssd300_vgg16"}, {"width_multiplier", 0.25}})
                ->MinimumInputSize(),
            268);
  torch::NoGradGuard no_grad;
  SsdDetector model = BuildDetector(nlohmann::json{
      {"preset", "scratchdet300"}, {"extras_tail", "released"}, {"width_multiplier", 0.25}});
  model->eval();
  const SsdOutput out = model->forward(torch::zeros({2, 3, 128, 128}));
  const std::vector<int> expected = {16, 8, 4, 2, 2, 2};
  for (int l = 0; l < 6; ++l) EXPECT_EQ(out.maps[l].height, expected[l]);
  EXPECT_EQ(out.loc.size(1), 16 * 16 * 4 + 64 * 6 + 16 * 6 + 4 * 6 + 4 * 4 + 4 * 4);
  EXPECT_EQ(out.conf.size(0), 2);
  const std::string error = ErrorOf([] {
    BuildDetector(nlohmann::json{{"preset", "scratchdet300"}, {"width_multiplier", 0.25}})
        ->forward(torch::zeros({1, 3, 128, 128}));
  });
  EXPECT_NE(error.find("input 128x128 is too small"), std::string::npos) << error;
}

TEST(SsdDetectorTest, MiniGeometryAt96IsTheSameForBothExtrasStyles) {
  // The mini profile (docs/mini.md): 96 px, mmdet tail, ssd_mini96 priors. Every model family
  // of the paper's tables must give maps 12,6,3,2,1,1 and 878 priors there.
  torch::NoGradGuard no_grad;
  for (const char* preset : {"scratchdet300", "scratchdet300_root18", "ssd300_vgg16",
                             "ssd300_vgg16_bn"}) {
    SCOPED_TRACE(preset);
    SsdDetector model = BuildDetector(nlohmann::json{{"preset", preset},
                                                     {"extras_tail", "mmdet"},
                                                     {"prior_config", "ssd_mini96"},
                                                     {"width_multiplier", 0.25}});
    model->eval();
    const SsdOutput out = model->forward(torch::zeros({1, 3, 96, 96}));
    const std::vector<int> expected = {12, 6, 3, 2, 1, 1};
    for (int l = 0; l < 6; ++l) EXPECT_EQ(out.maps[l].height, expected[l]) << "level " << l;
    EXPECT_EQ(out.loc.size(1), 12 * 12 * 4 + 36 * 6 + 9 * 6 + 4 * 6 + 4 + 4);
  }
}

// The mini geometry (96 px, maps 12, 6, 3, 2, 1, 1) at a small width.
SsdDetector MiniDetector() {
  return BuildDetector(nlohmann::json{{"preset", "scratchdet300"},
                                      {"extras_tail", "mmdet"},
                                      {"prior_config", "ssd_mini96"},
                                      {"width_multiplier", 0.25}},
                       /*seed=*/5);
}

TEST(SsdDetectorTest, LossIsMatchingAndMultiBoxOnTheForwardWithPositivesPerLevel) {
  SsdDetector model = MiniDetector();
  model->eval();  // the same outputs for both forwards
  torch::manual_seed(1);
  const torch::Tensor images = torch::randn({2, 3, 96, 96});
  // A large box (top levels), a small one (12x12 map) and an image with two boxes.
  const std::vector<torch::Tensor> boxes = {
      torch::tensor({{0.1f, 0.1f, 0.9f, 0.95f}}),
      torch::tensor({{0.05f, 0.05f, 0.2f, 0.18f}, {0.5f, 0.4f, 0.8f, 0.9f}})};
  const std::vector<torch::Tensor> labels = {torch::tensor({3}, torch::kInt64),
                                             torch::tensor({1, 7}, torch::kInt64)};
  const DetectionLoss loss = model->Loss(images, boxes, labels);

  const SsdOutput out = model->forward(images);
  const box::MatchTargets targets =
      box::MatchPriors(boxes, labels, model->Priors(96, 96), model->prior_config().variances);
  const box::MultiBoxLossOutput expected = box::MultiBoxLoss(out.loc, out.conf, targets);
  EXPECT_TRUE(torch::equal(loss.terms.total, expected.total));
  EXPECT_TRUE(torch::equal(loss.terms.loc, expected.loc));
  EXPECT_TRUE(torch::equal(loss.terms.conf, expected.conf));
  EXPECT_EQ(loss.terms.num_positives, expected.num_positives);
  EXPECT_GE(loss.terms.num_positives, 3);  // every object gets at least its best prior

  // Per level: the positives of each level's prior range, summing to all positives.
  ASSERT_EQ(loss.positives_per_level.size(), 6u);
  const std::vector<int64_t> ends =
      box::PriorLevelEnds(model->prior_config(), model->FeatureMapSizes(96, 96));
  double sum = 0;
  int64_t begin = 0;
  for (size_t l = 0; l < ends.size(); ++l) {
    const double positives =
        (targets.labels.slice(1, begin, ends[l]) > 0).sum().item<double>();
    EXPECT_EQ(loss.positives_per_level[l], positives) << "level " << l;
    sum += positives;
    begin = ends[l];
  }
  EXPECT_EQ(sum, static_cast<double>(loss.terms.num_positives));
  EXPECT_GT(loss.positives_per_level[0], 0.0);  // the small box lives on the 12x12 map
}

TEST(SsdDetectorTest, PredictIsThePapersPostProcessingOfTheForward) {
  SsdDetector model = MiniDetector();
  model->eval();
  torch::manual_seed(2);
  const torch::Tensor images = torch::randn({2, 3, 96, 96});
  const std::vector<box::Detections> predicted = model->Predict(images);
  torch::NoGradGuard no_grad;
  const SsdOutput out = model->forward(images);
  const std::vector<box::Detections> expected =
      box::PostProcess(out.loc, out.conf, model->Priors(96, 96), model->prior_config().variances);
  ASSERT_EQ(predicted.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(torch::equal(predicted[i].boxes, expected[i].boxes));
    EXPECT_TRUE(torch::equal(predicted[i].scores, expected[i].scores));
    EXPECT_TRUE(torch::equal(predicted[i].labels, expected[i].labels));
    EXPECT_FALSE(predicted[i].scores.requires_grad());
  }
  EXPECT_GT(predicted[0].scores.numel(), 0);  // an untrained model scores above 0.01
}

TEST(SsdDetectorTest, ForwardBackwardGivesFiniteGradientsEverywhere) {
  for (const Combination& c : AllCombinations()) {
    if (c.extras == "residual" && c.tail != "paper") continue;
    SCOPED_TRACE(Name(c));
    nlohmann::json json = Json(c, 0.125);
    json["bn_pred"] = true;
    SsdDetector model = BuildDetector(json, /*seed=*/3);
    model->train();
    const int size = model->MinimumInputSize();
    const SsdOutput out = model->forward(torch::randn({2, 3, size, size}));
    (out.loc.pow(2).mean() + out.conf.logsumexp(2).mean()).backward();
    for (const auto& p : model->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_TRUE(p.value().grad().isfinite().all().item<bool>()) << p.key();
    }
  }
}

TEST(SsdDetectorTest, BatchNormSwitchesChangeTheModuleList) {
  auto bn = [](nlohmann::json json) {
    json["width_multiplier"] = 0.125;
    return BatchNorms(*BuildDetector(json));
  };
  // VGG16: 13 convs + fc6 + fc7 = 15; SSD extras: 8 convs; head: 6 loc + 6 conf.
  EXPECT_EQ(bn({{"backbone", "vgg16"}}), 0);
  EXPECT_EQ(bn({{"backbone", "vgg16"}, {"bn_backbone", true}}), 15);
  EXPECT_EQ(bn({{"backbone", "vgg16_bn"}}), 15);
  EXPECT_EQ(bn({{"backbone", "vgg16"}, {"bn_extras", true}}), 8);
  EXPECT_EQ(bn({{"backbone", "vgg16"}, {"bn_pred", true}}), 12);
  EXPECT_EQ(
      bn({{"backbone", "vgg16"}, {"bn_backbone", true}, {"bn_extras", true}, {"bn_pred", true}}),
      35);
  // ResNet-18: stem 1 + 8 blocks x 2 + 3 projections = 20; Root-ResNet-18: 3 stem convs.
  EXPECT_EQ(bn({{"backbone", "resnet18"}}), 20);
  EXPECT_EQ(bn({{"backbone", "root_resnet18"}}), 22);
  // Residual extras: 4 blocks x 2 + 4 projections; the released tail's last two are identity.
  EXPECT_EQ(bn({{"backbone", "resnet18"}, {"extras", "residual"}, {"bn_extras", true}}), 32);
  EXPECT_EQ(bn({{"backbone", "resnet18"},
                {"extras", "residual"},
                {"bn_extras", true},
                {"extras_tail", "released"}}),
            30);
  // L2Norm only without BN in the VGG backbone (paper.md).
  auto has_l2norm = [](const nlohmann::json& json) {
    return CountModules(*BuildDetector(json), [](torch::nn::Module& m) {
             return dynamic_cast<L2NormImpl*>(&m) != nullptr;
           }) == 1;
  };
  EXPECT_TRUE(has_l2norm("ssd300_vgg16"));
  EXPECT_FALSE(has_l2norm("ssd300_vgg16_bn"));
}

// torchvision's counts, from
//   /usr/bin/python3 -c "import torchvision.models as m; n=lambda x: sum(p.numel() for p in
//   x.parameters()); r18=m.resnet18(); r34=m.resnet34(); print(n(m.vgg16().features),
//   n(m.vgg16_bn().features), n(r18)-n(r18.fc), n(r34)-n(r34.fc))"
// -> 14714688 14723136 11176512 21284672
TEST(SsdDetectorTest, TrunkParameterCountsEqualTorchvision) {
  auto backbone_params = [](const std::string& name, bool convs_only) {
    ModelConfig config;
    config.backbone = name;
    auto backbone = BuildBackbone(config);
    int64_t n = 0;
    for (const auto& p : backbone->named_parameters())
      if (!convs_only || p.key().rfind("conv", 0) == 0) n += p.value().numel();
    return n;
  };
  EXPECT_EQ(backbone_params("resnet18", false), 11176512);
  EXPECT_EQ(backbone_params("resnet18_a", false), 11176512);
  EXPECT_EQ(backbone_params("resnet18_b", false), 11176512);
  EXPECT_EQ(backbone_params("resnet34", false), 21284672);
  EXPECT_EQ(backbone_params("vgg16", true), 14714688);
  // vgg16_bn's convs drop torchvision's bias before BN (64*2+128*2+256*3+512*6 = 4224).
  EXPECT_EQ(backbone_params("vgg16_bn", true), 14723136 - 4224);
}

TEST(SsdDetectorTest, BadConfigsNameTheKey) {
  const std::string unknown = ErrorOf([] {
    BuildDetector(nlohmann::json{{"backbone", "resnet50"}});
  });
  EXPECT_NE(unknown.find("'backbone' has unknown value 'resnet50'; known: resnet18, resnet18_a"),
            std::string::npos)
      << unknown;
  EXPECT_NE(unknown.find("root_resnet34"), std::string::npos) << unknown;
  EXPECT_NE(ErrorOf([] {
              BuildDetector(nlohmann::json{{"backbone", "resnet18"}, {"bn_backbone", false}});
            }).find("'bn_backbone' = false, but backbone 'resnet18' always has BatchNorm"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              BuildDetector(nlohmann::json{{"backbone", "vgg16_bn"}, {"bn_backbone", false}});
            }).find("'bn_backbone'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              BuildDetector(nlohmann::json{{"prior_config", "ssd512_voc"}});
            }).find("'prior_config' = 'ssd512_voc' has 7 levels but the model has 6 sources"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              BuildDetector(nlohmann::json{{"width_multiplier", 0.0}});
            }).find("'width_multiplier'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              BuildDetector(nlohmann::json{{"width_multiplier", 0.125}})
                  ->forward(torch::zeros({1, 1, 300, 300}));
            }).find("expected images [B, 3, H, W], got 1x1x300x300"),
            std::string::npos);
}

TEST(SsdDetectorTest, HeadFlatteningFollowsThePriorOrder) {
  torch::NoGradGuard no_grad;
  SsdDetector model = BuildDetector(nlohmann::json{
      {"preset", "scratchdet300_root18"}, {"width_multiplier", 0.125}, {"num_classes", 3}});
  model->eval();
  const torch::Tensor x = torch::randn({2, 3, 300, 300});
  const SsdOutput out = model->forward(x);
  const torch::Tensor source1 = model->backbone()->forward(x)[1];  // 19x19, 6 priors per cell
  auto modules = model->named_modules();
  auto conv = [&](const std::string& name) {
    return modules[name]->as<ConvBlock>()->forward(source1);  // [2, 6*k, 19, 19]
  };
  const torch::Tensor conf = conv("head.conf.1");
  const torch::Tensor loc = conv("head.loc.1");
  const int64_t offset = 38 * 38 * 4;
  // Prior (row i, column j, box a) of level 1 is at offset + (i*19 + j)*6 + a.
  for (auto [i, j, a] : std::vector<std::tuple<int, int, int>>{{0, 0, 0}, {3, 7, 5}, {18, 18, 2}}) {
    const int64_t p = offset + (i * 19 + j) * 6 + a;
    for (int k = 0; k < 3; ++k)
      EXPECT_FLOAT_EQ(out.conf[1][p][k].item<float>(), conf[1][a * 3 + k][i][j].item<float>());
    for (int k = 0; k < 4; ++k)
      EXPECT_FLOAT_EQ(out.loc[1][p][k].item<float>(), loc[1][a * 4 + k][i][j].item<float>());
  }
}

TEST(SsdDetectorTest, PriorsComeFromTheRealSizesAndAreCached) {
  SsdDetector model = BuildDetector(nlohmann::json{
      {"preset", "scratchdet300"}, {"extras_tail", "released"}, {"width_multiplier", 0.125}});
  const torch::Tensor priors = model->Priors(320, 288);
  const auto maps = model->FeatureMapSizes(320, 288);
  EXPECT_TRUE(torch::equal(priors, box::GeneratePriors(model->prior_config(), maps, 320, 288)));
  EXPECT_EQ(model->Priors(320, 288).data_ptr(), priors.data_ptr());
}

TEST(SsdDetectorTest, InitialisationIsSeededAndPerPart) {
  auto flat = [](SsdDetector& m) {
    std::vector<torch::Tensor> all;
    for (const auto& p : m->parameters()) all.push_back(p.flatten());
    return torch::cat(all);
  };
  const nlohmann::json json = {{"preset", "scratchdet300"}, {"width_multiplier", 0.25}};
  torch::manual_seed(11);
  const torch::Tensor before = torch::rand({4});
  SsdDetector a = BuildDetector(json, 5);
  SsdDetector b = BuildDetector(json, 5);
  SsdDetector c = BuildDetector(json, 6);
  EXPECT_TRUE(torch::equal(flat(a), flat(b)));
  EXPECT_FALSE(torch::equal(flat(a), flat(c)));
  // The global generator is not consumed by the seeded initialisation.
  torch::manual_seed(11);
  const torch::Tensor reference = torch::rand({4});
  torch::manual_seed(11);
  BuildDetector(json, 5);
  (void)before;
  // Construction draws from the global RNG (LibTorch's default init), so only check that
  // InitializeWeights itself does not.
  torch::manual_seed(11);
  InitializeWeights(*a, 5);
  EXPECT_TRUE(torch::equal(torch::rand({4}), reference));

  // ResNet parts: Kaiming normal, fan_out, ReLU gain -> std sqrt(2 / (Cout * 9)).
  auto params = SsdDetector(BuildDetector("scratchdet300"))->named_parameters();
  const torch::Tensor w = params["backbone.layer3.0.conv2.weight"];  // [256, 256, 3, 3]
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (256 * 9)),
              0.02 * std::sqrt(2.0 / (256 * 9)));
  EXPECT_NEAR(params["extras.block1.conv1.weight"].std().item<double>(), std::sqrt(2.0 / (128 * 9)),
              0.05 * std::sqrt(2.0 / (128 * 9)));
  // SSD parts: Xavier uniform, bound sqrt(6 / (fan_in + fan_out)); std = bound / sqrt(3).
  auto vgg = SsdDetector(BuildDetector("ssd300_vgg16"))->named_parameters();
  const torch::Tensor v = vgg["backbone.conv4_2.conv.weight"];  // [512, 512, 3, 3]
  const double bound = std::sqrt(6.0 / (512 * 9 * 2));
  EXPECT_LE(v.abs().max().item<double>(), bound);
  EXPECT_NEAR(v.std().item<double>(), bound / std::sqrt(3.0), 0.02 * bound);
  EXPECT_EQ(vgg["backbone.conv4_2.conv.bias"].abs().max().item<double>(), 0.0);
  EXPECT_EQ(vgg["backbone.l2norm.weight"].min().item<double>(), 20.0);
  const double head_bound = std::sqrt(6.0 / (512 * 9 + 16 * 9));
  EXPECT_LE(vgg["head.loc.0.conv.weight"].abs().max().item<double>(), head_bound);
  EXPECT_EQ(params["head.conf.0.bn.weight"].min().item<double>(), 1.0);
}

TEST(SsdDetectorTest, MacCounterHandCase) {
  ConvBlock conv(ConvBlockOptions(3, 8, 3).padding(1));
  MacCounter counter;
  conv->forward(torch::zeros({2, 3, 10, 10}));
  EXPECT_EQ(counter.macs(), 2 * 8 * 10 * 10 * 3 * 9);
}

TEST(SsdDetectorTest, SummaryCountsEveryConvAndReportsSources) {
  SsdDetector model = BuildDetector("scratchdet300");
  const ModelSummary summary = SummarizeModel(*model, 300, 300);
  const int64_t convs = CountModules(*model, [](torch::nn::Module& m) {
    return dynamic_cast<torch::nn::Conv2dImpl*>(&m) != nullptr;
  });
  EXPECT_EQ(summary.convs, convs);
  EXPECT_EQ(summary.params, Params(model->parameters()));
  EXPECT_EQ(summary.priors, 8732);
  EXPECT_TRUE(model->is_training());  // restored
  const nlohmann::json json = ToJson(summary);
  EXPECT_EQ(json.at("params").get<int64_t>(), summary.params);
  EXPECT_NEAR(json.at("gmacs").get<double>(), summary.macs / 1e9, 1e-12);
  EXPECT_EQ(json.at("priors").get<int64_t>(), 8732);
  ASSERT_EQ(json.at("sources").size(), 6u);
  EXPECT_EQ(json.at("sources")[0],
            (nlohmann::json{{"channels", 256}, {"height", 38}, {"width", 38}}));
  EXPECT_EQ(json.at("sources")[5],
            (nlohmann::json{{"channels", 128}, {"height", 1}, {"width", 1}}));
}

}  // namespace
}  // namespace scratchdet::model
