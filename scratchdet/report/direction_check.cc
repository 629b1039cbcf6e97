#include "scratchdet/report/direction_check.h"

#include <fmt/format.h>

#include "scratchdet/report/statistics.h"

namespace scratchdet::report {
namespace {

// Which side the data favours: +1 a, -1 b, 0 neither.
Verdict FromPreference(int preference, Relation relation) {
  if (preference < 0) return Verdict::kDisagree;
  if (preference > 0) return Verdict::kAgree;
  return relation == Relation::kGreaterOrEqual ? Verdict::kAgree : Verdict::kNotSignificant;
}

std::string FormatP(double p) {
  return p < 0.001 ? fmt::format("{:.1e}", p) : fmt::format("{:.3f}", p);
}

}  // namespace

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAgree:
      return "agree";
    case Verdict::kDisagree:
      return "disagree";
    case Verdict::kNotSignificant:
      return "not significant";
    case Verdict::kMissing:
      return "missing";
  }
  return "?";
}

DirectionResult CheckDirection(const Comparison& comparison, const ExperimentSummary* a,
                               const ExperimentSummary* b, double alpha) {
  DirectionResult result;
  result.comparison = comparison;
  result.a_text = a ? a->OursText() : "missing";
  result.b_text = b ? b->OursText() : "missing";
  const auto usable = [](const ExperimentSummary* s) { return s && s->ok + s->diverged > 0; };
  if (!usable(a) || !usable(b)) {
    result.verdict = Verdict::kMissing;
    result.test = "—";
    std::vector<std::string> missing;
    if (!usable(a)) missing.push_back(comparison.a.Label());
    if (!usable(b)) missing.push_back(comparison.b.Label());
    result.detail = fmt::format("no ok or diverged run of {}", fmt::join(missing, " and "));
    return result;
  }
  const Relation relation = comparison.relation;

  if (a->diverged > 0 || b->diverged > 0) {
    const double fa = static_cast<double>(a->diverged) / (a->ok + a->diverged);
    const double fb = static_cast<double>(b->diverged) / (b->ok + b->diverged);
    int preference = fa < fb ? 1 : fa > fb ? -1 : 0;
    if (preference == 0 && !a->values.empty() && !b->values.empty())
      preference = a->mean > b->mean ? 1 : a->mean < b->mean ? -1 : 0;
    result.verdict = FromPreference(preference, relation);
    result.test = fmt::format(
        "no test: diverged runs ({} {}/{}, {} {}/{}); a diverged run counts as worse than any "
        "finite mAP",
        comparison.a.Label(), a->diverged, a->ok + a->diverged, comparison.b.Label(), b->diverged,
        b->ok + b->diverged);
    if (fa != fb)
      result.detail = fmt::format("{} diverges less often", preference > 0 ? "left" : "right");
    else if (preference != 0)
      result.detail = fmt::format("same divergence rate, {} has the higher finite mean",
                                  preference > 0 ? "left" : "right");
    else
      result.detail = "same divergence rate and no finite difference";
    return result;
  }

  if (a->values.size() >= 2 && b->values.size() >= 2) {
    const WelchTest a_better = WelchTTest(a->values, b->values);
    const double p_a = a_better.p_greater;
    const double p_b = WelchTTest(b->values, a->values).p_greater;
    const int preference = p_a < alpha ? 1 : p_b < alpha ? -1 : 0;
    result.verdict = FromPreference(preference, relation);
    result.test = fmt::format(
        "Welch t={:.2f}, df={:.2f}, one-sided p={} (H1: left > right), "
        "alpha {}",
        a_better.t, a_better.df, FormatP(p_a), alpha);
    if (preference > 0)
      result.detail = "left significantly better";
    else if (preference < 0)
      result.detail = fmt::format("right significantly better, p={}", FormatP(p_b));
    else
      result.detail = relation == Relation::kGreaterOrEqual
                          ? "no significant difference: >= holds unless the right is "
                            "significantly better"
                          : "no significant difference";
    return result;
  }

  const double diff = a->mean - b->mean;
  const int preference = diff > 0 ? 1 : diff < 0 ? -1 : 0;
  result.verdict = FromPreference(preference, relation);
  result.test =
      fmt::format("n=1: no test, sign only (n={} vs n={})", a->values.size(), b->values.size());
  result.detail = fmt::format("difference {:+.1f} points", diff);
  return result;
}

std::vector<DirectionResult> CheckPaperDirections(const std::vector<ExperimentSummary>& summaries,
                                                  double alpha) {
  std::vector<DirectionResult> results;
  for (const Comparison& c : PaperComparisons())
    results.push_back(CheckDirection(c, FindSummary(summaries, c.a.table, c.a.experiment),
                                     FindSummary(summaries, c.b.table, c.b.experiment), alpha));
  return results;
}

}  // namespace scratchdet::report
