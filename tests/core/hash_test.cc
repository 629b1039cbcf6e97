#include "scratchdet/core/hash.h"

#include <gtest/gtest.h>

namespace scratchdet {
namespace {

// Reference values of FNV-1a 64 (the published test vectors of Fowler, Noll and Vo;
// also python3 -c 'h=0xcbf29ce484222325
// for b in b"foobar": h=((h^b)*0x100000001b3)%2**64
// print(hex(h))').
TEST(Fnv1a64, PublishedVectors) {
  EXPECT_EQ(Fnv1a64().Hex(), "cbf29ce484222325");
  EXPECT_EQ(Fnv1a64().Update("a").Hex(), "af63dc4c8601ec8c");
  EXPECT_EQ(Fnv1a64().Update("foobar").Hex(), "85944171f73967e8");
}

TEST(Fnv1a64, IncrementalEqualsWhole) {
  EXPECT_EQ(Fnv1a64().Update("foo").Update("bar").value(), Fnv1a64().Update("foobar").value());
  const float values[] = {1.0f, -2.5f};
  Fnv1a64 split;
  split.Update(&values[0], sizeof(float)).Update(&values[1], sizeof(float));
  EXPECT_EQ(split.value(), Fnv1a64().Update(values, sizeof values).value());
  EXPECT_NE(Fnv1a64().Update("foobar").value(), Fnv1a64().Update("foobaz").value());
}

}  // namespace
}  // namespace scratchdet
