// FNV-1a, 64 bit: the one checksum of the tree (config hashes, replica checks).
// Not cryptographic; it names contents, it does not defend against forgery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace scratchdet {

class Fnv1a64 {
 public:
  // Feeds `size` bytes; hashing A then B equals hashing their concatenation.
  Fnv1a64& Update(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= bytes[i];
      hash_ *= 1099511628211ull;  // FNV 64-bit prime
    }
    return *this;
  }
  Fnv1a64& Update(std::string_view text) { return Update(text.data(), text.size()); }
  uint64_t value() const { return hash_; }
  // 16 lower-case hex digits.
  std::string Hex() const { return fmt::format("{:016x}", hash_); }

 private:
  uint64_t hash_ = 14695981039346656037ull;  // FNV 64-bit offset basis
};

}  // namespace scratchdet
