#include "scratchdet/engine/report_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace scratchdet::engine {

std::string FormatMetricsTable(const nlohmann::json& metrics) {
  std::string out;
  size_t width = 5;
  const nlohmann::json per_class = metrics.value("per_class_ap", nlohmann::json::object());
  for (const auto& [name, ap] : per_class.items()) width = std::max(width, name.size());
  if (!per_class.empty()) {
    out += fmt::format("{:<{}}  {:>6}\n", "class", width, "AP %");
    out += fmt::format("{}  {}\n", std::string(width, '-'), std::string(6, '-'));
    int undefined = 0;
    for (const auto& [name, ap] : per_class.items()) {
      if (ap.is_number()) {
        out += fmt::format("{:<{}}  {:>6.2f}\n", name, width, 100 * ap.get<double>());
      } else {
        out += fmt::format("{:<{}}  {:>6}\n", name, width, "n/a");
        ++undefined;
      }
    }
    out += fmt::format("{}  {}\n", std::string(width, '-'), std::string(6, '-'));
    if (undefined > 0)
      out += fmt::format("({} class(es) without ground truth: excluded from the mean)\n",
                         undefined);
  }
  if (metrics.contains("coco")) {
    const nlohmann::json& c = metrics["coco"];
    for (const char* key : {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"})
      if (c.contains(key) && c[key].is_number()) {
        // pycocotools reports -1 where no ground truth falls in the range.
        const double v = c[key].get<double>();
        out += v < 0 ? fmt::format("COCO {:<6} {:>6}\n", key, "n/a")
                     : fmt::format("COCO {:<6} {:6.2f}\n", key, 100 * v);
      }
  }
  const nlohmann::json map = metrics.value("mAP", nlohmann::json());
  out += map.is_number() ? fmt::format("{:<{}}  {:>6.2f}\n", "mAP", width, 100 * map.get<double>())
                         : fmt::format("{:<{}}  {:>6}\n", "mAP", width, "n/a");
  return out;
}

}  // namespace scratchdet::engine
