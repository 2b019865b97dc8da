// Synthetic workloads: a seedable generator of multi-turn conversations whose shape
// is controlled (turns per conversation, message lengths, a shared system prompt),
// for runs that should not depend on a data file.
//
// Lengths are in words of a small English vocabulary (about 1.3 BPE tokens per word).
// Every user message starts with a tag unique to its conversation and turn, so two
// conversations share no prefix except the system prompt. The same options and seed
// give the same workload on every platform.
#pragma once

#include <cstdint>

#include "replay/workload.h"

namespace cellar::replay {

struct SyntheticOptions {
  int64_t n_conversations = 100;
  // Turns per conversation: uniform integer in [min_turns, max_turns].
  int min_turns = 2;
  int max_turns = 8;
  // Message lengths in words: lognormal with the given median and sigma (of the
  // underlying normal), clamped to [1, max_words].
  double user_words_median = 50;
  double user_words_sigma = 0.7;
  double assistant_words_median = 150;
  double assistant_words_sigma = 0.6;
  int max_words = 2000;
  // Words of the system prompt shared by every conversation (0: no system prompt).
  int system_words = 100;
  uint64_t seed = 1;
};

// REQUIRES: 1 <= min_turns <= max_turns, n_conversations >= 0.
Workload GenerateSynthetic(const SyntheticOptions& o);

}  // namespace cellar::replay
