#include "replay/workload.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "replay/random.h"

namespace cellar::replay {

int64_t Workload::TotalTurns() const {
  int64_t n = 0;
  for (const Conversation& c : conversations) n += static_cast<int64_t>(c.turns.size());
  return n;
}

std::vector<ChatMessage> MessagesForTurn(const Conversation& c, size_t k) {
  std::vector<ChatMessage> m;
  m.reserve(2 * k + 2);
  if (!c.system.empty()) m.push_back({"system", c.system});
  for (size_t i = 0; i < k; ++i) {
    m.push_back({"user", c.turns[i].user});
    m.push_back({"assistant", c.turns[i].assistant});
  }
  m.push_back({"user", c.turns[k].user});
  return m;
}

int64_t PromptChars(const Conversation& c, size_t k) {
  int64_t n = static_cast<int64_t>(c.system.size() + c.turns[k].user.size());
  for (size_t i = 0; i < k; ++i) {
    n += static_cast<int64_t>(c.turns[i].user.size() + c.turns[i].assistant.size());
  }
  return n;
}

Workload ApplyFilter(Workload w, const WorkloadFilter& f) {
  int64_t char_limit = f.max_prompt_chars;
  if (f.max_prompt_tokens > 0) {
    const auto from_tokens = static_cast<int64_t>(
        std::floor(static_cast<double>(f.max_prompt_tokens) * f.chars_per_token));
    char_limit = char_limit > 0 ? std::min(char_limit, from_tokens) : from_tokens;
  }
  std::vector<Conversation> kept;
  kept.reserve(w.conversations.size());
  for (Conversation& c : w.conversations) {
    if (c.system.empty()) c.system = f.default_system;
    if (f.max_turns > 0 && c.turns.size() > static_cast<size_t>(f.max_turns)) {
      c.turns.resize(static_cast<size_t>(f.max_turns));
      ++w.adjusted["cut_max_turns"];
    }
    if (char_limit > 0) {
      size_t k = 0;
      while (k < c.turns.size() && PromptChars(c, k) <= char_limit) ++k;
      if (k == 0) {
        ++w.skipped["prompt_too_long"];
        continue;
      }
      if (k < c.turns.size()) {
        ++w.adjusted["cut_prompt_too_long"];
        c.turns.resize(k);
      }
    }
    if (c.turns.size() < static_cast<size_t>(std::max(f.min_turns, 1))) {
      ++w.skipped["too_few_turns"];
      continue;
    }
    kept.push_back(std::move(c));
  }
  if (f.shuffle) {
    Rng rng(f.seed);
    // Fisher-Yates with the portable Rng, so the order is the same everywhere.
    for (size_t i = kept.size(); i > 1; --i) {
      const auto j = static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(i) - 1));
      std::swap(kept[i - 1], kept[j]);
    }
  }
  if (f.max_conversations > 0 && kept.size() > static_cast<size_t>(f.max_conversations)) {
    kept.resize(static_cast<size_t>(f.max_conversations));
  }
  w.conversations = std::move(kept);
  return w;
}

}  // namespace cellar::replay
