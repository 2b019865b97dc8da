// The HTTP API over real loopback connections, against a FakeEngineService
// (no model): routes, OpenAI JSON, SSE, every error status, auth and tenants,
// cancellation on disconnect, metrics, shutdown.
#include "server/api_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kv/block_hash.h"
#include "server/testing/fake_engine_service.h"
#include "server/testing/prometheus_check.h"
#include "server/testing/raw_http_client.h"

namespace cellar {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

class ApiServerTest : public ::testing::Test {
 protected:
  void Start(FakeEngineOptions engine_options = {}, ApiServerOptions options = {}) {
    engine_ = std::make_unique<FakeEngineService>(engine_options);
    options.http.port = 0;
    options.http.max_body_bytes =
        options.http.max_body_bytes == 8 * 1024 * 1024 ? 64 * 1024 : options.http.max_body_bytes;
    options.poll_interval = 10ms;
    auto server = ApiServer::Create(engine_.get(), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    serve_thread_ = std::thread([this] { ASSERT_TRUE(server_->Serve().ok()); });
  }

  void TearDown() override {
    if (server_) {
      server_->Shutdown(1000ms);
      serve_thread_.join();
      server_.reset();
    }
    engine_.reset();
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    return c;
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& key = "") {
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return Client().Post(path, h, body, "application/json");
  }

  static std::string ChatBody(const std::string& extra = "") {
    return R"({"model": "m", "messages": [{"role": "user", "content": "hi"}])" +
           (extra.empty() ? "" : ", " + extra) + "}";
  }

  // Expects an OpenAI error with this status and code.
  static Json ExpectError(const httplib::Result& r, int status, const std::string& code) {
    EXPECT_TRUE(r) << "no response";
    if (!r) return Json();
    EXPECT_EQ(r->status, status) << r->body;
    Json j = Json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r->body;
    if (!j.is_object()) return Json();
    EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
    EXPECT_TRUE(j["error"]["type"].is_string()) << r->body;
    EXPECT_TRUE(j["error"].contains("param")) << r->body;
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    return j;
  }

  // The JSON payloads of an SSE body; checks the framing and the final [DONE].
  static std::vector<Json> SseEvents(const std::string& body) {
    std::vector<Json> events;
    size_t pos = 0;
    bool done = false;
    while (pos < body.size()) {
      const size_t end = body.find("\n\n", pos);
      EXPECT_NE(end, std::string::npos) << "unterminated event in " << body;
      if (end == std::string::npos) break;
      const std::string event = body.substr(pos, end - pos);
      pos = end + 2;
      EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
      EXPECT_FALSE(done) << "event after [DONE]";
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        done = true;
        continue;
      }
      Json j = Json::parse(payload, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << payload;
      events.push_back(j);
    }
    EXPECT_TRUE(done) << "no [DONE] in " << body;
    return events;
  }

  std::unique_ptr<FakeEngineService> engine_;
  std::unique_ptr<ApiServer> server_;
  std::thread serve_thread_;
};

// A raw connection, to disconnect in the middle of a request.
class RawClient : public testing::RawHttpClient {
 public:
  explicit RawClient(int port) : RawHttpClient(port, /*recv_timeout_s=*/10) {}
  void SendPost(const std::string& path, const std::string& body) { ASSERT_TRUE(Post(path, body)); }
};

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(PrometheusCheck, AcceptsAndRejects) {
  EXPECT_TRUE(testing::IsCellarMetricLine("cellar_x 1"));
  EXPECT_TRUE(testing::IsCellarMetricLine("cellar_x{a=\"b\",c_d=\"+Inf\"} 2.5e-3"));
  EXPECT_TRUE(testing::IsCellarMetricLine("# HELP cellar_x Some text."));
  EXPECT_TRUE(testing::IsCellarMetricLine("# TYPE cellar_x counter"));
  EXPECT_FALSE(testing::IsCellarMetricLine("other_x 1"));
  EXPECT_FALSE(testing::IsCellarMetricLine("cellar_x"));
  EXPECT_FALSE(testing::IsCellarMetricLine("cellar_x one"));
  EXPECT_FALSE(testing::IsCellarMetricLine("cellar_x{a=1} 1"));
  EXPECT_FALSE(testing::IsCellarMetricLine("cellar_x{a=\"b\" 1"));
  EXPECT_FALSE(testing::IsCellarMetricLine("# HELP cellar_x"));
}

TEST_F(ApiServerTest, PortInUseFailsToBind) {
  Start();
  FakeEngineService engine;
  ApiServerOptions options;
  options.http.port = server_->port();
  auto second = ApiServer::Create(&engine, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST_F(ApiServerTest, ModelsAndHealth) {
  Start();
  auto r = Client().Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "fake-model");
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_EQ(j["data"][0]["owned_by"], "cellar");
  r = Client().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["status"], "ok");
}

TEST_F(ApiServerTest, ChatCompletion) {
  Start();
  auto r = Post("/v1/chat/completions",
                ChatBody(R"("temperature": 0, "seed": 5, "stop": ["x"], "session_id": "s1")"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["model"], "fake-model");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello, world!");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  const std::string rendered = "<|user|>hi\n<|assistant|>";
  EXPECT_EQ(j["usage"]["prompt_tokens"], rendered.size() + 1);
  EXPECT_EQ(j["usage"]["completion_tokens"], 13);
  EXPECT_EQ(j["usage"]["total_tokens"], rendered.size() + 1 + 13);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 0);

  auto submitted = engine_->submitted();
  ASSERT_EQ(submitted.size(), 1u);
  const GenerateRequest& g = submitted[0];
  EXPECT_EQ(g.prompt.size(), rendered.size() + 1);
  EXPECT_EQ(g.prompt[0], FakeEngineService::kBos);
  EXPECT_FLOAT_EQ(g.sampling.temperature, 0.0f);
  EXPECT_EQ(g.sampling.seed, 5u);
  EXPECT_EQ(g.stop, (std::vector<std::string>{"x"}));
  EXPECT_EQ(g.session_id, std::optional<std::string>("s1"));
  EXPECT_EQ(g.max_tokens, 0);
  EXPECT_EQ(g.tenant_salt, MakeTenantSalt(""));
}

TEST_F(ApiServerTest, MaxTokensEndsWithLength) {
  Start();
  auto r = Post("/v1/chat/completions", ChatBody(R"("max_tokens": 5)"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
}

TEST_F(ApiServerTest, StreamedChat) {
  Start();
  auto r = Post("/v1/chat/completions",
                ChatBody(R"("stream": true, "stream_options": {"include_usage": true})"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::vector<Json> events = SseEvents(r->body);
  ASSERT_GE(events.size(), 4u);
  const std::string id = events[0]["id"];
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["content"], "");
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    const Json& e = events[i];
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    EXPECT_EQ(e["id"], id);
    if (i + 1 < events.size()) {
      EXPECT_TRUE(e.contains("usage") && e["usage"].is_null()) << e.dump();
      ASSERT_EQ(e["choices"].size(), 1u);
      if (e["choices"][0]["delta"].contains("content") && i > 0) {
        text += e["choices"][0]["delta"]["content"].get<std::string>();
      }
    }
  }
  EXPECT_EQ(text, "Hello, world!");
  const Json& finish = events[events.size() - 2];
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    EXPECT_TRUE(events[i]["choices"][0]["finish_reason"].is_null());
  }
  const Json& usage = events.back();
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 13);
  EXPECT_EQ(usage["usage"]["total_tokens"], usage["usage"]["prompt_tokens"].get<int>() + 13);
  EXPECT_EQ(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

TEST_F(ApiServerTest, StreamWithoutUsageHasNoUsageField) {
  Start();
  auto r = Post("/v1/chat/completions", ChatBody(R"("stream": true, "max_tokens": 3)"));
  ASSERT_TRUE(r);
  std::vector<Json> events = SseEvents(r->body);
  ASSERT_GE(events.size(), 2u);
  for (const Json& e : events) EXPECT_FALSE(e.contains("usage")) << e.dump();
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "length");
}

TEST_F(ApiServerTest, TextCompletion) {
  Start();
  auto r = Post("/v1/completions", R"({"prompt": "Once", "max_tokens": 50})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["text"], "Hello, world!");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 5);  // BOS + 4 bytes
  EXPECT_EQ(engine_->submitted().at(0).max_tokens, 50);

  // Token ids as the prompt; the default max_tokens is 16.
  r = Post("/v1/completions", R"({"prompt": [256, 65, 66], "stream": true})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::vector<Json> events = SseEvents(r->body);
  std::string text;
  for (const Json& e : events) {
    EXPECT_EQ(e["object"], "text_completion");
    text += e["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello, world!");
  EXPECT_EQ(engine_->submitted().at(1).prompt, (std::vector<TokenId>{256, 65, 66}));
  EXPECT_EQ(engine_->submitted().at(1).max_tokens, kDefaultCompletionsMaxTokens);
}

TEST_F(ApiServerTest, Logprobs) {
  Start();
  auto r = Post("/v1/chat/completions",
                ChatBody(R"("max_tokens": 3, "logprobs": true, "top_logprobs": 2)"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json lp = Json::parse(r->body)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 3u);
  EXPECT_EQ(lp[0]["token"], "H");
  EXPECT_FLOAT_EQ(lp[0]["logprob"].get<float>(), -0.5f);
  EXPECT_EQ(lp[0]["bytes"], Json::array({72}));
  ASSERT_EQ(lp[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(lp[0]["top_logprobs"][1]["token"], "b");

  r = Post("/v1/completions", R"({"prompt": "x", "max_tokens": 2, "logprobs": 1})");
  ASSERT_TRUE(r);
  Json c = Json::parse(r->body)["choices"][0]["logprobs"];
  EXPECT_EQ(c["tokens"], Json::array({"H", "e"}));
  EXPECT_EQ(c["text_offset"], Json::array({0, 1}));
  EXPECT_EQ(c["top_logprobs"][0].size(), 1u);
}

TEST_F(ApiServerTest, RequestErrors) {
  Start(FakeEngineOptions{.n_ctx = 64});
  ExpectError(Post("/v1/chat/completions", "{not json"), 400, "invalid_json");
  ExpectError(Post("/v1/chat/completions", R"({"messages": []})"), 400, "invalid_value");
  Json j = ExpectError(
      Post("/v1/chat/completions", R"({"messages": [{"role": "robot", "content": "x"}]})"), 400,
      "invalid_value");
  EXPECT_EQ(j["error"]["param"], "messages[0].role");
  j = ExpectError(Post("/v1/chat/completions", ChatBody(R"("temperature": "warm")")), 400,
                  "invalid_type");
  EXPECT_EQ(j["error"]["param"], "temperature");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  ExpectError(Post("/v1/chat/completions", ChatBody(R"("n": 2)")), 400, "unsupported_value");
  // The template refuses.
  ExpectError(
      Post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "REJECT"}]})"), 400,
      "invalid_value");
  // Prompt + max_tokens over the context (64).
  j = ExpectError(Post("/v1/chat/completions", ChatBody(R"("max_tokens": 60)")), 400,
                  "context_length_exceeded");
  EXPECT_EQ(j["error"]["param"], "messages");
  j = ExpectError(Post("/v1/completions", R"({"prompt": ")" + std::string(80, 'a') + "\"}"), 400,
                  "context_length_exceeded");
  EXPECT_EQ(j["error"]["param"], "prompt");
  j = ExpectError(Post("/v1/completions", R"({"prompt": [1, 999]})"), 400, "invalid_value");
  EXPECT_EQ(j["error"]["param"], "prompt");
  // Body over --max-body (64 KiB here).
  ExpectError(Post("/v1/completions", R"({"prompt": ")" + std::string(70000, 'a') + "\"}"), 413,
              "request_too_large");
  ExpectError(Client().Get("/v1/nothing"), 404, "not_found");
  EXPECT_TRUE(engine_->submitted().empty());
}

TEST_F(ApiServerTest, QueueFullIs429WithRetryAfter) {
  Start(FakeEngineOptions{.max_queue = 1});
  engine_->Hold(true);
  std::thread first([&] {
    auto r = Post("/v1/chat/completions", ChatBody());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  });
  ASSERT_TRUE(engine_->WaitForLive(1, 5000ms));
  auto r = Post("/v1/chat/completions", ChatBody());
  Json j = ExpectError(r, 429, "queue_full");
  EXPECT_EQ(j["error"]["type"], "rate_limit_error");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  engine_->Hold(false);
  first.join();
}

TEST_F(ApiServerTest, ApiKeysAndTenants) {
  ApiServerOptions options;
  options.api_keys = {{"key-a", "alice"}, {"key-b", ""}};
  Start({}, options);
  Json j = ExpectError(Post("/v1/chat/completions", ChatBody()), 401, "invalid_api_key");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  ExpectError(Post("/v1/chat/completions", ChatBody(), "wrong"), 401, "invalid_api_key");
  ExpectError(Client().Get("/v1/models"), 401, "invalid_api_key");
  // /health and /metrics need no key.
  EXPECT_EQ(Client().Get("/health")->status, 200);
  EXPECT_EQ(Client().Get("/metrics")->status, 200);

  const std::string body = R"({"messages": [{"role": "user", "content": "a long shared prompt"}]})";
  auto cached = [&](const std::string& key) {
    auto r = Post("/v1/chat/completions", body, key);
    EXPECT_TRUE(r);
    if (!r) return -1;
    EXPECT_EQ(r->status, 200) << r->body;
    return Json::parse(r->body)["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>();
  };
  EXPECT_EQ(cached("key-a"), 0);
  EXPECT_GT(cached("key-a"), 0);  // same tenant: the prefix is reused
  EXPECT_EQ(cached("key-b"), 0);  // another tenant never is
  auto submitted = engine_->submitted();
  ASSERT_EQ(submitted.size(), 3u);
  EXPECT_EQ(submitted[0].tenant_salt, MakeTenantSalt("alice"));
  EXPECT_EQ(submitted[2].tenant_salt, MakeTenantSalt(TenantNameForKey("key-b")));
}

TEST_F(ApiServerTest, DisconnectCancelsNonStreamedRequest) {
  Start();
  engine_->Hold(true);
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.SendPost("/v1/chat/completions", ChatBody());
  ASSERT_TRUE(engine_->WaitForLive(1, 5000ms));
  c.Close();
  ASSERT_TRUE(WaitFor([&] { return engine_->cancelled().size() == 1; }));
  EXPECT_TRUE(engine_->WaitForLive(0, 5000ms));
}

TEST_F(ApiServerTest, DisconnectCancelsStream) {
  Start(FakeEngineOptions{.n_ctx = 4096,
                          .reply = std::string(2000, 'z'),
                          .token_interval = std::chrono::milliseconds(5)});
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.SendPost("/v1/chat/completions", ChatBody(R"("stream": true)"));
  const std::string got = c.ReadUntil("\"content\":\"z");
  ASSERT_NE(got.find("\"content\":\"z"), std::string::npos) << got;
  c.Close();
  ASSERT_TRUE(WaitFor([&] { return engine_->cancelled().size() == 1; }));
  EXPECT_TRUE(engine_->WaitForLive(0, 5000ms));
}

TEST_F(ApiServerTest, MetricsParse) {
  Start();
  ASSERT_EQ(Post("/v1/chat/completions", ChatBody())->status, 200);
  ASSERT_EQ(Post("/v1/chat/completions", "nope")->status, 400);
  // Responses are counted once sent, so the client may see them a moment later.
  auto counted = [&] {
    auto m = Client().Get("/metrics");
    return m && m->body.find("status=\"400\"} 1\n") != std::string::npos &&
           m->body.find("status=\"200\"} 1\n") != std::string::npos;
  };
  ASSERT_TRUE(WaitFor(counted));
  auto r = Client().Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  // Every line: a HELP/TYPE comment or a sample name{labels} value, names prefixed cellar_.
  std::istringstream in(r->body);
  std::string line;
  int n_samples = 0;
  while (std::getline(in, line)) {
    EXPECT_TRUE(testing::IsCellarMetricLine(line)) << line;
    if (line[0] != '#') ++n_samples;
  }
  EXPECT_GT(n_samples, 20);
  EXPECT_NE(
      r->body.find("cellar_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1\n"),
      std::string::npos);
  EXPECT_NE(
      r->body.find("cellar_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1\n"),
      std::string::npos);
  EXPECT_NE(r->body.find("cellar_generated_tokens_total 13\n"), std::string::npos);
  EXPECT_NE(r->body.find("cellar_store_hit_tokens_total{tier=\"pool\"} 0\n"), std::string::npos);
  EXPECT_NE(r->body.find("cellar_time_to_first_token_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(r->body.find("cellar_inter_token_latency_seconds_count 12\n"), std::string::npos);
}

TEST_F(ApiServerTest, ShutdownCancelsAfterGrace) {
  Start();
  engine_->Hold(true);
  std::optional<httplib::Result> result;
  std::thread client([&] { result.emplace(Post("/v1/chat/completions", ChatBody())); });
  ASSERT_TRUE(engine_->WaitForLive(1, 5000ms));
  EXPECT_EQ(server_->Shutdown(100ms), 1);
  client.join();
  ASSERT_TRUE(result.has_value());
  ExpectError(*result, 503, "unavailable");
  serve_thread_.join();
  server_.reset();
  EXPECT_EQ(engine_->cancelled().size(), 1u);
}

TEST_F(ApiServerTest, ShutdownLetsRequestsFinishWithinGrace) {
  Start();
  engine_->Hold(true);
  std::optional<httplib::Result> result;
  std::thread client([&] { result.emplace(Post("/v1/chat/completions", ChatBody())); });
  ASSERT_TRUE(engine_->WaitForLive(1, 5000ms));
  std::thread release([&] {
    std::this_thread::sleep_for(50ms);
    engine_->Hold(false);
  });
  EXPECT_EQ(server_->Shutdown(5000ms), 0);
  client.join();
  release.join();
  ASSERT_TRUE(result.has_value() && *result);
  EXPECT_EQ((*result)->status, 200);
  serve_thread_.join();
  server_.reset();
}

}  // namespace
}  // namespace cellar
