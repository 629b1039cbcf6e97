#include "scratchdet/data/rng.h"

#include <cmath>

namespace scratchdet::data {

uint64_t MixSeed(uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

Rng Rng::Stream(uint64_t seed, std::initializer_list<uint64_t> keys) {
  uint64_t state = MixSeed(seed);
  for (const uint64_t key : keys) state = MixSeed(state ^ MixSeed(key + 0x632be59bd9b4e019ULL));
  return Rng(state);
}

double Rng::Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range == UINT64_MAX) return static_cast<int64_t>(engine_());
  const uint64_t span = range + 1;
  // Largest multiple of span that fits: values above it would favour small residues.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t draw = engine_();
  while (draw >= limit) draw = engine_();
  return lo + static_cast<int64_t>(draw % span);
}

double Rng::Normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u1 = Uniform();
  while (u1 <= 0.0) u1 = Uniform();
  const double u2 = Uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * M_PI * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

double Rng::LogUniform(double lo, double hi) {
  return std::exp(Uniform(std::log(lo), std::log(hi)));
}

}  // namespace scratchdet::data
