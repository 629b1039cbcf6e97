// Every experiment JSON resolves under every profile, and its model builds at the resolved
// input size with one prior level per feature map: a broken paper config cannot land.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "scratchdet/box/priors.h"
#include "scratchdet/core/error.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/experiment.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"
#include "scratchdet/report/paper_catalogue.h"

namespace scratchdet::engine {
namespace {

std::vector<std::string> ExperimentFiles() {
  std::vector<std::string> files;
  for (const char* table : {"a", "b", "c", "d", "e"}) {
    const std::string dir = std::string("experiments/table_") + table;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(AllExperimentsTest, EveryExperimentResolvesAndBuildsUnderEveryProfile) {
  const std::vector<std::string> files = ExperimentFiles();
  ASSERT_GE(files.size(), 25u) << "experiment JSONs not found in the runfiles";
  for (const std::string& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const Experiment experiment = ParseExperiment(text.str());
    for (const std::string& profile : ProfileNames()) {
      SCOPED_TRACE(file + " --profile " + profile);
      ExperimentRequest request;
      request.profile = profile;
      nlohmann::json resolved = ResolveConfig(experiment, request, 0);
      // The paper profile's pretrained rows need the user's ImageNet folder (README,
      // "Pretrained vs scratch"); stand in a path for it.
      if (resolved["pretrain"]["enabled"] == true && resolved["pretrain"]["path"] == "")
        resolved["pretrain"]["path"] = "/data/imagenet/train";
      TrainConfig config;
      ASSERT_NO_THROW(config = ParseTrainConfig(resolved));
      const model::ModelConfig model_config = ResolveModelConfig(config, 11);
      model::SsdDetector detector{nullptr};
      ASSERT_NO_THROW(detector = model::BuildDetector(model_config, 0));
      std::vector<box::FeatureMapSize> maps;
      ASSERT_NO_THROW(maps = detector->FeatureMapSizes(config.input_size, config.input_size));
      ASSERT_EQ(static_cast<int>(maps.size()), detector->prior_config().num_levels());
      for (const auto& m : maps) EXPECT_GT(m.height * m.width, 0);
      const torch::Tensor priors = detector->Priors(config.input_size, config.input_size);
      EXPECT_EQ(priors.size(0), box::CountPriors(detector->prior_config(), maps));
      EXPECT_EQ(box::PriorLevelEnds(detector->prior_config(), maps).back(), priors.size(0));
    }
  }
}

TEST(AllExperimentsTest, AnyModelKeyCanBeOverriddenAndTyposAreCaughtAtResolution) {
  std::ifstream in("experiments/table_d/scratchdet300.json");
  std::stringstream text;
  text << in.rdbuf();
  const Experiment experiment = ParseExperiment(text.str());
  ExperimentRequest request;
  request.profile = "mini";
  request.overrides = {"model_overrides.bn_pred=false", "model_overrides.prior_config=ssd300_coco"};
  const TrainConfig config = ParseTrainConfig(ResolveConfig(experiment, request, 0));
  EXPECT_EQ(config.model_overrides.at("bn_pred"), false);
  EXPECT_EQ(config.model_overrides.at("prior_config"), "ssd300_coco");
  request.overrides = {"model_overrides.bn_prd=false"};
  EXPECT_THROW(ParseTrainConfig(ResolveConfig(experiment, request, 0)), Error);
  request.overrides = {"model_overrides.prior_config=nope"};
  EXPECT_THROW(ParseTrainConfig(ResolveConfig(experiment, request, 0)), Error);
}

// The paper's reference numbers are written once, in the experiment JSONs: the report's
// catalogue (report/paper_catalogue.cc) must hold the same number for every row, and every
// catalogue row must be an experiment.
TEST(AllExperimentsTest, TheReportCataloguesPaperValuesAreTheExperimentsOwn) {
  std::map<std::pair<std::string, std::string>, nlohmann::json> paper_values;
  for (const std::string& file : ExperimentFiles()) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const Experiment e = ParseExperiment(text.str());
    paper_values[{e.table, e.name}] = e.paper_value;
  }
  size_t rows = 0;
  for (const report::PaperTable& table : report::PaperTables()) {
    for (const report::CatalogueRow& row : table.rows) {
      SCOPED_TRACE(table.id + "/" + row.experiment);
      ++rows;
      const auto found = paper_values.find({table.id, row.experiment});
      ASSERT_NE(found, paper_values.end()) << "catalogue row without an experiment JSON";
      if (row.paper_value)
        EXPECT_EQ(found->second, nlohmann::json(*row.paper_value));
      else
        EXPECT_EQ(found->second, "n/r");
    }
  }
  EXPECT_EQ(rows, paper_values.size()) << "experiment JSONs missing from the catalogue";
}

}  // namespace
}  // namespace scratchdet::engine
