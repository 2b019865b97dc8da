#include "engine/generate.h"

#include <algorithm>

#include "engine/stop_matcher.h"
#include "model/streaming_detokenizer.h"

namespace cellar {

std::string_view FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEndOfGeneration:
      return "eog";
    case FinishReason::kStopString:
      return "stop";
    case FinishReason::kContextFull:
      return "context_full";
  }
  return "unknown";
}

Result<GenerateResult> Generate(LocalSession& session, const Tokenizer& tokenizer,
                                std::span<const float> logits, const GenerateOptions& options,
                                const std::function<bool(const GeneratedToken&)>& on_token) {
  const int32_t n_vocab = session.forward().n_vocab();
  if (static_cast<int32_t>(logits.size()) != n_vocab) {
    return InvalidArgument("Generate needs the logits of the last fed token");
  }
  CELLAR_ASSIGN_OR_RETURN(auto sampler, Sampler::Create(options.sampling, n_vocab));
  const auto& history = session.tokens();
  const size_t window = static_cast<size_t>(options.sampling.penalty_last_n);
  for (size_t i = history.size() - std::min(window, history.size()); i < history.size(); ++i) {
    sampler->Accept(history[i]);
  }
  StreamingDetokenizer::Options detok_options;
  detok_options.sequence_start = false;  // the ids continue a prompt
  StreamingDetokenizer detok(tokenizer, detok_options);
  StopMatcher stops(options.stop);
  GenerateResult result;
  std::span<const float> cur = logits;
  bool cancelled = false;
  for (int32_t i = 0; i < options.max_tokens; ++i) {
    GeneratedToken tok;
    tok.id = sampler->Sample(cur);
    sampler->Accept(tok.id);
    result.ids.push_back(tok.id);
    if (options.top_logprobs >= 0) {
      ComputeLogprobs(cur, tok.id, options.top_logprobs, &tok.logprob, &tok.top);
    }
    if (tokenizer.vocab().IsEog(tok.id)) {
      result.finish = FinishReason::kEndOfGeneration;
      if (on_token) on_token(tok);
      break;
    }
    const StopMatcher::Output out = stops.Push(detok.Push(tok.id));
    tok.text = out.text;
    result.text += out.text;
    if (on_token && !on_token(tok)) {
      cancelled = true;
      break;
    }
    if (out.stopped) {
      result.finish = FinishReason::kStopString;
      break;
    }
    if (i + 1 == options.max_tokens) break;
    if (session.n_past() >= session.n_ctx()) {
      result.finish = FinishReason::kContextFull;
      break;
    }
    const int32_t one[1] = {tok.id};
    CELLAR_ASSIGN_OR_RETURN(cur, session.Feed(one));
  }
  if (result.finish != FinishReason::kStopString && !cancelled) {
    // Release what the detokenizer and the stop matcher still hold.
    StopMatcher::Output out = stops.Push(detok.Flush());
    std::string tail = out.text;
    if (out.stopped) {
      result.finish = FinishReason::kStopString;
    } else {
      tail += stops.Flush();
    }
    result.text += tail;
    if (!tail.empty() && on_token) {
      GeneratedToken flush;
      flush.id = -1;  // no token: held-back text at the end
      flush.text = tail;
      on_token(flush);
    }
  }
  return result;
}

}  // namespace cellar
