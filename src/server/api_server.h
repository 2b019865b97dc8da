// ApiServer: Cellar's OpenAI-compatible HTTP API over an EngineService.
//
//   POST /v1/chat/completions   chat (streamed or not)        GenerationHandler
//   POST /v1/completions        text completion               GenerationHandler
//   GET  /v1/models             the served model
//   GET  /health                {"status": "ok"} (503 while shutting down)
//   GET  /metrics               Prometheus text (ServerMetrics)
//
// The /v1/ routes require "Authorization: Bearer <key>" when API keys are
// configured (ApiKeyAuth); the tenant they name is the only source of a
// request's tenant salt. Errors are OpenAI error objects (api_error.h).
// docs/SERVER.md describes the whole API.
//
// Lifecycle: Create() binds the port; Serve() blocks; Shutdown() (any thread,
// e.g. a signal watcher) stops accepting connections, lets the generations in
// flight finish for up to the grace period, then cancels the rest; Serve()
// returns when every response has ended. The EngineService must outlive the
// ApiServer. Thread-safety: Serve() on one thread; Shutdown() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/engine_service.h"
#include "server/api_key_auth.h"
#include "server/generation_handler.h"
#include "server/http_server.h"
#include "server/server_metrics.h"

namespace cellar {

struct ApiServerOptions {
  HttpServerOptions http;
  std::vector<ApiKeyEntry> api_keys;  // empty: no authentication
  std::string tenant;                 // the tenant when no keys (or a single key) name one
  // How often a handler waiting for tokens checks that its client is still there.
  std::chrono::milliseconds poll_interval{50};
  // Optional: more Prometheus text appended to /metrics (the store's metrics,
  // engine/kv_store.h KvStore::RenderMetrics). Called on an HTTP thread.
  std::function<std::string()> extra_metrics;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Create(EngineService* engine, ApiServerOptions options);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int port() const { return http_->port(); }

  // Serves until Shutdown(). INTERNAL when the listener fails.
  Status Serve();

  // Stops accepting connections and refuses new requests (503); waits up to
  // `grace` for the generations in flight to end, then cancels those still
  // running. Returns the number that had to be cancelled. Idempotent.
  int Shutdown(std::chrono::milliseconds grace);

  ServerMetrics& metrics() { return metrics_; }

 private:
  ApiServer(EngineService* engine, ApiKeyAuth auth, ApiServerOptions options,
            std::unique_ptr<HttpServer> http);
  void AddRoutes();
  // The tenant of an authorized request, or the 401 response.
  bool Authorize(const HttpRequest& request, Tenant* tenant, HttpResponse* denied) const;
  HttpResponse Generate(ApiEndpoint endpoint, const HttpRequest& request);
  HttpResponse Models(const HttpRequest& request) const;
  HttpResponse Health() const;
  HttpResponse Metrics() const;

  EngineService* engine_;
  ApiKeyAuth auth_;
  ApiServerOptions options_;
  std::unique_ptr<HttpServer> http_;
  ServerMetrics metrics_;
  GenerationHandler generations_;
  std::atomic<bool> draining_{false};
};

}  // namespace cellar
