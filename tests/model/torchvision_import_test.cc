// Cross-check of the torchvision weight import: torchvision (Python, tests/model/
// torchvision_reference.py) and scratchdet run the same weights on the same input and must
// give the same feature maps. The Python side applies scratchdet's intended differences (VGG
// pool3 in ceil mode, ResNet layer3 stride 1; docs/models.md), so the networks are identical.
#include "scratchdet/model/torchvision_import.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "scratchdet/core/error.h"
#include "scratchdet/model/mac_counter.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/temp_files.h"
#include "tests/testing/error_of.h"

namespace scratchdet::model {
namespace {

std::string ReferenceDir() {
  static const std::string dir = [] {
    const std::string d = ::scratchdet::testing::TempDir() + "/torchvision_reference";
    const std::string command =
        "mkdir -p " + d + " && /usr/bin/python3 tests/model/torchvision_reference.py " + d;
    if (std::system(command.c_str()) != 0) ADD_FAILURE() << "failed: " << command;
    return d;
  }();
  return dir;
}

torch::Tensor LoadTensor(const std::string& name) {
  std::ifstream file(ReferenceDir() + "/" + name + ".pt", std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toTensor();
}

std::shared_ptr<BackboneImpl> Backbone(const std::string& name, double width = 1.0) {
  ModelConfig config;
  config.backbone = name;
  config.width_multiplier = width;
  auto backbone = BuildBackbone(config, /*seed=*/7);
  backbone->eval();
  return backbone;
}

double RelativeError(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

using ::scratchdet::testing::ErrorOf;

TEST(TorchvisionImportTest, Vgg16BnConv4_3MatchesTorchvision) {
  auto backbone = Backbone("vgg16_bn");
  const auto report = ImportTorchvisionWeights(*backbone, ReferenceDir() + "/vgg16_bn_state.pt");
  // 13 convs: weight + BN (weight, bias, running mean/var, num_batches_tracked).
  EXPECT_EQ(report.imported.size(), 13u * 6u);
  EXPECT_NE(
      std::find(report.kept_initialised.begin(), report.kept_initialised.end(), "fc6.conv.weight"),
      report.kept_initialised.end());
  torch::NoGradGuard no_grad;
  const auto sources = backbone->forward(LoadTensor("vgg16_bn_input"));
  const torch::Tensor expected = LoadTensor("vgg16_bn_conv4_3");
  ASSERT_EQ(sources[0].sizes(), expected.sizes());
  EXPECT_EQ(expected.size(2), 13);  // 100 -> 50 -> 25 -> 13: ceil-mode pool3
  EXPECT_LT(RelativeError(sources[0], expected), 1e-5);
}

TEST(TorchvisionImportTest, Vgg16Conv4_3WithL2NormMatchesTorchvision) {
  auto backbone = Backbone("vgg16");
  const auto report = ImportTorchvisionWeights(*backbone, ReferenceDir() + "/vgg16_state.pt");
  EXPECT_EQ(report.imported.size(), 13u * 2u);
  EXPECT_NE(
      std::find(report.kept_initialised.begin(), report.kept_initialised.end(), "l2norm.weight"),
      report.kept_initialised.end());
  torch::NoGradGuard no_grad;
  const auto sources = backbone->forward(LoadTensor("vgg16_input"));
  EXPECT_LT(RelativeError(sources[0], LoadTensor("vgg16_conv4_3")), 1e-5);
}

void CheckResNet(const std::string& name) {
  auto backbone = Backbone(name);
  const auto report =
      ImportTorchvisionWeights(*backbone, ReferenceDir() + "/" + name + "_state.pt");
  EXPECT_TRUE(report.kept_initialised.empty());
  EXPECT_EQ(report.ignored, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  torch::NoGradGuard no_grad;
  const auto sources = backbone->forward(LoadTensor(name + "_input"));
  const torch::Tensor layer3 = LoadTensor(name + "_layer3");
  const torch::Tensor layer4 = LoadTensor(name + "_layer4");
  ASSERT_EQ(sources[0].sizes(), layer3.sizes());
  ASSERT_EQ(sources[1].sizes(), layer4.sizes());
  EXPECT_LT(RelativeError(sources[0], layer3), 1e-5);
  EXPECT_LT(RelativeError(sources[1], layer4), 1e-5);
}

TEST(TorchvisionImportTest, ResNet18Layer3Layer4MatchTorchvision) { CheckResNet("resnet18"); }
TEST(TorchvisionImportTest, ResNet34Layer3Layer4MatchTorchvision) { CheckResNet("resnet34"); }

TEST(TorchvisionImportTest, MacCountMatchesTorchvisionForwardHooks) {
  for (const std::string name : {"resnet18", "resnet34"}) {
    std::ifstream file(ReferenceDir() + "/" + name + "_macs.txt");
    int64_t expected = 0;
    file >> expected;
    auto backbone = Backbone(name);
    torch::NoGradGuard no_grad;
    MacCounter counter;
    backbone->forward(torch::zeros({1, 3, 300, 300}));
    EXPECT_EQ(counter.macs(), expected) << name;
  }
}

TEST(TorchvisionImportTest, MismatchedBackbonesListTheKeys) {
  const std::string dir = ReferenceDir();
  auto root = Backbone("root_resnet18");
  const std::string root_error =
      ErrorOf([&] { ImportTorchvisionWeights(*root, dir + "/resnet18_state.pt"); });
  EXPECT_NE(root_error.find("backbone 'root_resnet18' has no torchvision counterpart"),
            std::string::npos)
      << root_error;

  auto narrow = Backbone("resnet18", 0.5);
  const std::string narrow_error =
      ErrorOf([&] { ImportTorchvisionWeights(*narrow, dir + "/resnet18_state.pt"); });
  EXPECT_NE(narrow_error.find("conv1.weight [64x3x7x7] vs stem.conv1.weight [32x3x7x7]"),
            std::string::npos)
      << narrow_error;

  auto resnet34 = Backbone("resnet34");
  const std::string depth_error =
      ErrorOf([&] { ImportTorchvisionWeights(*resnet34, dir + "/resnet18_state.pt"); });
  EXPECT_NE(depth_error.find("missing keys [layer1.2.conv1.weight (for layer1.2.conv1.weight)"),
            std::string::npos)
      << depth_error;
  EXPECT_NE(depth_error.find("layer3.5.conv1.weight (for layer3.5.conv1.weight)"),
            std::string::npos)
      << depth_error;

  auto vgg = Backbone("vgg16");
  const std::string vgg_error =
      ErrorOf([&] { ImportTorchvisionWeights(*vgg, dir + "/vgg16_bn_state.pt"); });
  EXPECT_NE(vgg_error.find("does not fit backbone 'vgg16'"), std::string::npos) << vgg_error;
}

TEST(TorchvisionImportTest, BadFilesAreErrors) {
  auto backbone = Backbone("resnet18", 0.25);
  const std::string dir = ReferenceDir();
  EXPECT_NE(ErrorOf([&] {
              ImportTorchvisionWeights(*backbone, dir + "/nope.pt");
            }).find("nope.pt: cannot open"),
            std::string::npos);
  { std::ofstream(dir + "/garbage.pt") << "not a zip"; }
  EXPECT_NE(ErrorOf([&] {
              ImportTorchvisionWeights(*backbone, dir + "/garbage.pt");
            }).find("garbage.pt: cannot read it with torch::pickle_load"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              ImportTorchvisionWeights(*backbone, dir + "/ordered.pt");
            }).find("torch.save(dict(model.state_dict()), path)"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              ImportTorchvisionWeights(*backbone, dir + "/resnet18_input.pt");
            }).find("expected a dict"),
            std::string::npos);
  auto root = Backbone("root_resnet18", 0.25);
  EXPECT_NE(ErrorOf([&] { ImportTorchvisionWeights(*root, dir + "/resnet18_state.pt"); }), "");
  EXPECT_NE(ErrorOf([&] {
              ModelConfig c;
              c.backbone = "root_resnet34";
              auto b = BuildBackbone(c);
              ImportTorchvisionWeights(*b, dir + "/resnet34_state.pt");
            }),
            "");
}

}  // namespace
}  // namespace scratchdet::model
