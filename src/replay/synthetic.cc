#include "replay/synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "replay/random.h"

namespace cellar::replay {
namespace {

constexpr std::array<const char*, 64> kWords = {
    "the",    "a",      "model",   "cache",  "token",   "layer",  "memory", "disk",
    "server", "chat",   "answer",  "please", "explain", "why",    "how",    "what",
    "data",   "system", "request", "store",  "turn",    "time",   "first",  "fast",
    "slow",   "load",   "save",    "page",   "block",   "table",  "key",    "value",
    "query",  "head",   "batch",   "queue",  "order",   "write",  "read",   "file",
    "code",   "test",   "build",   "run",    "user",    "reply",  "text",   "word",
    "short",  "long",   "small",   "large",  "local",   "remote", "share",  "keep",
    "drop",   "reuse",  "again",   "and",    "or",      "of",     "to",     "in"};

std::string Words(Rng& rng, int64_t n) {
  std::string s;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) s += ' ';
    s += kWords[static_cast<size_t>(rng.UniformInt(0, kWords.size() - 1))];
  }
  return s;
}

int64_t LengthWords(Rng& rng, double median, double sigma, int max_words) {
  const double x = rng.LogNormal(std::log(std::max(median, 1.0)), sigma);
  return std::clamp<int64_t>(std::llround(x), 1, std::max(max_words, 1));
}

}  // namespace

Workload GenerateSynthetic(const SyntheticOptions& o) {
  Rng rng(o.seed);
  Workload w;
  w.source = "synthetic:seed=" + std::to_string(o.seed);
  const std::string system = o.system_words > 0 ? Words(rng, o.system_words) : std::string();
  w.conversations.reserve(static_cast<size_t>(std::max<int64_t>(o.n_conversations, 0)));
  for (int64_t i = 0; i < o.n_conversations; ++i) {
    Conversation c;
    c.id = "syn-" + std::to_string(i);
    c.system = system;
    const int64_t turns = rng.UniformInt(o.min_turns, std::max(o.min_turns, o.max_turns));
    for (int64_t k = 0; k < turns; ++k) {
      Turn t;
      t.user = "[" + c.id + " turn " + std::to_string(k + 1) + "] " +
               Words(rng, LengthWords(rng, o.user_words_median, o.user_words_sigma, o.max_words));
      t.assistant = Words(
          rng, LengthWords(rng, o.assistant_words_median, o.assistant_words_sigma, o.max_words));
      c.turns.push_back(std::move(t));
    }
    w.conversations.push_back(std::move(c));
  }
  return w;
}

}  // namespace cellar::replay
