#include "scratchdet/core/json_keys.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "scratchdet/core/error.h"

namespace scratchdet {

void CheckKnownKeys(const nlohmann::json& object, const std::vector<std::string>& known,
                    const std::string& where) {
  if (!object.is_object()) Fail("{} must be a JSON object (got {})", where, object.dump());
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::vector<std::string> sorted = known;
    std::sort(sorted.begin(), sorted.end());
    Fail("{}: unknown key '{}' (known: {})", where, key, fmt::join(sorted, ", "));
  }
}

}  // namespace scratchdet
