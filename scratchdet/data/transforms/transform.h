// One augmentation step, and a sequence of them.
//
// Steps are pure given the Rng they are handed: the loader derives that Rng from
// (seed, epoch, sample index), so augmentation never depends on thread scheduling.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scratchdet/data/rng.h"
#include "scratchdet/data/transforms/annotated_image.h"

namespace scratchdet::data {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const = 0;
  virtual std::string name() const = 0;
};

// Applies its steps in order.
class Compose : public Transform {
 public:
  explicit Compose(std::vector<std::shared_ptr<const Transform>> steps)
      : steps_(std::move(steps)) {}
  AnnotatedImage Apply(AnnotatedImage input, Rng& rng) const override;
  std::string name() const override;

 private:
  std::vector<std::shared_ptr<const Transform>> steps_;
};

}  // namespace scratchdet::data
