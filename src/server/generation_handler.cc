#include "server/generation_handler.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "engine/kv_store_truncation.h"
#include "server/api_error.h"
#include "server/openai_response.h"

namespace cellar {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// How long a handler that has cancelled its request waits for the engine to
// confirm (the confirmation only feeds metrics; the blocks are freed anyway).
constexpr auto kDrainTimeout = std::chrono::seconds(5);

ApiError ShuttingDown() {
  ApiError e;
  e.status = 503;
  e.type = "server_error";
  e.code = "unavailable";
  e.message = "the server is shutting down";
  return e;
}

ApiError EngineFailed(const RequestSummary& s) {
  ApiError e;
  e.status = 500;
  e.type = "server_error";
  e.code = "internal_error";
  e.message = s.error.ok() ? "the request failed" : s.error.message();
  return e;
}

}  // namespace

struct GenerationHandler::Active {
  explicit Active(GenerationHandler* o) : owner(o) { ++owner->n_active_; }
  ~Active() {
    handle.Cancel();
    --owner->n_active_;
  }
  Active(const Active&) = delete;
  Active& operator=(const Active&) = delete;

  GenerationHandler* owner;
  RequestHandle handle;
  ResponseMeta meta;
  bool include_usage = false;
  bool with_logprobs = false;
  std::string text;                     // collected (non-streamed) text
  std::vector<TokenLogprobs> logprobs;  // collected logprobs
  size_t text_offset = 0;               // bytes of text already streamed
  int64_t last_token_nanos = -1;
  std::optional<RequestSummary> summary;
  bool recorded = false;
};

GenerationHandler::GenerationHandler(EngineService* engine, ServerMetrics* metrics,
                                     std::chrono::nanoseconds poll_interval)
    : engine_(engine), metrics_(metrics), poll_interval_(poll_interval) {
  std::random_device rd;
  random_base_ = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                 static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

uint64_t GenerationHandler::NextRandom() {
  return SplitMix64(random_base_ + counter_.fetch_add(1));
}

HttpResponse GenerationHandler::Handle(ApiEndpoint endpoint, const HttpRequest& request,
                                       const Tenant& tenant) {
  if (cancel_all_) return ShuttingDown().ToResponse();
  ParsedApiRequest p;
  if (auto e = ParseApiRequest(endpoint, request.body, NextRandom(), &p)) return e->ToResponse();
  const bool chat = endpoint == ApiEndpoint::kChatCompletions;
  const char* prompt_param = chat ? "messages" : "prompt";

  Result<std::vector<TokenId>> tokens = std::vector<TokenId>();
  if (chat) {
    tokens = engine_->TokenizeChat(p.chat);
  } else if (p.prompt_tokens) {
    const int n_vocab = engine_->model_info().n_vocab;
    for (TokenId t : *p.prompt_tokens) {
      if (t < 0 || t >= n_vocab) {
        return ApiError::Invalid(fmt::format("'prompt' holds token id {} outside the vocabulary "
                                             "(0 .. {})",
                                             t, n_vocab - 1),
                                 "prompt", "invalid_value")
            .ToResponse();
      }
    }
    tokens = std::move(*p.prompt_tokens);
  } else {
    tokens = engine_->TokenizeText(*p.prompt_text);
  }
  if (!tokens.ok()) {
    ApiError e = ApiErrorFromStatus(tokens.status());
    e.param = prompt_param;
    return e.ToResponse();
  }
  if (tokens->empty()) {
    return ApiError::Invalid("the prompt is empty", prompt_param, "invalid_value").ToResponse();
  }

  auto active = std::make_shared<Active>(this);
  active->include_usage = p.include_usage;
  active->with_logprobs = p.generate.logprobs.enabled;
  // An over-long chat keeps its system prompt when truncated (engine/kv_store_truncation.h).
  if (chat)
    p.generate.n_keep = SystemPromptTokens(*engine_, p.chat, *tokens, p.generate.max_tokens);
  p.generate.prompt = std::move(*tokens);
  p.generate.tenant_salt = tenant.salt;
  Result<RequestHandle> handle = engine_->Submit(std::move(p.generate));
  if (!handle.ok()) {
    ApiError e = ApiErrorFromStatus(handle.status());
    if (handle.status().code() == StatusCode::kOutOfRange) e.param = prompt_param;
    return e.ToResponse();
  }
  active->handle = std::move(*handle);
  const EngineModelInfo& info = engine_->model_info();
  active->meta.endpoint = endpoint;
  active->meta.id = fmt::format("{}-{:016x}", chat ? "chatcmpl" : "cmpl", NextRandom());
  active->meta.created = static_cast<int64_t>(std::time(nullptr));
  active->meta.model = info.id;
  active->meta.system_fingerprint = "fp_" + info.fingerprint.substr(0, 16);

  if (!p.stream) return Collect(std::move(active), request);
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream = [this, active](HttpStreamWriter& w) { Stream(*active, w); };
  return r;
}

void GenerationHandler::Finish(Active& a) {
  if (a.recorded || !a.summary) return;
  a.recorded = true;
  metrics_->OnRequestFinished(*a.summary);
}

void GenerationHandler::CancelAndDrain(Active& a) {
  a.handle.Cancel();
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  RequestEvents ev;
  while (!a.summary && a.handle.valid() && std::chrono::steady_clock::now() < deadline) {
    if (a.handle.channel().Take(poll_interval_, &ev) && ev.summary)
      a.summary = std::move(ev.summary);
  }
  Finish(a);
}

HttpResponse GenerationHandler::Collect(std::shared_ptr<Active> active,
                                        const HttpRequest& request) {
  Active& a = *active;
  RequestEvents ev;
  auto next_check = std::chrono::steady_clock::now() + poll_interval_;
  while (!a.summary) {
    if (cancel_all_) {
      CancelAndDrain(a);
      return ShuttingDown().ToResponse();
    }
    if (a.handle.channel().Take(poll_interval_, &ev)) {
      for (TokenOutput& t : ev.tokens) {
        if (a.last_token_nanos >= 0) {
          metrics_->OnInterTokenLatency(static_cast<double>(t.time_nanos - a.last_token_nanos) *
                                        1e-9);
        }
        a.last_token_nanos = t.time_nanos;
        a.text += t.text;
        if (t.logprobs) a.logprobs.push_back(std::move(*t.logprobs));
      }
      if (ev.summary) a.summary = std::move(ev.summary);
      if (a.summary || std::chrono::steady_clock::now() < next_check) continue;
    }
    // Every poll interval (tokens may keep arriving), check the client is still there.
    next_check = std::chrono::steady_clock::now() + poll_interval_;
    if (!request.client_connected()) {
      CancelAndDrain(a);
      ApiError e;
      e.status = 499;  // client closed the request (nobody reads this)
      e.message = "client disconnected";
      e.code = "client_closed_request";
      return e.ToResponse();
    }
  }
  Finish(a);
  const RequestSummary& s = *a.summary;
  if (s.finish_reason == EndReason::kError) return EngineFailed(s).ToResponse();
  if (s.finish_reason == EndReason::kCancelled) return ShuttingDown().ToResponse();
  a.text += s.text;
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = CompletionResponseJson(a.meta, a.text, a.logprobs, a.with_logprobs, s);
  return r;
}

void GenerationHandler::Stream(Active& a, HttpStreamWriter& w) {
  const bool chat = a.meta.endpoint == ApiEndpoint::kChatCompletions;
  auto write = [&](const std::string& payload) { return w.Write(SseData(payload)); };
  auto chunk = [&](ChunkContent c) {
    c.with_logprobs = a.with_logprobs;
    c.usage_null = a.include_usage;
    return write(ChunkJson(a.meta, c));
  };
  if (chat && !chunk(ChunkContent{.role_chunk = true})) {
    CancelAndDrain(a);
    return;
  }
  RequestEvents ev;
  std::string text;
  std::vector<TokenLogprobs> logprobs;
  auto next_check = std::chrono::steady_clock::now() + poll_interval_;
  while (!a.summary) {
    if (cancel_all_) {
      CancelAndDrain(a);
      write(ShuttingDown().ToJson());
      w.Write(kSseDone);
      return;
    }
    if (!a.handle.channel().Take(poll_interval_, &ev) ||
        std::chrono::steady_clock::now() >= next_check) {
      // Writes notice a client that has gone away, but only when there is
      // text to send: also check every poll interval.
      next_check = std::chrono::steady_clock::now() + poll_interval_;
      if (!w.Connected()) {
        CancelAndDrain(a);
        return;
      }
      if (ev.empty()) continue;
    }
    text.clear();
    logprobs.clear();
    for (TokenOutput& t : ev.tokens) {
      if (a.last_token_nanos >= 0) {
        metrics_->OnInterTokenLatency(static_cast<double>(t.time_nanos - a.last_token_nanos) *
                                      1e-9);
      }
      a.last_token_nanos = t.time_nanos;
      text += t.text;
      if (t.logprobs) logprobs.push_back(std::move(*t.logprobs));
    }
    if (ev.summary) a.summary = std::move(ev.summary);
    if (!text.empty() || !logprobs.empty()) {
      if (!chunk(ChunkContent{.text = text, .logprobs = logprobs, .text_offset = a.text_offset})) {
        CancelAndDrain(a);
        return;
      }
      a.text_offset += text.size();
    }
  }
  Finish(a);
  const RequestSummary& s = *a.summary;
  if (s.finish_reason == EndReason::kError || s.finish_reason == EndReason::kCancelled) {
    const ApiError e = s.finish_reason == EndReason::kError ? EngineFailed(s) : ShuttingDown();
    write(e.ToJson());
    w.Write(kSseDone);
    return;
  }
  if (!s.text.empty() && !chunk(ChunkContent{.text = s.text, .text_offset = a.text_offset})) return;
  if (!chunk(ChunkContent{.finish = s.finish_reason})) return;
  if (a.include_usage && !write(UsageChunkJson(a.meta, s))) return;
  w.Write(kSseDone);
}

}  // namespace cellar
