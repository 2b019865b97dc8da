// Parsing and validation of OpenAI request bodies (/v1/chat/completions and
// /v1/completions) into what the engine needs. Every problem becomes an
// ApiError naming the offending field (`param`), never an exception: the JSON
// library's exceptions stop here.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_service.h"
#include "engine/request_params.h"
#include "server/api_error.h"

namespace cellar {

enum class ApiEndpoint { kChatCompletions, kCompletions };

struct ParsedApiRequest {
  ApiEndpoint endpoint = ApiEndpoint::kChatCompletions;
  std::string model;  // as sent ("" when absent); not checked against the served model
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // The prompt: `chat` for chat completions; `prompt_text` or `prompt_tokens`
  // (exactly one) for completions.
  ChatPrompt chat;
  std::optional<std::string> prompt_text;
  std::optional<std::vector<TokenId>> prompt_tokens;
  // Sampling, limits, stop strings, logprobs and session id; `prompt` and
  // `tenant_salt` are filled in later by the server.
  GenerateRequest generate;
  bool max_tokens_given = false;  // false: chat generates until the context is full
  std::string user;               // "user" field (informational)
};

// Defaults that are not the same for both endpoints (OpenAI's: chat generates
// until the context is full, completions 16 tokens).
inline constexpr int kDefaultCompletionsMaxTokens = 16;

// Parses a request body for `endpoint`. `random_seed` is used when the request
// has no "seed" (so unseeded sampling differs between requests).
std::optional<ApiError> ParseApiRequest(ApiEndpoint endpoint, std::string_view body,
                                        uint64_t random_seed, ParsedApiRequest* out);

}  // namespace cellar
