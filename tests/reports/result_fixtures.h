// Fixture result trees for the report tests: result.json files as the trainer writes them
// (the contract in reports/README.md), plus helpers to corrupt them.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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

// <root>/<profile>/table_<T>/<experiment>/seed<k>/result.json (T as given, e.g. "A").
std::string ResultPath(const std::string& root, const FixtureRun& run);

// Writes `result` (or raw `text`) at ResultPath(root, run), creating folders.
std::string WriteResult(const std::string& root, const FixtureRun& run,
                        const nlohmann::json& result);
std::string WriteText(const std::string& path, const std::string& text);

// A fresh empty folder under $TEST_TMPDIR.
std::string FreshDir(const std::string& name);

}  // namespace scratchdet::report::testing
