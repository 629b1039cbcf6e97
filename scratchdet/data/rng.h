// The one random-number source of the data pipeline.
//
// std::mt19937_64's output sequence is fixed by the C++ standard, but the std:: distributions
// are not (libstdc++ and libc++ differ, and may change between versions), so every
// distribution here is implemented on top of the raw 64-bit engine. Same seed -> same numbers
// on every standard library; this is what makes the shapes benchmark byte-reproducible and the
// loader's augmentation independent of the number of worker threads.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>

namespace scratchdet::data {

// SplitMix64 finaliser: a bijective 64-bit mix used to derive independent stream seeds.
uint64_t MixSeed(uint64_t value);

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // A stream keyed by a seed and a path of integers (e.g. {seed, epoch, sample index}):
  // streams with different keys are statistically independent and need no shared state.
  static Rng Stream(uint64_t seed, std::initializer_list<uint64_t> keys);

  uint64_t NextU64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] (inclusive), unbiased (rejection sampling).
  int64_t UniformInt(int64_t lo, int64_t hi);
  bool Bernoulli(double p) { return Uniform() < p; }
  // Standard normal by the Box-Muller transform (both values of a pair are used).
  double Normal();
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }
  // exp(Uniform(log lo, log hi)): scale-free sizes.
  double LogUniform(double lo, double hi);

 private:
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

}  // namespace scratchdet::data
