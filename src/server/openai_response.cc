#include "server/openai_response.h"

#include <utility>

namespace cellar {
namespace {

using Json = nlohmann::ordered_json;

Json BytesJson(std::string_view s) {
  Json a = Json::array();
  for (unsigned char c : s) a.push_back(static_cast<int>(c));
  return a;
}

Json ObjectHeader(const ResponseMeta& meta, bool chunk) {
  Json j;
  j["id"] = meta.id;
  if (meta.endpoint == ApiEndpoint::kChatCompletions) {
    j["object"] = chunk ? "chat.completion.chunk" : "chat.completion";
  } else {
    j["object"] = "text_completion";
  }
  j["created"] = meta.created;
  j["model"] = meta.model;
  j["system_fingerprint"] = meta.system_fingerprint;
  return j;
}

}  // namespace

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view OpenAiFinishReason(EndReason reason) {
  return reason == EndReason::kLength ? "length" : "stop";
}

Json UsageJson(const RequestSummary& s) {
  Json u;
  u["prompt_tokens"] = s.n_prompt_tokens;
  u["completion_tokens"] = s.n_completion_tokens;
  u["total_tokens"] = s.n_prompt_tokens + s.n_completion_tokens;
  u["prompt_tokens_details"]["cached_tokens"] = s.n_cached_tokens;
  // Cellar extension: prompt tokens dropped to fit the context (only when some were).
  if (s.n_dropped_tokens > 0) u["prompt_tokens_details"]["dropped_tokens"] = s.n_dropped_tokens;
  return u;
}

Json ChatLogprobsJson(std::span<const TokenLogprobs> tokens) {
  Json content = Json::array();
  for (const TokenLogprobs& t : tokens) {
    Json e;
    e["token"] = t.chosen.text;
    e["logprob"] = t.chosen.logprob;
    e["bytes"] = BytesJson(t.chosen.text);
    Json top = Json::array();
    for (const TokenCandidate& c : t.top) {
      Json x;
      x["token"] = c.text;
      x["logprob"] = c.logprob;
      x["bytes"] = BytesJson(c.text);
      top.push_back(std::move(x));
    }
    e["top_logprobs"] = std::move(top);
    content.push_back(std::move(e));
  }
  Json j;
  j["content"] = std::move(content);
  return j;
}

Json CompletionLogprobsJson(std::span<const TokenLogprobs> tokens, size_t text_offset) {
  Json j;
  Json toks = Json::array(), lps = Json::array(), tops = Json::array(), offsets = Json::array();
  size_t offset = text_offset;
  for (const TokenLogprobs& t : tokens) {
    toks.push_back(t.chosen.text);
    lps.push_back(t.chosen.logprob);
    Json top = Json::object();
    for (const TokenCandidate& c : t.top) top[c.text] = c.logprob;
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += t.chosen.text.size();
  }
  j["tokens"] = std::move(toks);
  j["token_logprobs"] = std::move(lps);
  j["top_logprobs"] = std::move(tops);
  j["text_offset"] = std::move(offsets);
  return j;
}

std::string CompletionResponseJson(const ResponseMeta& meta, const std::string& text,
                                   std::span<const TokenLogprobs> logprobs, bool with_logprobs,
                                   const RequestSummary& summary) {
  Json j = ObjectHeader(meta, /*chunk=*/false);
  Json choice;
  choice["index"] = 0;
  if (meta.endpoint == ApiEndpoint::kChatCompletions) {
    choice["message"]["role"] = "assistant";
    choice["message"]["content"] = text;
    choice["logprobs"] = with_logprobs ? ChatLogprobsJson(logprobs) : Json(nullptr);
  } else {
    choice["text"] = text;
    choice["logprobs"] = with_logprobs ? CompletionLogprobsJson(logprobs, 0) : Json(nullptr);
  }
  choice["finish_reason"] = OpenAiFinishReason(summary.finish_reason);
  j["choices"] = Json::array({std::move(choice)});
  j["usage"] = UsageJson(summary);
  return DumpJson(j);
}

std::string ChunkJson(const ResponseMeta& meta, const ChunkContent& c) {
  Json j = ObjectHeader(meta, /*chunk=*/true);
  Json choice;
  choice["index"] = 0;
  if (meta.endpoint == ApiEndpoint::kChatCompletions) {
    Json delta = Json::object();
    if (c.role_chunk) {
      delta["role"] = "assistant";
      delta["content"] = "";
    } else if (!c.text.empty()) {
      delta["content"] = c.text;
    }
    choice["delta"] = std::move(delta);
    choice["logprobs"] =
        c.with_logprobs && !c.logprobs.empty() ? ChatLogprobsJson(c.logprobs) : Json(nullptr);
  } else {
    choice["text"] = c.text;
    choice["logprobs"] = c.with_logprobs && !c.logprobs.empty()
                             ? CompletionLogprobsJson(c.logprobs, c.text_offset)
                             : Json(nullptr);
  }
  choice["finish_reason"] = c.finish ? Json(OpenAiFinishReason(*c.finish)) : Json(nullptr);
  j["choices"] = Json::array({std::move(choice)});
  if (c.usage_null) j["usage"] = nullptr;
  return DumpJson(j);
}

std::string UsageChunkJson(const ResponseMeta& meta, const RequestSummary& summary) {
  Json j = ObjectHeader(meta, /*chunk=*/true);
  j["choices"] = Json::array();
  j["usage"] = UsageJson(summary);
  return DumpJson(j);
}

std::string SseData(std::string_view payload) {
  std::string s;
  s.reserve(payload.size() + 8);
  s += "data: ";
  s += payload;
  s += "\n\n";
  return s;
}

}  // namespace cellar
