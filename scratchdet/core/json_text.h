// JSON to text for everything the harness writes (results, checkpoints, printed configs).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace scratchdet {

// Like json::dump, but a string that is not valid UTF-8 (a path with a Latin-1 byte, say) is
// written with U+FFFD in place of the bad bytes instead of throwing: a finished run's result
// is never lost, and a real error message is never replaced by a JSON one.
inline std::string JsonText(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace scratchdet
