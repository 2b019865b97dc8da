// Generate: the token-by-token loop after a prompt — sample, stream the text,
// stop at an end-of-generation token, a stop string, the token limit or a full
// context. Used by `cellar generate` and `cellar chat`; the serving engine runs
// the same steps per request inside its batched loop.
//
// Text is produced through a StreamingDetokenizer (whole UTF-8 characters only)
// and a StopMatcher (text that could begin a stop string is held back until it
// is known not to be one), so every piece handed to on_text is final.
// Thread-safety: runs on the calling thread; the session must not be used
// concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/local_session.h"
#include "engine/sampling.h"
#include "model/tokenizer.h"

namespace cellar {

enum class FinishReason : uint8_t {
  kLength = 0,       // max_tokens generated
  kEndOfGeneration,  // the model produced an end-of-generation token (vocab IsEog)
  kStopString,       // a stop string completed
  kContextFull,      // no room left in the session's context
};

std::string_view FinishReasonName(FinishReason r);

struct GenerateOptions {
  int32_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings (not included in the output)
  int32_t top_logprobs = -1;      // >= 0: report logprobs of each token and this many top ones
};

struct GeneratedToken {
  int32_t id = 0;                 // -1 for the final call carrying text held back until the end
  std::string text;               // final text released by this token (may be empty)
  TokenLogprob logprob;           // when options.top_logprobs >= 0
  std::vector<TokenLogprob> top;  // when options.top_logprobs > 0
};

struct GenerateResult {
  std::vector<int32_t> ids;  // every sampled token, incl. a final end-of-generation one
  std::string text;          // the emitted text (stop string and EOG excluded)
  FinishReason finish = FinishReason::kLength;
};

// Continues the sequence held by `session`, whose last fed token produced
// `logits`. The session's tokens are accepted into the sampler's penalty window
// first. `on_token` (optional) sees each token as it is sampled; returning false
// cancels (finish = kLength). Generated tokens are fed back into the session,
// except the last one sampled.
Result<GenerateResult> Generate(LocalSession& session, const Tokenizer& tokenizer,
                                std::span<const float> logits, const GenerateOptions& options,
                                const std::function<bool(const GeneratedToken&)>& on_token = {});

}  // namespace cellar
