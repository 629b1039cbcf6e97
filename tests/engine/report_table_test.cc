#include "scratchdet/engine/report_table.h"

#include <gtest/gtest.h>

namespace scratchdet::engine {
namespace {

TEST(ReportTableTest, PerClassTableWithUndefinedClassAndMean) {
  const nlohmann::json metrics = {
      {"per_class_ap", {{"circle", 0.5}, {"square", nullptr}, {"triangle", 0.25}}},
      {"mAP", 0.375}};
  // Name column as wide as the longest name ("triangle"), two spaces, AP right-aligned in 6.
  const std::string table = FormatMetricsTable(metrics);
  EXPECT_NE(table.find("circle     50.00"), std::string::npos) << table;
  EXPECT_NE(table.find("square       n/a"), std::string::npos) << table;
  EXPECT_NE(table.find("(1 class(es) without ground truth: excluded from the mean)"),
            std::string::npos);
  EXPECT_NE(table.find("mAP        37.50"), std::string::npos) << table;
}

TEST(ReportTableTest, CocoUndefinedStatsAreNotPercentages) {
  const nlohmann::json metrics = {{"coco", {{"AP", 0.1234}, {"APl", -1.0}}}, {"mAP", 0.1234}};
  const std::string table = FormatMetricsTable(metrics);
  EXPECT_NE(table.find("COCO AP      12.34"), std::string::npos) << table;
  EXPECT_NE(table.find("COCO APl       n/a"), std::string::npos) << table;
  EXPECT_EQ(table.find("-100"), std::string::npos);
}

TEST(ReportTableTest, DivergedRunHasNoMean) {
  EXPECT_NE(FormatMetricsTable({{"mAP", nullptr}}).find("mAP       n/a"), std::string::npos);
}

}  // namespace
}  // namespace scratchdet::engine
