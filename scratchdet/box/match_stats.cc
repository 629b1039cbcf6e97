#include "scratchdet/box/match_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "scratchdet/box/box_coder.h"
#include "scratchdet/box/iou.h"
#include "scratchdet/box/matcher.h"
#include "scratchdet/core/error.h"

namespace scratchdet::box {

MatchStats::MatchStats(torch::Tensor priors, std::vector<int64_t> level_ends,
                       MatchStatsOptions options)
    : priors_(priors.to(torch::kCPU, torch::kFloat32).contiguous()),
      level_ends_(std::move(level_ends)),
      options_(std::move(options)) {
  if (priors_.dim() != 2 || priors_.size(1) != 4)
    Fail("MatchStats: priors expected [P, 4], got {} dims", priors_.dim());
  if (level_ends_.empty() || level_ends_.back() != priors_.size(0))
    Fail("MatchStats: level ends must finish at the prior count {}", priors_.size(0));
  for (size_t l = 1; l < level_ends_.size(); ++l)
    if (level_ends_[l] < level_ends_[l - 1]) Fail("MatchStats: level ends must be increasing");
  if (options_.size_edges.empty() || options_.size_edges.front() != 0.0)
    Fail("MatchStats: size_edges must start at 0");
  by_level_.resize(level_ends_.size());
  by_size_.resize(options_.size_edges.size());
  positives_on_level_.assign(level_ends_.size(), 0);
}

void MatchStats::Add(const torch::Tensor& boxes, const std::vector<uint8_t>& difficult) {
  ++images_;
  const int64_t count = boxes.size(0);
  if (count == 0) return;
  if (!difficult.empty() && static_cast<int64_t>(difficult.size()) != count)
    Fail("MatchStats: {} difficult flags for {} boxes", difficult.size(), count);
  const torch::Tensor gt = boxes.to(torch::kCPU, torch::kFloat32).contiguous();
  // The matcher itself decides the positives; label k + 1 tells which object a prior took
  // (the variances only shape the unused loc targets).
  const torch::Tensor ids = torch::arange(1, count + 1, torch::kLong);
  const MatchTargets match = MatchPriors({gt}, {ids}, priors_, {0.1, 0.1, 0.2, 0.2},
                                         options_.iou_threshold);
  const torch::Tensor labels = match.labels[0];                                  // [P]
  const torch::Tensor iou = BoxIou(gt, CenterToCorner(priors_));                 // [G, P]
  auto [best_iou, best_prior] = iou.max(1);
  const auto label_at = labels.accessor<int64_t, 1>();
  auto level_of = [&](int64_t prior) {
    return static_cast<size_t>(
        std::upper_bound(level_ends_.begin(), level_ends_.end(), prior) - level_ends_.begin());
  };
  std::vector<std::vector<int64_t>> per_object_level(count,
                                                     std::vector<int64_t>(level_ends_.size(), 0));
  for (int64_t p = 0; p < labels.size(0); ++p)
    if (label_at[p] > 0) ++per_object_level[label_at[p] - 1][level_of(p)];
  for (int64_t k = 0; k < count; ++k) {
    if (!difficult.empty() && difficult[k]) continue;
    const double best = best_iou[k].item<double>();
    const bool covered = best >= options_.iou_threshold;
    int64_t positives = 0;
    for (size_t l = 0; l < level_ends_.size(); ++l) {
      positives += per_object_level[k][l];
      positives_on_level_[l] += per_object_level[k][l];
    }
    const double w = gt[k][2].item<double>() - gt[k][0].item<double>();
    const double h = gt[k][3].item<double>() - gt[k][1].item<double>();
    const double size = std::sqrt(std::max(0.0, w * h));
    const auto& edges = options_.size_edges;
    const size_t bin =
        static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), size) - edges.begin()) -
        1;
    for (MatchStatsBin* b :
         {&total_, &by_level_[level_of(best_prior[k].item<int64_t>())], &by_size_[bin]}) {
      ++b->objects;
      b->covered += covered ? 1 : 0;
      b->positives += positives;
    }
    best_ious_.push_back(best);
  }
}

std::vector<double> MatchStats::positives_per_object_on_level() const {
  std::vector<double> out;
  for (int64_t p : positives_on_level_)
    out.push_back(total_.objects ? static_cast<double>(p) / total_.objects : 0.0);
  return out;
}

double MatchStats::median_best_iou() const {
  if (best_ious_.empty()) return 0;
  std::vector<double> v = best_ious_;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), v.begin() + mid)) / 2;
  return m;
}

namespace {

nlohmann::json BinJson(const MatchStatsBin& b) {
  return {{"objects", b.objects},
          {"covered", b.covered},
          {"covered_share", b.covered_share()},
          {"positives_per_object", b.positives_per_object()}};
}

std::string SizeLabel(const std::vector<double>& edges, size_t k) {
  return k + 1 < edges.size() ? fmt::format("[{:.2f}, {:.2f})", edges[k], edges[k + 1])
                              : fmt::format(">= {:.2f}", edges[k]);
}

}  // namespace

nlohmann::json MatchStats::ToJson() const {
  nlohmann::json levels = nlohmann::json::array(), sizes = nlohmann::json::array();
  const std::vector<double> on_level = positives_per_object_on_level();
  for (size_t l = 0; l < by_level_.size(); ++l) {
    nlohmann::json row = BinJson(by_level_[l]);
    row["level"] = l;
    row["priors"] = level_ends_[l] - (l == 0 ? 0 : level_ends_[l - 1]);
    row["positives_per_object_on_level"] = on_level[l];
    levels.push_back(row);
  }
  for (size_t k = 0; k < by_size_.size(); ++k) {
    nlohmann::json row = BinJson(by_size_[k]);
    row["size"] = SizeLabel(options_.size_edges, k);
    row["min_size"] = options_.size_edges[k];
    sizes.push_back(row);
  }
  nlohmann::json total = BinJson(total_);
  total["images"] = images_;
  total["priors"] = priors_.size(0);
  total["median_best_iou"] = median_best_iou();
  total["iou_threshold"] = options_.iou_threshold;
  return {{"total", total}, {"by_best_level", levels}, {"by_size", sizes}};
}

std::string MatchStats::Format() const {
  std::string out = fmt::format(
      "{} images, {} non-difficult objects, {} priors (IoU threshold {})\n"
      "covered (best prior IoU >= {}): {:.1f} %   positives per object: {:.2f}   median best "
      "IoU: {:.3f}\n\n",
      images_, total_.objects, priors_.size(0), options_.iou_threshold, options_.iou_threshold,
      100 * total_.covered_share(), total_.positives_per_object(), median_best_iou());
  const std::vector<double> on_level = positives_per_object_on_level();
  out += "| level of the best prior | priors | objects | covered | positives/object | positives/object on this level |\n";
  out += "|---|---|---|---|---|---|\n";
  for (size_t l = 0; l < by_level_.size(); ++l)
    out += fmt::format("| {} | {} | {} | {:.1f} % | {:.2f} | {:.2f} |\n", l,
                       level_ends_[l] - (l == 0 ? 0 : level_ends_[l - 1]), by_level_[l].objects,
                       100 * by_level_[l].covered_share(), by_level_[l].positives_per_object(),
                       on_level[l]);
  out += "\n| object size (sqrt area / input side) | objects | covered | positives/object |\n";
  out += "|---|---|---|---|\n";
  for (size_t k = 0; k < by_size_.size(); ++k)
    out += fmt::format("| {} | {} | {:.1f} % | {:.2f} |\n", SizeLabel(options_.size_edges, k),
                       by_size_[k].objects, 100 * by_size_[k].covered_share(),
                       by_size_[k].positives_per_object());
  return out;
}

}  // namespace scratchdet::box
