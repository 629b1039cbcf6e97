#include "scratchdet/engine/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace scratchdet::engine {
namespace {

std::string Drain(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buffer[512];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) out.append(buffer, n);
  return out;
}

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(ProgressTest, PlainLogLinesEveryInterval) {
  std::FILE* f = std::tmpfile();
  ProgressReporter p(10, 5, f, /*force_tty=*/0);
  for (int i = 1; i <= 10; ++i) p.Update({i, 10, 2.0, 0.5, 1.5, 0.01, 3.0});
  p.Finish();
  const std::string out = Drain(f);
  // First iteration, 5 and 10: three lines, no carriage returns.
  EXPECT_EQ(CountLines(out), 3) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("iter 10/10 loss 2.000 (loc 0.500 conf 1.500) lr 1.00e-02"),
            std::string::npos)
      << out;
  std::fclose(f);
}

TEST(ProgressTest, TtyRedrawsOneBar) {
  std::FILE* f = std::tmpfile();
  ProgressReporter p(4, 100, f, /*force_tty=*/1);
  for (int i = 1; i <= 4; ++i) p.Update({i, 4, 1.0, 0.5, 0.5, 0.1, 2.0});
  p.Finish();
  const std::string out = Drain(f);
  EXPECT_EQ(CountLines(out), 1);
  EXPECT_NE(out.find("[########################] 4/4"), std::string::npos) << out;
  std::fclose(f);
}

TEST(ProgressTest, DurationFormat) {
  EXPECT_EQ(ProgressReporter::FormatDuration(59.6), "01:00");
  EXPECT_EQ(ProgressReporter::FormatDuration(3725), "1:02:05");
  EXPECT_EQ(ProgressReporter::FormatDuration(NAN), "--:--");
}

}  // namespace
}  // namespace scratchdet::engine
