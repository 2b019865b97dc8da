// GenerationHandler: answers one /v1/chat/completions or /v1/completions
// request end to end: parse and validate the body, build the prompt through
// the EngineService, submit it under the caller's tenant, then either collect
// the whole answer or stream it as server-sent events.
//
// While it waits for tokens it checks, every poll interval, that its client is
// still connected; a client that has gone away gets its request cancelled (so
// its KV blocks are freed). At shutdown, CancelAll() makes every handler still
// waiting cancel its request and end its response.
//
// Owned by the ApiServer. Thread-safety: Handle() is called concurrently from
// the connection threads; CancelAll() and n_active() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "engine/engine_service.h"
#include "server/api_key_auth.h"
#include "server/http_types.h"
#include "server/openai_request.h"
#include "server/server_metrics.h"

namespace cellar {

class GenerationHandler {
 public:
  GenerationHandler(EngineService* engine, ServerMetrics* metrics,
                    std::chrono::nanoseconds poll_interval);

  HttpResponse Handle(ApiEndpoint endpoint, const HttpRequest& request, const Tenant& tenant);

  // Every handler still waiting cancels its request and ends its response
  // (503 or, mid-stream, an error event). Later requests are refused.
  void CancelAll() { cancel_all_ = true; }
  // Generations being answered right now.
  int n_active() const { return n_active_.load(); }

 private:
  struct Active;  // one generation in flight (shared with its stream function)

  HttpResponse Collect(std::shared_ptr<Active> active, const HttpRequest& request);
  void Stream(Active& active, HttpStreamWriter& writer);
  // Cancels the request and waits (bounded) for the engine's summary.
  void CancelAndDrain(Active& active);
  void Finish(Active& active);
  uint64_t NextRandom();

  EngineService* engine_;
  ServerMetrics* metrics_;
  std::chrono::nanoseconds poll_interval_;
  std::atomic<bool> cancel_all_{false};
  std::atomic<int> n_active_{0};
  std::atomic<uint64_t> counter_{0};
  uint64_t random_base_;
};

}  // namespace cellar
