// Warp (no aspect preservation, as SSD) to a fixed input size; boxes scale with it.
#pragma once

#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

class Resize : public Transform {
 public:
  Resize(int height, int width) : height_(height), width_(width) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override { return "resize"; }

 private:
  int height_, width_;
};

}  // namespace scratchdet::data
