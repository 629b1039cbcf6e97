#include "scratchdet/core/json_keys.h"

#include <gtest/gtest.h>

#include "scratchdet/core/error.h"

namespace scratchdet {
namespace {

std::string ErrorOf(const nlohmann::json& object, const std::vector<std::string>& known) {
  try {
    CheckKnownKeys(object, known, "thing 'x'");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonKeysTest, KnownKeysPassAndTheFirstUnknownIsNamedWithTheKnownOnesSorted) {
  EXPECT_EQ(ErrorOf({{"b", 1}, {"a", 2}}, {"a", "b", "c"}), "");
  EXPECT_EQ(ErrorOf(nlohmann::json::object(), {}), "");
  EXPECT_EQ(ErrorOf({{"a", 1}, {"lr", 2}}, {"b", "a"}),
            "thing 'x': unknown key 'lr' (known: a, b)");
}

TEST(JsonKeysTest, ANonObjectIsRefused) {
  EXPECT_EQ(ErrorOf(nlohmann::json::array({1}), {"a"}), "thing 'x' must be a JSON object (got [1])");
}

}  // namespace
}  // namespace scratchdet
