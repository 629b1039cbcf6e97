// One checker of unknown keys for every JSON object the project reads (training configs and
// their merges, model configs, experiment and profile files), so that a typo is refused the
// same way everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace scratchdet {

// Throws scratchdet::Error "<where>: unknown key '<key>' (known: a, b, c)" for the first key
// of `object` not in `known`, and "<where> must be a JSON object (got ...)" when `object` is
// not an object.
void CheckKnownKeys(const nlohmann::json& object, const std::vector<std::string>& known,
                    const std::string& where);

}  // namespace scratchdet
