#include "scratchdet/eval/coco_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <utility>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {

const std::array<std::string, 12>& CocoStatNames() {
  static const std::array<std::string, 12> names = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                                    "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  return names;
}

namespace {

constexpr int kNumIou = 10;
constexpr int kNumRecall = 101;
constexpr int kNumAreas = 4;  // all, small, medium, large
constexpr int kIou50 = 0, kIou75 = 5;
constexpr int kAll = 0, kSmall = 1, kMedium = 2, kLarge = 3;
const std::array<std::pair<double, double>, kNumAreas> kAreaRanges = {
    {{0.0, 1e10}, {0.0, 32.0 * 32.0}, {32.0 * 32.0, 96.0 * 96.0}, {96.0 * 96.0, 1e10}}};

// The thresholds exactly as numpy's linspace computes them in pycocotools (k * step + start,
// last = stop), so an IoU equal to a threshold compares the same way (0.9 is
// 0.8999999999999999 there).
std::array<double, kNumIou> IouThresholds() {
  std::array<double, kNumIou> t{};
  const double step = (0.95 - 0.5) / (kNumIou - 1);
  for (int k = 0; k < kNumIou; ++k) t[k] = k * step + 0.5;
  t[kNumIou - 1] = 0.95;
  return t;
}

std::array<double, kNumRecall> RecallThresholds() {
  std::array<double, kNumRecall> r{};
  const double step = 1.0 / (kNumRecall - 1);
  for (int k = 0; k < kNumRecall; ++k) r[k] = k * step + 0.0;
  r[kNumRecall - 1] = 1.0;
  return r;
}

// pycocotools' maskApi bbIou for one pair.
double BoxIou(const CocoDetection& d, const CocoGroundTruth& g) {
  const double w = std::min(d.x + d.w, g.x + g.w) - std::max(d.x, g.x);
  if (w <= 0) return 0.0;
  const double h = std::min(d.y + d.h, g.y + g.h) - std::max(d.y, g.y);
  if (h <= 0) return 0.0;
  const double inter = w * h;
  const double det_area = d.w * d.h;
  const double uni = g.iscrowd ? det_area : det_area + g.w * g.h - inter;
  return inter / uni;
}

// One image and category in one area range (pycocotools' evaluateImg), detections in score
// order truncated to the largest max_dets.
struct ImageEval {
  std::vector<double> scores;
  std::array<std::vector<char>, kNumIou> matched;  // per threshold, per detection
  std::array<std::vector<char>, kNumIou> ignored;
  int64_t num_positive = 0;  // non-ignored ground truths
};

ImageEval EvaluateImage(const std::vector<const CocoGroundTruth*>& gts,
                        const std::vector<const CocoDetection*>& dets,  // sorted, truncated
                        const std::vector<std::vector<double>>& ious,   // [det][gt]
                        std::pair<double, double> range,
                        const std::array<double, kNumIou>& thresholds) {
  const size_t num_gt = gts.size(), num_det = dets.size();
  std::vector<char> gt_ignore(num_gt);
  for (size_t g = 0; g < num_gt; ++g)
    gt_ignore[g] = gts[g]->iscrowd || gts[g]->area < range.first || gts[g]->area > range.second;
  // Non-ignored ground truths first (stable), so a detection prefers them.
  std::vector<size_t> order(num_gt);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return gt_ignore[a] < gt_ignore[b]; });

  ImageEval eval;
  for (const auto* d : dets) eval.scores.push_back(d->score);
  for (char ig : gt_ignore) eval.num_positive += ig ? 0 : 1;
  for (int t = 0; t < kNumIou; ++t) {
    std::vector<char>& det_matched = eval.matched[t];
    std::vector<char>& det_ignored = eval.ignored[t];
    det_matched.assign(num_det, 0);
    det_ignored.assign(num_det, 0);
    std::vector<char> gt_matched(num_gt, 0);
    for (size_t d = 0; d < num_det && num_gt > 0; ++d) {
      double best = std::min(thresholds[t], 1 - 1e-10);
      int match = -1;  // position in `order`
      for (size_t k = 0; k < num_gt; ++k) {
        const size_t g = order[k];
        if (gt_matched[g] && !gts[g]->iscrowd) continue;
        // Already matched a regular ground truth: the ignored ones (sorted last) cannot win.
        if (match > -1 && !gt_ignore[order[match]] && gt_ignore[g]) break;
        if (ious[d][g] < best) continue;
        best = ious[d][g];  // ties go to the later ground truth, as in pycocotools
        match = static_cast<int>(k);
      }
      if (match == -1) continue;
      const size_t g = order[match];
      det_ignored[d] = gt_ignore[g];
      det_matched[d] = 1;
      gt_matched[g] = 1;
    }
    for (size_t d = 0; d < num_det; ++d) {
      const double area = dets[d]->w * dets[d]->h;
      if (!det_matched[d] && (area < range.first || area > range.second)) det_ignored[d] = 1;
    }
  }
  return eval;
}

void CheckFinite(const char* what, size_t index, std::initializer_list<double> values) {
  for (double v : values)
    if (!std::isfinite(v)) Fail("COCO eval: {} {} has a non-finite value", what, index);
}

// Mean of the entries > -1, or -1 when there are none (pycocotools' _summarize).
struct Mean {
  double sum = 0;
  int64_t count = 0;
  void Add(double v) {
    if (v > -1) {
      sum += v;
      ++count;
    }
  }
  double Get() const { return count == 0 ? -1.0 : sum / count; }
};

}  // namespace

CocoEvalResult EvaluateCoco(const std::vector<CocoGroundTruth>& ground_truths,
                            const std::vector<CocoDetection>& detections,
                            const CocoEvalOptions& options) {
  const auto& max_dets = options.max_dets;
  if (max_dets[0] <= 0 || max_dets[0] > max_dets[1] || max_dets[1] > max_dets[2])
    Fail("COCO eval: max_dets {} must be positive and ascending", fmt::join(max_dets, "/"));
  for (size_t i = 0; i < ground_truths.size(); ++i) {
    const auto& g = ground_truths[i];
    CheckFinite("ground truth", i, {g.x, g.y, g.w, g.h, g.area});
    if (g.w < 0 || g.h < 0 || g.area < 0)
      Fail("COCO eval: ground truth {} (image {}) has a negative width, height or area", i,
           g.image_id);
  }
  for (size_t i = 0; i < detections.size(); ++i) {
    const auto& d = detections[i];
    CheckFinite("detection", i, {d.score, d.x, d.y, d.w, d.h});
    if (d.w < 0 || d.h < 0)
      Fail("COCO eval: detection {} (image {}) has a negative width or height", i, d.image_id);
  }

  // (category, image) -> members in input order; std::map keeps both ids ascending.
  using Key = std::pair<int64_t, int64_t>;
  std::map<Key, std::pair<std::vector<const CocoGroundTruth*>, std::vector<const CocoDetection*>>>
      cells;
  std::map<int64_t, bool> images;
  for (const auto& g : ground_truths) {
    cells[{g.category_id, g.image_id}].first.push_back(&g);
    images[g.image_id] = true;
  }
  for (const auto& d : detections) {
    cells[{d.category_id, d.image_id}].second.push_back(&d);
    images[d.image_id] = true;
  }

  const auto thresholds = IouThresholds();
  const auto recall_points = RecallThresholds();
  // Per category and area range, the image evaluations in image id order.
  std::map<int64_t, std::array<std::vector<ImageEval>, kNumAreas>> per_category;
  for (auto& [key, members] : cells) {
    auto& [gts, dets] = members;
    std::stable_sort(dets.begin(), dets.end(), [](const CocoDetection* a, const CocoDetection* b) {
      return a->score > b->score;
    });
    if (dets.size() > static_cast<size_t>(max_dets[2])) dets.resize(max_dets[2]);
    std::vector<std::vector<double>> ious(dets.size(), std::vector<double>(gts.size()));
    for (size_t d = 0; d < dets.size(); ++d)
      for (size_t g = 0; g < gts.size(); ++g) ious[d][g] = BoxIou(*dets[d], *gts[g]);
    auto& areas = per_category[key.first];
    for (int a = 0; a < kNumAreas; ++a)
      areas[a].push_back(EvaluateImage(gts, dets, ious, kAreaRanges[a], thresholds));
  }

  // accumulate(): precision [T][R] and recall [T] per (category, area, max_dets index).
  // [area][m][t] -> means over categories and recall points.
  std::array<std::array<std::array<Mean, kNumIou>, 3>, kNumAreas> precision_mean{};
  std::array<std::array<std::array<Mean, kNumIou>, 3>, kNumAreas> recall_mean{};
  CocoEvalResult result;
  result.options = options;
  for (const auto& [category, areas] : per_category) {
    Mean category_ap;
    for (int a = 0; a < kNumAreas; ++a) {
      const std::vector<ImageEval>& evals = areas[a];
      int64_t num_positive = 0;
      for (const auto& e : evals) num_positive += e.num_positive;
      for (int m = 0; m < 3; ++m) {
        if (num_positive == 0) continue;  // stays -1: excluded from every mean
        // Concatenate each image's first max_dets[m] detections, then order by score (stable).
        struct Entry {
          double score;
          const ImageEval* eval;
          size_t index;
        };
        std::vector<Entry> entries;
        for (const auto& e : evals)
          for (size_t d = 0; d < e.scores.size() && d < static_cast<size_t>(max_dets[m]); ++d)
            entries.push_back({e.scores[d], &e, d});
        std::stable_sort(entries.begin(), entries.end(),
                         [](const Entry& x, const Entry& y) { return x.score > y.score; });
        for (int t = 0; t < kNumIou; ++t) {
          std::vector<double> recall, precision;
          double tp = 0, fp = 0;
          for (const Entry& entry : entries) {
            // An ignored detection still adds a point that repeats the previous one, as in
            // pycocotools; it changes neither the envelope nor the recall search.
            const bool ignored = entry.eval->ignored[t][entry.index];
            if (!ignored) (entry.eval->matched[t][entry.index] ? tp : fp) += 1;
            recall.push_back(tp / static_cast<double>(num_positive));
            precision.push_back(tp / (fp + tp + std::numeric_limits<double>::epsilon()));
          }
          const size_t nd = recall.size();
          recall_mean[a][m][t].Add(nd > 0 ? recall.back() : 0.0);
          for (size_t i = nd; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
          for (int r = 0; r < kNumRecall; ++r) {
            const size_t at =
                std::lower_bound(recall.begin(), recall.end(), recall_points[r]) - recall.begin();
            const double q = at < nd ? precision[at] : 0.0;
            precision_mean[a][m][t].Add(q);
            if (a == kAll && m == 2) category_ap.Add(q);
          }
        }
      }
    }
    result.per_category_ap[category] =
        category_ap.count > 0 ? std::optional<double>(category_ap.Get()) : std::nullopt;
  }

  auto ap = [&](int area, int m, std::optional<int> t) {
    Mean all;
    for (int k = 0; k < kNumIou; ++k)
      if (!t || *t == k) {
        all.sum += precision_mean[area][m][k].sum;
        all.count += precision_mean[area][m][k].count;
      }
    return all.Get();
  };
  auto ar = [&](int area, int m) {
    Mean all;
    for (int k = 0; k < kNumIou; ++k) {
      all.sum += recall_mean[area][m][k].sum;
      all.count += recall_mean[area][m][k].count;
    }
    return all.Get();
  };
  result.stats = {ap(kAll, 2, std::nullopt),
                  ap(kAll, 2, kIou50),
                  ap(kAll, 2, kIou75),
                  ap(kSmall, 2, std::nullopt),
                  ap(kMedium, 2, std::nullopt),
                  ap(kLarge, 2, std::nullopt),
                  ar(kAll, 0),
                  ar(kAll, 1),
                  ar(kAll, 2),
                  ar(kSmall, 2),
                  ar(kMedium, 2),
                  ar(kLarge, 2)};
  result.num_images = static_cast<int64_t>(images.size());
  result.num_ground_truths = static_cast<int64_t>(ground_truths.size());
  result.num_detections = static_cast<int64_t>(detections.size());
  return result;
}

nlohmann::json ToJson(const CocoEvalResult& result) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < result.stats.size(); ++i) j[CocoStatNames()[i]] = result.stats[i];
  nlohmann::json per_category = nlohmann::json::object();
  for (const auto& [id, ap] : result.per_category_ap)
    per_category[std::to_string(id)] = ap ? nlohmann::json(*ap) : nlohmann::json(nullptr);
  j["per_category"] = per_category;
  j["max_dets"] = result.options.max_dets;
  j["num_images"] = result.num_images;
  j["num_ground_truths"] = result.num_ground_truths;
  j["num_detections"] = result.num_detections;
  return j;
}

std::string FormatCocoSummary(const CocoEvalResult& result) {
  const auto& md = result.options.max_dets;
  struct Line {
    bool ap;
    const char* iou;
    const char* area;
    int max_dets;
  };
  const std::array<Line, 12> lines = {{{true, "0.50:0.95", "all", md[2]},
                                       {true, "0.50", "all", md[2]},
                                       {true, "0.75", "all", md[2]},
                                       {true, "0.50:0.95", "small", md[2]},
                                       {true, "0.50:0.95", "medium", md[2]},
                                       {true, "0.50:0.95", "large", md[2]},
                                       {false, "0.50:0.95", "all", md[0]},
                                       {false, "0.50:0.95", "all", md[1]},
                                       {false, "0.50:0.95", "all", md[2]},
                                       {false, "0.50:0.95", "small", md[2]},
                                       {false, "0.50:0.95", "medium", md[2]},
                                       {false, "0.50:0.95", "large", md[2]}}};
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    out += fmt::format(" {:<18} {} @[ IoU={:<9} | area={:>6} | maxDets={:>3} ] = {:0.3f}\n",
                       l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)", l.iou,
                       l.area, l.max_dets, result.stats[i]);
  }
  return out;
}

}  // namespace scratchdet::eval
