// GenerateRequest: everything the engine needs to run one generation — the
// prompt as token ids, how to sample, when to stop, and whose KV it may share.
// Built by the HTTP layer (or a CLI) from an API request and handed to
// EngineService::Submit; a plain value that moves into the engine thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/hash.h"
#include "engine/sampling.h"
#include "kv/kv_types.h"

namespace cellar {

// OpenAI's logprobs options: the chosen token's log-probability and, with
// n_top > 0, the n_top most likely tokens at each position.
struct LogprobsOptions {
  bool enabled = false;
  int n_top = 0;  // 0 .. kMaxTopLogprobs
};

inline constexpr int kMaxTopLogprobs = 20;

struct GenerateRequest {
  std::vector<TokenId> prompt;  // non-empty; every id in the vocabulary
  SamplingParams sampling;
  // Most tokens to generate (> 0), or 0: until the context is full. The engine
  // refuses (OUT_OF_RANGE) prompt + max_tokens over the context length.
  int max_tokens = 0;
  // Generation ends when the text contains one of these; the stop string and
  // what follows are not returned. Empty strings are ignored.
  std::vector<std::string> stop;
  // End at the model's end-of-generation tokens (EOS, EOT, ...). False keeps
  // generating through them (benchmarks).
  bool stop_at_eog = true;
  // From the server's authentication (kv::MakeTenantSalt), never from a client
  // field: requests share cached KV only under the same salt.
  Hash128 tenant_salt;
  // The conversation this request continues, if the client names one.
  std::optional<std::string> session_id;
  LogprobsOptions logprobs;
  // Truncation of an over-long conversation (engine/kv_store_truncation.h):
  // leading prompt tokens it must keep (the system prompt; -1: the engine's
  // --n-keep default), and, set by the engine when it truncated the prompt, how
  // many tokens it dropped.
  int n_keep = -1;
  int n_dropped_tokens = 0;
};

}  // namespace cellar
