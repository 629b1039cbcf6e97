#include "scratchdet/core/results_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "scratchdet/core/strings.h"

namespace scratchdet {

std::string RunDirectoryPath(const std::string& root, const std::string& profile,
                             const std::string& table, const std::string& experiment,
                             int64_t seed, const std::string& variant_hash) {
  const std::string name =
      variant_hash.empty() ? experiment : experiment + "@" + variant_hash.substr(0, 8);
  return fmt::format("{}/{}/table_{}/{}/seed{}", root, profile, AsciiLower(table), name, seed);
}

std::optional<RunLocation> ParseRunLocation(const std::filesystem::path& file) {
  std::vector<std::string> parts;
  for (const auto& part : file) parts.push_back(part.string());
  if (parts.size() < 5) return std::nullopt;
  const size_t n = parts.size();
  const std::string& table_dir = parts[n - 4];
  const std::string& seed_dir = parts[n - 2];
  if (table_dir.rfind("table_", 0) != 0 || table_dir.size() <= 6) return std::nullopt;
  if (seed_dir.rfind("seed", 0) != 0 || seed_dir.size() <= 4) return std::nullopt;
  const std::string digits = seed_dir.substr(4);
  if (digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  RunLocation location;
  location.profile = parts[n - 5];
  location.table = AsciiUpper(table_dir.substr(6));
  location.experiment = parts[n - 3];
  location.variant = location.experiment.find('@') != std::string::npos;
  location.seed = std::stoll(digits);
  return location;
}

}  // namespace scratchdet
