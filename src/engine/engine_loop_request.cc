#include "engine/engine_loop_request.h"

#include <algorithm>
#include <utility>

namespace cellar {

Result<std::unique_ptr<LoopRequest>> LoopRequest::Create(RequestId id, GenerateRequest request,
                                                         std::shared_ptr<RequestChannel> channel,
                                                         const Tokenizer& tokenizer, int n_vocab,
                                                         int n_ctx, int64_t arrival_nanos) {
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> sampler,
                          Sampler::Create(request.sampling, n_vocab));
  // Penalties look back over the prompt too (as llama.cpp's server does).
  const size_t window = static_cast<size_t>(std::max(0, request.sampling.penalty_last_n));
  const size_t n = request.prompt.size();
  for (size_t i = n > window ? n - window : 0; i < n; ++i) sampler->Accept(request.prompt[i]);
  return std::unique_ptr<LoopRequest>(new LoopRequest(id, std::move(request), std::move(channel),
                                                      tokenizer, std::move(sampler), n_ctx,
                                                      arrival_nanos));
}

LoopRequest::LoopRequest(RequestId id, GenerateRequest request,
                         std::shared_ptr<RequestChannel> channel, const Tokenizer& tokenizer,
                         std::unique_ptr<Sampler> sampler, int n_ctx, int64_t arrival_nanos)
    : id_(id),
      request_(std::move(request)),
      channel_(std::move(channel)),
      tokenizer_(tokenizer),
      sampler_(std::move(sampler)),
      // Generated text continues the prompt: pieces are output as they are.
      detokenizer_(tokenizer,
                   StreamingDetokenizer::Options{.render_special = false, .sequence_start = false}),
      stop_matcher_(request_.stop),
      n_ctx_(n_ctx),
      arrival_nanos_(arrival_nanos) {}

void LoopRequest::OnFirstAdmission(int n_cached_tokens) {
  admitted_ = true;
  n_cached_tokens_ = n_cached_tokens;
}

TokenId LoopRequest::Sample(std::span<const float> logits) {
  const TokenId token = sampler_->Sample(logits);
  sampler_->Accept(token);
  return token;
}

std::optional<EndReason> LoopRequest::OnToken(TokenId token, std::span<const float> logits,
                                              int64_t now) {
  ++n_generated_;
  if (first_token_nanos_ < 0) first_token_nanos_ = now;
  TokenOutput out;
  out.token = token;
  out.time_nanos = now;
  if (request_.logprobs.enabled) {
    TokenLogprobs lp;
    TokenLogprob chosen;
    std::vector<TokenLogprob> top;
    ComputeLogprobs(logits, token, request_.logprobs.n_top, &chosen, &top);
    lp.chosen = TokenCandidate{token, tokenizer_.TokenToPiece(token), chosen.logprob};
    lp.top.reserve(top.size());
    for (const TokenLogprob& t : top) {
      lp.top.push_back(TokenCandidate{t.token, tokenizer_.TokenToPiece(t.token), t.logprob});
    }
    out.logprobs = std::move(lp);
  }
  const bool eog = tokenizer_.vocab().IsEog(token);
  if (eog && request_.stop_at_eog) {
    // The end token itself is not text; its logprobs (if asked) are not sent.
    return EndReason::kStop;
  }
  StopMatcher::Output s = stop_matcher_.Push(detokenizer_.Push(token));
  out.text = std::move(s.text);
  channel_->PushToken(std::move(out));
  if (s.stopped) {
    stop_string_ = std::move(s.stop);
    return EndReason::kStop;
  }
  if (request_.max_tokens > 0 && n_generated_ >= request_.max_tokens) return EndReason::kLength;
  if (n_prompt_tokens() + n_generated_ >= n_ctx_) return EndReason::kLength;
  return std::nullopt;
}

void LoopRequest::Finish(EndReason reason, int64_t now, Status error) {
  RequestSummary s;
  s.finish_reason = reason;
  if ((reason == EndReason::kStop || reason == EndReason::kLength) && !stop_matcher_.stopped()) {
    StopMatcher::Output o = stop_matcher_.Push(detokenizer_.Flush());
    s.text = std::move(o.text);
    if (o.stopped) {
      s.finish_reason = EndReason::kStop;
      stop_string_ = std::move(o.stop);
    } else {
      s.text += stop_matcher_.Flush();
    }
  }
  s.stop_string = stop_string_;
  s.error = std::move(error);
  s.n_prompt_tokens = n_prompt_tokens();
  s.n_cached_tokens = n_cached_tokens_;
  s.n_dropped_tokens = request_.n_dropped_tokens;
  s.n_completion_tokens = n_generated_;
  s.n_preemptions = n_preemptions_;
  s.arrival_nanos = arrival_nanos_;
  s.first_token_nanos = first_token_nanos_;
  s.finish_nanos = now;
  channel_->Close(std::move(s));
}

}  // namespace cellar
