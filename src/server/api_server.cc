#include "server/api_server.h"

#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "base/log.h"
#include "server/api_error.h"
#include "server/openai_response.h"

namespace cellar {
namespace {

HttpResponse JsonResponse(int status, const nlohmann::ordered_json& j) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = DumpJson(j);
  return r;
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Create(EngineService* engine,
                                                     ApiServerOptions options) {
  CELLAR_ASSIGN_OR_RETURN(ApiKeyAuth auth, ApiKeyAuth::Create(options.api_keys, options.tenant));
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> http, HttpServer::Create(options.http));
  auto server = std::unique_ptr<ApiServer>(
      new ApiServer(engine, std::move(auth), std::move(options), std::move(http)));
  server->AddRoutes();
  return server;
}

ApiServer::ApiServer(EngineService* engine, ApiKeyAuth auth, ApiServerOptions options,
                     std::unique_ptr<HttpServer> http)
    : engine_(engine),
      auth_(std::move(auth)),
      options_(std::move(options)),
      http_(std::move(http)),
      generations_(engine, &metrics_, options_.poll_interval) {}

void ApiServer::AddRoutes() {
  http_->Route("POST", "/v1/chat/completions",
               [this](const HttpRequest& r) { return Generate(ApiEndpoint::kChatCompletions, r); });
  http_->Route("POST", "/v1/completions",
               [this](const HttpRequest& r) { return Generate(ApiEndpoint::kCompletions, r); });
  http_->Route("GET", "/v1/models", [this](const HttpRequest& r) { return Models(r); });
  http_->Route("GET", "/health", [this](const HttpRequest&) { return Health(); });
  http_->Route("GET", "/metrics", [this](const HttpRequest&) { return Metrics(); });
  http_->SetErrorResponder([](int status) { return ApiErrorForHttpStatus(status).ToResponse(); });
  http_->SetResponseObserver([this](std::string_view /*method*/, std::string_view path,
                                    int status) { metrics_.OnResponse(path, status); });
}

bool ApiServer::Authorize(const HttpRequest& request, Tenant* tenant, HttpResponse* denied) const {
  std::optional<Tenant> t = auth_.Authenticate(request.Header("Authorization"));
  if (t) {
    *tenant = std::move(*t);
    return true;
  }
  ApiError e;
  e.status = 401;
  e.message = request.Header("Authorization").empty()
                  ? "missing API key: send 'Authorization: Bearer <key>'"
                  : "invalid API key";
  e.code = "invalid_api_key";
  *denied = e.ToResponse();
  denied->headers.emplace_back("WWW-Authenticate", "Bearer");
  return false;
}

HttpResponse ApiServer::Generate(ApiEndpoint endpoint, const HttpRequest& request) {
  if (draining_) return ApiErrorFromStatus(Unavailable("the server is shutting down")).ToResponse();
  Tenant tenant;
  HttpResponse denied;
  if (!Authorize(request, &tenant, &denied)) return denied;
  return generations_.Handle(endpoint, request, tenant);
}

HttpResponse ApiServer::Models(const HttpRequest& request) const {
  Tenant tenant;
  HttpResponse denied;
  if (!Authorize(request, &tenant, &denied)) return denied;
  const EngineModelInfo& info = engine_->model_info();
  nlohmann::ordered_json model;
  model["id"] = info.id;
  model["object"] = "model";
  model["created"] = info.created;
  model["owned_by"] = "cellar";
  model["meta"]["n_ctx"] = info.n_ctx;
  model["meta"]["n_vocab"] = info.n_vocab;
  model["meta"]["fingerprint"] = info.fingerprint;
  nlohmann::ordered_json j;
  j["object"] = "list";
  j["data"] = nlohmann::ordered_json::array({std::move(model)});
  return JsonResponse(200, j);
}

HttpResponse ApiServer::Health() const {
  nlohmann::ordered_json j;
  j["status"] = draining_ ? "shutting_down" : "ok";
  return JsonResponse(draining_ ? 503 : 200, j);
}

HttpResponse ApiServer::Metrics() const {
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.Render(engine_->Stats());
  if (options_.extra_metrics) r.body += options_.extra_metrics();
  return r;
}

Status ApiServer::Serve() { return http_->Serve(); }

int ApiServer::Shutdown(std::chrono::milliseconds grace) {
  if (draining_.exchange(true)) return 0;
  http_->Stop();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (generations_.n_active() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int left = generations_.n_active();
  if (left > 0) {
    CELLAR_LOG_INFO("shutdown: cancelling {} request(s) still running after the grace period",
                    left);
    generations_.CancelAll();
  }
  return left;
}

}  // namespace cellar
