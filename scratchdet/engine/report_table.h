// Human-readable metrics: the per-class AP table printed at the end of a run.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace scratchdet::engine {

// Per-class AP (%) aligned in columns, then mAP; COCO metrics when present. Undefined APs
// (no ground truth) show as "n/a" and are said to be excluded from the mean.
std::string FormatMetricsTable(const nlohmann::json& metrics);

}  // namespace scratchdet::engine
