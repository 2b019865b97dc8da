// Building OpenAI response bodies: whole chat / text completions, streamed
// chunks (chat.completion.chunk, text_completion), usage and logprobs, and the
// SSE framing of a stream.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/request_output.h"
#include "server/openai_request.h"

namespace cellar {

// What every response object of one request repeats.
struct ResponseMeta {
  ApiEndpoint endpoint = ApiEndpoint::kChatCompletions;
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
  std::string system_fingerprint;
};

// "stop" or "length" (cancelled and failed requests have no OpenAI reason;
// they map to "stop").
std::string_view OpenAiFinishReason(FinishReason reason);

// {"prompt_tokens", "completion_tokens", "total_tokens",
//  "prompt_tokens_details": {"cached_tokens"}}
nlohmann::ordered_json UsageJson(const RequestSummary& summary);

// Logprobs of generated tokens: chat's {"content": [{token, logprob, bytes,
// top_logprobs}]} or the completions' {tokens, token_logprobs, top_logprobs,
// text_offset}. `text_offset` is where the first token's text starts.
nlohmann::ordered_json ChatLogprobsJson(std::span<const TokenLogprobs> tokens);
nlohmann::ordered_json CompletionLogprobsJson(std::span<const TokenLogprobs> tokens,
                                              size_t text_offset);

// A whole (non-streamed) response.
std::string CompletionResponseJson(const ResponseMeta& meta, const std::string& text,
                                   std::span<const TokenLogprobs> logprobs, bool with_logprobs,
                                   const RequestSummary& summary);

// One streamed chunk. Chat: `role_chunk` makes the first chunk's delta
// {"role": "assistant", "content": ""}; otherwise the delta carries `text`
// (when not empty). `finish` sets finish_reason (and an empty delta for chat).
// `usage_null` adds "usage": null (stream_options.include_usage).
struct ChunkContent {
  bool role_chunk = false;
  std::string_view text;
  std::span<const TokenLogprobs> logprobs;
  bool with_logprobs = false;
  size_t text_offset = 0;  // completions' logprobs text_offset of the first token
  std::optional<FinishReason> finish;
  bool usage_null = false;
};
std::string ChunkJson(const ResponseMeta& meta, const ChunkContent& content);

// The last chunk of an include_usage stream: no choices, the usage.
std::string UsageChunkJson(const ResponseMeta& meta, const RequestSummary& summary);

// SSE framing: "data: <payload>\n\n"; the stream ends with kSseDone.
std::string SseData(std::string_view payload);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// Serializes JSON for the wire (invalid UTF-8 replaced, never throws).
std::string DumpJson(const nlohmann::ordered_json& j);

}  // namespace cellar
