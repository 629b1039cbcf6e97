#include "scratchdet/eval/voc_ap.h"

#include <algorithm>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {

std::string ToString(VocApMetric metric) {
  return metric == VocApMetric::kVoc07 ? "voc07" : "area";
}

VocApMetric ParseVocApMetric(const std::string& name) {
  if (name == "voc07") return VocApMetric::kVoc07;
  if (name == "area") return VocApMetric::kArea;
  Fail("unknown AP metric '{}': expected voc07 or area", name);
}

namespace {

double ElevenPoint(const std::vector<double>& recall, const std::vector<double>& precision) {
  double sum = 0.0;
  for (int k = 0; k <= 10; ++k) {
    const double t = k / 10.0;
    double best = 0.0;
    for (size_t i = 0; i < recall.size(); ++i)
      if (recall[i] >= t) best = std::max(best, precision[i]);
    sum += best;
  }
  return sum / 11.0;
}

double AreaUnderEnvelope(const std::vector<double>& recall, const std::vector<double>& precision) {
  std::vector<double> r = {0.0};
  r.insert(r.end(), recall.begin(), recall.end());
  r.push_back(1.0);
  std::vector<double> p = {0.0};
  p.insert(p.end(), precision.begin(), precision.end());
  p.push_back(0.0);
  for (size_t i = p.size() - 1; i > 0; --i) p[i - 1] = std::max(p[i - 1], p[i]);
  double ap = 0.0;
  for (size_t i = 0; i + 1 < r.size(); ++i)
    if (r[i + 1] != r[i]) ap += (r[i + 1] - r[i]) * p[i + 1];
  return ap;
}

}  // namespace

double VocAveragePrecision(const std::vector<double>& recall, const std::vector<double>& precision,
                           VocApMetric metric) {
  if (recall.size() != precision.size())
    Fail("AP: recall has {} points but precision has {}", recall.size(), precision.size());
  return metric == VocApMetric::kVoc07 ? ElevenPoint(recall, precision)
                                       : AreaUnderEnvelope(recall, precision);
}

}  // namespace scratchdet::eval
