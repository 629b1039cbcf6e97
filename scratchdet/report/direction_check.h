// Does our data show the paper's direction of effect? One verdict per comparison of
// paper_catalogue.h; the rules are in reports/README.md ("Statistics").
#pragma once

#include <string>
#include <vector>

#include "scratchdet/report/experiment_summary.h"
#include "scratchdet/report/paper_catalogue.h"

namespace scratchdet::report {

enum class Verdict { kAgree, kDisagree, kNotSignificant, kMissing };

const char* VerdictName(Verdict verdict);  // "agree", "disagree", "not significant", "missing"

struct DirectionResult {
  Comparison comparison;
  Verdict verdict = Verdict::kMissing;
  std::string a_text;  // our number for side a, as in the tables
  std::string b_text;
  std::string test;    // the test used and its numbers, e.g. "Welch t=3.87, df=2.94, p=0.016"
  std::string detail;  // why the verdict, in words
};

// Verdict for "a rel b":
//  - missing: a side has no ok or diverged run;
//  - a diverged run on either side: no test; a diverged run counts as worse than any finite
//    mAP, so the side with the smaller diverged fraction is better, ties broken by the mean
//    of the finite runs (both sides entirely diverged: a tie);
//  - both sides >= 2 ok runs: Welch's t-test, one-sided at `alpha`, in both directions;
//  - otherwise (n=1 on a side): no test, the sign of the difference of means.
// ">" agrees when a is significantly (or, without a test, strictly) better, disagrees when b
// is, and is "not significant" otherwise. ">=" disagrees only when b is significantly (or
// strictly) better, and agrees otherwise.
DirectionResult CheckDirection(const Comparison& comparison, const ExperimentSummary* a,
                               const ExperimentSummary* b, double alpha = 0.05);

std::vector<DirectionResult> CheckPaperDirections(const std::vector<ExperimentSummary>& summaries,
                                                  double alpha = 0.05);

}  // namespace scratchdet::report
