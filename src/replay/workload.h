// Workload: the conversations a replay sends, and the rule that turns one of them
// into the message list of each request.
//
// A conversation is replayed as a chat client does: turn k sends the system prompt,
// every earlier turn with its RECORDED assistant answer (not the model's), and the
// new user message. Recorded answers make every configuration see exactly the same
// prompts, whatever the model under test says.
//
// Plain values; thread-safe to read from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cellar::replay {

struct Turn {
  std::string user;
  // The recorded answer. Only the last turn of a conversation may lack one: nothing
  // is sent after it, so its answer is never needed.
  std::string assistant;
};

struct Conversation {
  std::string id;      // from the source (ShareGPT id), or "syn-<n>"
  std::string system;  // empty: no system message is sent
  std::vector<Turn> turns;
};

struct Workload {
  std::string source;  // what it was built from, for reports
  std::vector<Conversation> conversations;
  // Conversations dropped while loading or filtering, by reason ("not_alternating",
  // "empty_message", "too_few_turns", ...).
  std::map<std::string, int64_t> skipped;
  // Conversations kept but changed, by reason ("leading_assistant_trimmed",
  // "cut_max_turns", "cut_prompt_too_long").
  std::map<std::string, int64_t> adjusted;

  int64_t TotalTurns() const;
};

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

// The messages of turn `k` (0-based) of `c`. REQUIRES: k < c.turns.size().
std::vector<ChatMessage> MessagesForTurn(const Conversation& c, size_t k);

// Characters of every message content of turn `k`'s request.
int64_t PromptChars(const Conversation& c, size_t k);

// Selection applied to a loaded workload, in the order of the fields.
struct WorkloadFilter {
  // Given to every conversation that has no system prompt of its own ("" = none).
  std::string default_system;
  // Keep at most this many turns of each conversation (0 = all).
  int max_turns = 0;
  // Cut each conversation before the first turn whose prompt would exceed this many
  // characters, or (estimated) tokens = chars / chars_per_token (0 = no limit).
  int64_t max_prompt_chars = 0;
  int64_t max_prompt_tokens = 0;
  double chars_per_token = 4.0;
  // Drop conversations left with fewer turns ("too_few_turns").
  int min_turns = 1;
  // Shuffle the order of conversations with `seed` before taking the first N.
  bool shuffle = false;
  uint64_t seed = 1;
  // Keep the first N conversations (0 = all).
  int64_t max_conversations = 0;
};

Workload ApplyFilter(Workload w, const WorkloadFilter& f);

}  // namespace cellar::replay
