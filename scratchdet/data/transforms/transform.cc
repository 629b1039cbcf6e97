#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

AnnotatedImage Compose::Apply(AnnotatedImage input, Rng& rng) const {
  for (const auto& step : steps_) input = step->Apply(std::move(input), rng);
  return input;
}

std::string Compose::name() const {
  std::string joined;
  for (const auto& step : steps_) joined += (joined.empty() ? "" : " -> ") + step->name();
  return joined;
}

}  // namespace scratchdet::data
