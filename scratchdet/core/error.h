// The one exception type scratchdet throws for bad input and bad configuration.
//
// Messages name the file (and line or object where there is one) and what was expected,
// e.g. "Annotations/000123.xml: <bndbox> xmax=12 < xmin=40". The CLI prints the message
// and exits with status 1.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace scratchdet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void Fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace scratchdet
