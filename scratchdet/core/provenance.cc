#include "scratchdet/core/provenance.h"

#include <opencv2/core/version.hpp>
#include <torch/version.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace scratchdet {

// Written by the genrule //scratchdet/core:build_stamp_cc (tools/workspace_status.sh).
extern const char kBuildGitCommit[];
extern const char kBuildGitDirty[];

namespace {

// Runs a shell command and returns its trimmed stdout; empty on failure.
std::string Capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  if (::pclose(pipe) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::string SourceDirectory() {
  if (const char* dir = std::getenv("BUILD_WORKSPACE_DIRECTORY")) return dir;
  return std::filesystem::current_path().string();
}

std::string UtcNow() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

nlohmann::json BuildProvenance() {
  std::string commit = kBuildGitCommit;
  nlohmann::json dirty = nullptr;
  std::string source = "build stamp";
  if (commit == "unknown" || commit.empty()) {
    // Not stamped (built without .bazelrc's workspace status): the checkout it runs in.
    source = "working directory";
    const std::string git = "git -C '" + SourceDirectory() + "' ";
    commit = Capture(git + "rev-parse HEAD 2>/dev/null");
    if (commit.empty()) {
      commit = "unknown";
    } else {
      dirty = !Capture(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();
    }
  } else if (std::string(kBuildGitDirty) != "unknown") {
    dirty = std::string(kBuildGitDirty) == "true";
  }
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  nlohmann::json p;
  p["git_commit"] = commit;
  p["git_dirty"] = dirty;
  p["git_commit_source"] = source;
  p["compiler"] = std::string("gcc ") + __VERSION__;
#ifdef NDEBUG
  p["build_mode"] = "opt";
#else
  p["build_mode"] = "debug";
#endif
  p["libtorch_version"] = TORCH_VERSION;
  p["opencv_version"] = CV_VERSION;
  p["host"] = host;
  return p;
}

}  // namespace scratchdet
