// Fixture result trees for the report tests: result.json files as the trainer writes them
// (the contract in reports/README.md), plus helpers to corrupt them.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/testing/temp_files.h"

namespace scratchdet::report::testing {

struct FixtureRun {
  std::string profile = "mini";
  std::string table;  // "A".."E"
  std::string experiment;
  int seed = 0;
  std::string state = "ok";   // ok | diverged | failed | running
  std::optional<double> map;  // fraction; required for ok
  std::string message;
};

// A complete result JSON for `run` (paper value from the schema list, per-class AP for two
// classes, sampled curves, PR curves for two classes).
nlohmann::json MakeResult(const FixtureRun& run);

// <root>/<profile>/table_<t>/<experiment>/seed<k>/result.json (core/results_layout.h).
std::string ResultPath(const std::string& root, const FixtureRun& run);

// Writes `result` (or raw `text`) at ResultPath(root, run), creating folders.
std::string WriteResult(const std::string& root, const FixtureRun& run,
                        const nlohmann::json& result);
// A fresh empty folder under $TEST_TMPDIR, and raw text at a path (tests/testing).
using ::scratchdet::testing::FreshDir;
using ::scratchdet::testing::WriteText;

}  // namespace scratchdet::report::testing
