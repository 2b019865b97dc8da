// LoopRequest: one request's generation state inside the engine loop — its
// sampler, its streaming detokenizer and stop-string matcher, the stop rules,
// and the channel its output goes to. The scheduler keeps the request's
// tokens and blocks; this keeps everything about turning logits into output.
//
// Stop rules, checked after each token in this order: an end-of-generation
// token (when stop_at_eog), a completed stop string, max_tokens, the context
// length (prompt + generated tokens == n_ctx).
//
// Owned by the EngineLoop. Thread-safety: engine thread only (the channel it
// writes to is the thread-safe boundary).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "engine/request_channel.h"
#include "engine/request_params.h"
#include "engine/sampling.h"
#include "engine/stop_matcher.h"
#include "model/streaming_detokenizer.h"
#include "model/tokenizer.h"

namespace cellar {

class LoopRequest {
 public:
  // INVALID_ARGUMENT for bad sampling parameters.
  static Result<std::unique_ptr<LoopRequest>> Create(RequestId id, GenerateRequest request,
                                                     std::shared_ptr<RequestChannel> channel,
                                                     const Tokenizer& tokenizer, int n_vocab,
                                                     int n_ctx, int64_t arrival_nanos);

  RequestId id() const { return id_; }
  const GenerateRequest& request() const { return request_; }
  int n_prompt_tokens() const { return static_cast<int>(request_.prompt.size()); }
  int n_generated() const { return n_generated_; }
  bool admitted() const { return admitted_; }
  int n_preemptions() const { return n_preemptions_; }
  void OnPreempted() { ++n_preemptions_; }

  // The first admission: records how many prompt tokens were served from cache.
  void OnFirstAdmission(int n_cached_tokens);

  // Picks the next token from this request's logits (and records it in the
  // sampler's penalty window).
  TokenId Sample(std::span<const float> logits);

  // `token` (sampled from `logits`) was appended to the request: sends its
  // text and logprobs to the channel. Returns the reason when a stop rule
  // ends the request.
  std::optional<FinishReason> OnToken(TokenId token, std::span<const float> logits, int64_t now);

  // Ends the request: releases held-back text (unless a stop string ended it)
  // and closes the channel with the summary.
  void Finish(FinishReason reason, int64_t now, Status error = OkStatus());

 private:
  LoopRequest(RequestId id, GenerateRequest request, std::shared_ptr<RequestChannel> channel,
              const Tokenizer& tokenizer, std::unique_ptr<Sampler> sampler, int n_ctx,
              int64_t arrival_nanos);

  const RequestId id_;
  GenerateRequest request_;
  std::shared_ptr<RequestChannel> channel_;
  const Tokenizer& tokenizer_;
  std::unique_ptr<Sampler> sampler_;
  StreamingDetokenizer detokenizer_;
  StopMatcher stop_matcher_;
  const int n_ctx_;
  const int64_t arrival_nanos_;
  int64_t first_token_nanos_ = -1;
  int n_generated_ = 0;
  int n_cached_tokens_ = 0;
  bool admitted_ = false;
  int n_preemptions_ = 0;
  std::string stop_string_;  // set when a stop string ended the request
};

}  // namespace cellar
