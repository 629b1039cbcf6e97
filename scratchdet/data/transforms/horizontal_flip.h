// Mirror left-right with probability 0.5 (SSD). In continuous pixels the mirror of [x1, x2]
// is [W - x2, W - x1], so flipping twice is the identity exactly.
#pragma once

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

class HorizontalFlip : public Transform {
 public:
  explicit HorizontalFlip(double probability = 0.5) : probability_(probability) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override { return "horizontal_flip"; }

 private:
  double probability_;
};

}  // namespace scratchdet::data
