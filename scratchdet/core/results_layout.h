// Where a run's files live under a results root, in one place for the engine (which writes
// them), the paper runner (which asks what is done) and the report (which reads them):
//
//   <root>/<profile>/table_<t>/<experiment>[@<hash8>]/seed<k>/result.json
//
// <t> is the paper table in lower case, like the experiments/ packages. `@<hash8>` marks a
// variant: a run whose --set overrides changed the experiment's comparable config (the first
// 8 hex digits of its config hash); the report leaves variants out of the tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace scratchdet {

// The run directory; `variant_hash` empty for the experiment's own config.
std::string RunDirectoryPath(const std::string& root, const std::string& profile,
                             const std::string& table, const std::string& experiment,
                             int64_t seed, const std::string& variant_hash = "");

// What a result file's path says: the last five components
// <profile>/table_<t>/<experiment>/seed<k>/<file>. table is upper case ("A"); experiment
// keeps a variant's `@<hash8>` suffix (variant true). nullopt when the path is not in the
// layout.
struct RunLocation {
  std::string profile;
  std::string table;
  std::string experiment;
  int64_t seed = 0;
  bool variant = false;
};
std::optional<RunLocation> ParseRunLocation(const std::filesystem::path& file);

}  // namespace scratchdet
