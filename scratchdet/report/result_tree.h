// Finding the result.json files of one profile under a results root
// (<root>/<profile>/table_<t>/<experiment>/seed<k>/result.json) and sorting out the bad ones.
#pragma once

#include <string>
#include <vector>

#include "scratchdet/report/result_file.h"

namespace scratchdet::report {

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct ResultTree {
  std::vector<RunResult> runs;       // sorted by table, experiment, seed
  std::vector<SkippedFile> skipped;  // unreadable/malformed/unfinished files of this profile
};

// Reads every file named result.json under `root` (recursively). A file whose path follows
// the layout is attributed to the profile in its path; one that does not is attributed by
// its `profile` field (and is reported as skipped when that cannot be read). Files of other
// profiles are ignored, and so are config variants (<experiment>@<hash> folders: runs with
// --set overrides). A file whose fields disagree with its path (profile, table, name,
// seed), or that repeats an experiment/seed already read, is skipped with the reason.
// Throws Error when `root` is not a directory.
ResultTree ScanResults(const std::string& root, const std::string& profile);

}  // namespace scratchdet::report
