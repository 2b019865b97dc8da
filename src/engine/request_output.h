// What comes back from the engine for one request: a TokenOutput per generated
// token as it is sampled, then one RequestSummary when the request ends.
// Plain values carried from the engine thread to the request's consumer by a
// RequestChannel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kv/kv_types.h"

namespace cellar {

enum class EndReason : uint8_t {
  kStop,       // an end-of-generation token or a stop string
  kLength,     // max_tokens, the context length, or the KV pool's capacity
  kCancelled,  // cancelled by the client (or the server shutting down)
  kError,      // the engine failed the request (RequestSummary::error says why)
};

// "stop", "length", "cancelled", "error".
std::string_view EndReasonName(EndReason reason);

// One candidate token with its log-probability under the model's raw logits.
struct TokenCandidate {
  TokenId token = 0;
  std::string text;  // the token's bytes (may be part of a UTF-8 character)
  float logprob = 0.0f;
};

struct TokenLogprobs {
  TokenCandidate chosen;
  std::vector<TokenCandidate> top;  // most likely first; LogprobsOptions::n_top entries
};

struct TokenOutput {
  TokenId token = 0;
  // The text this token makes final: complete UTF-8 only, and with text that
  // may still become a stop string held back. Often "" (an incomplete
  // character, a held-back prefix, an end-of-generation token).
  std::string text;
  int64_t time_nanos = 0;                 // engine clock when the token was sampled
  std::optional<TokenLogprobs> logprobs;  // when requested
};

struct RequestSummary {
  EndReason finish_reason = EndReason::kStop;
  // Text released at the end (held-back bytes when no stop string completed).
  std::string text;
  std::string stop_string;  // the stop string that ended it, if any
  Status error;             // why, for kError
  int n_prompt_tokens = 0;
  // Prompt tokens whose KV was reused (pool prefix cache, later the store).
  int n_cached_tokens = 0;
  // Prompt tokens dropped from the middle of an over-long conversation to fit
  // the context (GenerateRequest::n_dropped_tokens); not counted in n_prompt_tokens.
  int n_dropped_tokens = 0;
  int n_completion_tokens = 0;  // tokens generated (end-of-generation included)
  int n_preemptions = 0;
  // Engine clock: submission, first generated token (-1: none), end.
  int64_t arrival_nanos = 0;
  int64_t first_token_nanos = -1;
  int64_t finish_nanos = 0;

  // Time to first token in seconds (-1 when no token was generated).
  double ttft_seconds() const {
    return first_token_nanos < 0 ? -1.0
                                 : static_cast<double>(first_token_nanos - arrival_nanos) * 1e-9;
  }
};

}  // namespace cellar
