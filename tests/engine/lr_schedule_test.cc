#include "scratchdet/engine/lr_schedule.h"

#include <gtest/gtest.h>

namespace scratchdet::engine {
namespace {

TEST(LrScheduleTest, PaperRecipeSteps) {
  // ScratchDet300: 0.05, x0.1 at 40k/75k/90k.
  LrScheduleOptions o;
  o.base_lr = 0.05;
  o.steps = {40000, 75000, 90000};
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 0), 0.05);
  EXPECT_DOUBLE_EQ(LearningRateAt(o, 39999), 0.05);
  EXPECT_NEAR(LearningRateAt(o, 40000), 0.005, 1e-12);
  EXPECT_NEAR(LearningRateAt(o, 75000), 0.0005, 1e-12);
  EXPECT_NEAR(LearningRateAt(o, 99999), 0.00005, 1e-12);
}

TEST(LrScheduleTest, LinearWarmupFromAThird) {
  LrScheduleOptions o;
  o.base_lr = 0.06;
  o.warmup_iterations = 500;
  o.warmup_factor = 1.0 / 3;
  EXPECT_NEAR(LearningRateAt(o, 0), 0.02, 1e-12);
  EXPECT_NEAR(LearningRateAt(o, 250), 0.04, 1e-12);  // halfway: (1/3 + 1) / 2 * 0.06
  EXPECT_NEAR(LearningRateAt(o, 500), 0.06, 1e-12);
}

}  // namespace
}  // namespace scratchdet::engine
