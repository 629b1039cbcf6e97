#include "scratchdet/core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scratchdet/core/error.h"

namespace scratchdet {

void WriteFileAtomic(const std::string& path, const std::string& contents) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) Fail("{}: cannot create directory {}: {}", path, target.parent_path().string(),
                 ec.message());
  }
  // Unique per process so concurrent writers of one path never share a temporary.
  const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (f == nullptr) Fail("{}: cannot open for writing: {}", temp, std::strerror(errno));
    const size_t written = std::fwrite(contents.data(), 1, contents.size(), f);
    const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    std::fclose(f);
    if (written != contents.size() || !flushed) {
      std::remove(temp.c_str());
      Fail("{}: short write ({} of {} bytes)", temp, written, contents.size());
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    Fail("{}: cannot rename temporary file into place: {}", path, reason);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("{}: cannot open for reading: {}", path, std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) Fail("{}: read error", path);
  return buffer.str();
}

}  // namespace scratchdet
