// Rng: a small, seedable random source whose output is the same on every platform
// and standard library (std::*_distribution is not), so that a workload or an
// arrival schedule built from a seed can be reproduced anywhere.
//
// Thread-safety: none; each user owns its Rng.
#pragma once

#include <cstdint>

namespace cellar::replay {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // 64 uniformly distributed bits (xoshiro256**).
  uint64_t NextU64();
  // Uniform in [0, 1), 53 bits of precision.
  double Uniform();
  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Exponentially distributed with the given mean (inverse transform).
  double Exponential(double mean);
  // Standard normal (Box-Muller, one value per call).
  double Normal();
  // exp(mu + sigma * N(0,1)).
  double LogNormal(double mu, double sigma);

 private:
  uint64_t s_[4];
};

}  // namespace cellar::replay
