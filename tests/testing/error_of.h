// The message of the scratchdet::Error a piece of code throws, for tests that check what an
// error says.
#pragma once

#include <functional>
#include <string>

#include "scratchdet/core/error.h"

namespace scratchdet::testing {

// e.what() of the scratchdet::Error that `f` throws; "" when it throws none.
inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace scratchdet::testing
