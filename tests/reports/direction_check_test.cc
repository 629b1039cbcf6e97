#include "scratchdet/report/direction_check.h"

#include <gtest/gtest.h>

#include "scratchdet/report/statistics.h"

namespace scratchdet::report {
namespace {

ExperimentSummary Side(std::vector<double> values, int diverged = 0) {
  ExperimentSummary s;
  s.values = std::move(values);
  s.ok = static_cast<int>(s.values.size());
  s.diverged = diverged;
  if (!s.values.empty()) {
    s.mean = Mean(s.values);
    s.std = SampleStd(s.values);
  }
  return s;
}

const Comparison kGreater{"x", "left > right", {"A", "l"}, Relation::kGreater, {"A", "r"}};
const Comparison kAtLeast{"y", "left >= right", {"A", "l"}, Relation::kGreaterOrEqual, {"A", "r"}};

TEST(DirectionCheckTest, WelchCaseWorkedByHand) {
  // {52,54,56} vs {48,50,49}: t = sqrt(15) = 3.87, df = 50/17 = 2.94, p = 0.0158 < 0.05.
  const ExperimentSummary a = Side({52, 54, 56}), b = Side({48, 50, 49});
  const DirectionResult r = CheckDirection(kGreater, &a, &b);
  EXPECT_EQ(r.verdict, Verdict::kAgree);
  EXPECT_EQ(r.test, "Welch t=3.87, df=2.94, one-sided p=0.016 (H1: left > right), alpha 0.05");
  EXPECT_EQ(r.a_text, "54.0 ± 2.0 (n=3)");
  // The same data at alpha 0.01 is not significant; reversed it disagrees.
  EXPECT_EQ(CheckDirection(kGreater, &a, &b, 0.01).verdict, Verdict::kNotSignificant);
  EXPECT_EQ(CheckDirection(kGreater, &b, &a).verdict, Verdict::kDisagree);
  // ">=" disagrees only when the right is significantly better.
  EXPECT_EQ(CheckDirection(kAtLeast, &b, &a).verdict, Verdict::kDisagree);
  EXPECT_EQ(CheckDirection(kAtLeast, &a, &b, 0.01).verdict, Verdict::kAgree);
}

TEST(DirectionCheckTest, OneSeedIsSignOnly) {
  const ExperimentSummary a = Side({60}), b = Side({58, 59});
  const DirectionResult r = CheckDirection(kGreater, &a, &b);
  EXPECT_EQ(r.verdict, Verdict::kAgree);
  EXPECT_EQ(r.test, "n=1: no test, sign only (n=1 vs n=2)");
  const ExperimentSummary tie = Side({58.5});
  EXPECT_EQ(CheckDirection(kGreater, &tie, &b).verdict, Verdict::kNotSignificant);
  EXPECT_EQ(CheckDirection(kAtLeast, &tie, &b).verdict, Verdict::kAgree);
}

TEST(DirectionCheckTest, DivergedIsWorseThanAnyFiniteMap) {
  const ExperimentSummary diverged = Side({}, 2), poor = Side({1.0, 2.0});
  const DirectionResult r = CheckDirection(kGreater, &diverged, &poor);
  EXPECT_EQ(r.verdict, Verdict::kDisagree);
  EXPECT_NE(r.test.find("a diverged run counts as worse than any finite mAP"), std::string::npos);
  EXPECT_EQ(r.a_text, "diverged (2/2)");
  EXPECT_EQ(CheckDirection(kGreater, &poor, &diverged).verdict, Verdict::kAgree);
  // Both entirely diverged: no winner.
  EXPECT_EQ(CheckDirection(kGreater, &diverged, &diverged).verdict, Verdict::kNotSignificant);
  // Same divergence rate: the finite means decide.
  const ExperimentSummary half_hi = Side({70}, 1), half_lo = Side({60}, 1);
  EXPECT_EQ(CheckDirection(kGreater, &half_hi, &half_lo).verdict, Verdict::kAgree);
  EXPECT_EQ(CheckDirection(kGreater, &half_hi, &half_lo).detail,
            "same divergence rate, left has the higher finite mean");
}

TEST(DirectionCheckTest, MissingOrOnlyFailedSideIsMissing) {
  ExperimentSummary failed;
  failed.failed = 1;
  const ExperimentSummary ok = Side({50, 51});
  EXPECT_EQ(CheckDirection(kGreater, &failed, &ok).verdict, Verdict::kMissing);
  const DirectionResult r = CheckDirection(kGreater, &ok, nullptr);
  EXPECT_EQ(r.verdict, Verdict::kMissing);
  EXPECT_EQ(r.detail, "no ok or diverged run of A/r");
}

TEST(DirectionCheckTest, EveryPaperComparisonNamesCatalogueRows) {
  for (const Comparison& c : PaperComparisons()) {
    for (const ExperimentRef& side : {c.a, c.b}) {
      const PaperTable* table = FindPaperTable(side.table);
      ASSERT_NE(table, nullptr) << c.id;
      bool found = false;
      for (const CatalogueRow& row : table->rows) found |= row.experiment == side.experiment;
      EXPECT_TRUE(found) << c.id << " " << side.Label();
    }
  }
  EXPECT_EQ(PaperComparisons().size(), 11u);
}

}  // namespace
}  // namespace scratchdet::report
