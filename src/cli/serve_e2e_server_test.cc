// `cellar serve` end to end: the real binary on stories260K, over HTTP on
// loopback. Streaming and not, every error status, cancellation by
// disconnect, concurrent clients, prefix reuse, tenant isolation, metrics,
// signals and the default model.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/testing/shared_data.h"
#include "cli/testing/serve_process.h"
#include "server/testing/prometheus_check.h"
#include "server/testing/raw_http_client.h"

namespace cellar {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// --no-store: these tests pin the pool's prefix cache (tests of the store run
// it with a temporary --store-dir).
class ServerProcess : public testing::ServeProcess {
 public:
  bool Start(const std::vector<std::string>& args, const std::string& binary = CELLAR_BINARY,
             const std::string& cwd = "") {
    std::vector<std::string> all = {"--no-store"};
    all.insert(all.end(), args.begin(), args.end());
    return ServeProcess::Start(binary, all, cwd);
  }
};

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf");
    if (!std::filesystem::exists(model_))
      GTEST_SKIP() << "needs ../shared: models/stories260K.gguf";
  }

  void StartServer(std::vector<std::string> args = {}) {
    std::vector<std::string> all = {"-m", model_.string(), "-t", "1"};
    all.insert(all.end(), args.begin(), args.end());
    ASSERT_TRUE(server_.Start(all)) << server_.log();
  }

  void TearDown() override {
    if (server_.running()) {
      EXPECT_EQ(server_.Signal(SIGTERM), 0) << server_.log();
    }
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_.port());
    c.set_read_timeout(60, 0);
    return c;
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& key = "") {
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return Client().Post(path, h, body, "application/json");
  }

  static Json ParseOk(const httplib::Result& r) {
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, 200) << r->body;
    Json j = Json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    return j;
  }

  static void ExpectError(const httplib::Result& r, int status, const std::string& code) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    Json j = Json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
    EXPECT_TRUE(j["error"].contains("param"));
  }

  // Chat content and finish reason from an SSE body; checks the framing.
  static std::pair<std::string, std::string> StreamedChat(const std::string& body) {
    std::string text, finish;
    size_t pos = 0;
    bool done = false;
    while (pos < body.size()) {
      const size_t end = body.find("\n\n", pos);
      if (end == std::string::npos) break;
      const std::string ev = body.substr(pos, end - pos);
      pos = end + 2;
      EXPECT_EQ(ev.rfind("data: ", 0), 0u) << ev;
      if (ev == "data: [DONE]") {
        done = true;
        continue;
      }
      Json j = Json::parse(ev.substr(6));
      if (j["choices"].empty()) continue;
      const Json& c = j["choices"][0];
      if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
      if (c["finish_reason"].is_string()) finish = c["finish_reason"];
    }
    EXPECT_TRUE(done) << body;
    return {text, finish};
  }

  std::string Metrics() {
    auto r = Client().Get("/metrics");
    return r && r->status == 200 ? r->body : std::string();
  }

  // The value of one sample line (name with labels) in /metrics, or -1.
  double Metric(const std::string& series) {
    const std::string m = Metrics();
    const size_t p = m.find("\n" + series + " ");
    if (p == std::string::npos) return -1;
    return std::stod(m.substr(p + series.size() + 2));
  }

  bool WaitForMetric(const std::string& series, double value) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Metric(series) == value) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  static std::string Chat(const std::string& content, const std::string& extra = "") {
    Json j;
    j["model"] = "stories260K";
    j["messages"] = Json::array({{{"role", "user"}, {"content", content}}});
    j["temperature"] = 0;
    std::string s = j.dump();
    if (!extra.empty()) s = s.substr(0, s.size() - 1) + ", " + extra + "}";
    return s;
  }

  static std::string Completion(const std::string& prompt, int max_tokens, bool stream = false) {
    Json j;
    j["prompt"] = prompt;
    j["max_tokens"] = max_tokens;
    j["temperature"] = 0;
    j["stream"] = stream;
    j["ignore_eos"] = true;  // exactly max_tokens tokens
    return j.dump();
  }

  std::filesystem::path model_;
  ServerProcess server_;
};

using RawClient = testing::RawHttpClient;

TEST_F(ServeTest, CompletionMatchesLlamaCppGreedy) {
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  StartServer({"--kv-type", "f32"});
  std::ifstream f(golden_path);
  const Json golden = Json::parse(f);
  for (const Json& p : golden["prompts"]) {
    if (p["id"] != "short") continue;
    const int n = p["greedy"]["n_generated"];
    Json j = ParseOk(Post("/v1/completions", Completion(p["text"], n)));
    EXPECT_EQ(j["choices"][0]["text"], p["greedy"]["text"]);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["prompt_tokens"], p["n_prompt_tokens"]);
    EXPECT_EQ(j["usage"]["completion_tokens"], n);
    // The same as a stream.
    auto r = Post("/v1/completions", Completion(p["text"], n, /*stream=*/true));
    ASSERT_TRUE(r);
    std::string text;
    size_t pos = 0;
    while ((pos = r->body.find("data: {", pos)) != std::string::npos) {
      const size_t end = r->body.find("\n\n", pos);
      text += Json::parse(r->body.substr(pos + 6, end - pos - 6))["choices"][0]["text"]
                  .get<std::string>();
      pos = end;
    }
    EXPECT_EQ(text, p["greedy"]["text"]);
    EXPECT_NE(r->body.find("data: [DONE]\n\n"), std::string::npos);
  }
}

TEST_F(ServeTest, ChatStreamedAndNot) {
  StartServer();
  Json models = ParseOk(Client().Get("/v1/models"));
  EXPECT_EQ(models["data"][0]["id"], "stories260K");
  Json j = ParseOk(Post("/v1/chat/completions", Chat("Tell me a story.", R"("max_tokens": 30)")));
  EXPECT_EQ(j["object"], "chat.completion");
  const std::string content = j["choices"][0]["message"]["content"];
  EXPECT_FALSE(content.empty());
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 30);
  EXPECT_EQ(j["usage"]["total_tokens"],
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
  auto r =
      Post("/v1/chat/completions",
           Chat("Tell me a story.",
                R"("max_tokens": 30, "stream": true, "stream_options": {"include_usage": true})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  auto [text, finish] = StreamedChat(r->body);
  EXPECT_EQ(text, content);
  EXPECT_EQ(finish, "length");
  const size_t u = r->body.rfind("\"usage\":{");
  ASSERT_NE(u, std::string::npos);
  // The identical prompt was cached by the first request.
  const int prompt_tokens = j["usage"]["prompt_tokens"];
  EXPECT_NE(r->body.find("\"cached_tokens\":" + std::to_string((prompt_tokens - 1) / 16 * 16)),
            std::string::npos)
      << r->body.substr(u);
}

TEST_F(ServeTest, EightConcurrentClientsMatchSequential) {
  StartServer();
  const std::vector<std::string> prompts = {"Once upon a time",
                                            "The little dog",
                                            "Lily and Ben went to the park.",
                                            "One day, a big red ball",
                                            "Tom had a toy car.",
                                            "The sun was shining",
                                            "Mom said,",
                                            "There was a cat"};
  std::vector<std::string> sequential;
  for (const auto& p : prompts) {
    sequential.push_back(ParseOk(Post("/v1/completions", Completion(p, 40)))["choices"][0]["text"]);
  }
  std::vector<std::string> concurrent(prompts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts.size(); ++i) {
    threads.emplace_back([&, i] {
      // Half streamed, half not.
      if (i % 2 == 0) {
        auto r = Post("/v1/completions", Completion(prompts[i], 40));
        if (r && r->status == 200) concurrent[i] = Json::parse(r->body)["choices"][0]["text"];
      } else {
        auto r =
            Post("/v1/chat/completions", Chat(prompts[i], R"("max_tokens": 40, "stream": true)"));
        if (r && r->status == 200) concurrent[i] = "chat:" + StreamedChat(r->body).first;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(concurrent[i], sequential[i]) << prompts[i];
    } else {
      // The chat answers, sequentially.
      Json j = ParseOk(Post("/v1/chat/completions", Chat(prompts[i], R"("max_tokens": 40)")));
      EXPECT_EQ(concurrent[i], "chat:" + j["choices"][0]["message"]["content"].get<std::string>());
    }
  }
}

TEST_F(ServeTest, Errors) {
  // --overflow error: an over-long prompt is refused instead of truncated.
  StartServer({"--ctx", "64", "--max-body", "4K", "--overflow", "error"});
  ExpectError(Post("/v1/chat/completions", "{\"messages\": [}"), 400, "invalid_json");
  ExpectError(Post("/v1/chat/completions", R"({"messages": [{"role": "pirate", "content": "x"}]})"),
              400, "invalid_value");
  ExpectError(Post("/v1/chat/completions", R"({"messages": []})"), 400, "invalid_value");
  ExpectError(Post("/v1/chat/completions", Chat("x", R"("max_tokens": "ten")")), 400,
              "invalid_type");
  ExpectError(Post("/v1/chat/completions", Chat("x", R"("n": 3)")), 400, "unsupported_value");
  ExpectError(Post("/v1/completions", Completion(std::string(5000, 'a'), 4)), 413,
              "request_too_large");
  ExpectError(Post("/v1/completions", Completion(std::string(300, 'a'), 4)), 400,
              "context_length_exceeded");
  ExpectError(Post("/v1/completions", Completion("Once", 100)), 400, "context_length_exceeded");
  ExpectError(Post("/v1/completions", R"({"prompt": [1, 512]})"), 400, "invalid_value");
  ExpectError(Client().Get("/v2/nothing"), 404, "not_found");
  // The server still answers.
  ParseOk(Post("/v1/completions", Completion("Once", 4)));
}

TEST_F(ServeTest, OverlongPromptIsTruncatedByDefault) {
  StartServer({"--ctx", "64"});
  auto r = Post("/v1/completions", Completion(std::string(300, 'a'), 4));
  const Json j = ParseOk(r);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 4);
  EXPECT_GT(j["usage"]["prompt_tokens_details"]["dropped_tokens"].get<int>(), 0);
  EXPECT_LE(j["usage"]["prompt_tokens"].get<int>() + 4, 64);
}

TEST_F(ServeTest, QueueFullIs429) {
  StartServer({"--max-queue", "1", "--max-running", "1", "--test-step-delay-ms", "20"});
  // A long request runs; a second waits; a third is refused.
  RawClient a(server_.port());
  ASSERT_TRUE(a.connected());
  ASSERT_TRUE(a.Post("/v1/completions", Completion("Once upon a time", 200, /*stream=*/true)));
  ASSERT_NE(a.ReadUntil("\"text\"").find("\"text\""), std::string::npos);
  std::thread b([&] { Post("/v1/completions", Completion("The dog", 2)); });
  ASSERT_TRUE(WaitForMetric("cellar_queue_length", 1));
  auto r = Post("/v1/completions", Completion("Mom", 2));
  ExpectError(r, 429, "queue_full");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  a.Close();  // cancels a; b then runs
  b.join();
}

TEST_F(ServeTest, DisconnectCancelsAndFreesBlocks) {
  StartServer({"--test-step-delay-ms", "10"});
  {
    RawClient c(server_.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Post(
        "/v1/chat/completions",
        Chat("Tell me a long story.", R"("max_tokens": 400, "stream": true, "ignore_eos": true)")));
    ASSERT_NE(c.ReadUntil("\"content\":\"").find("\"content\":\""), std::string::npos);
    ASSERT_TRUE(WaitForMetric("cellar_running_requests", 1));
    EXPECT_GT(Metric("cellar_pool_blocks_used"), 0);
  }
  EXPECT_TRUE(WaitForMetric("cellar_requests_finished_total{reason=\"cancelled\"}", 1))
      << Metrics();
  EXPECT_TRUE(WaitForMetric("cellar_pool_blocks_used", 0)) << Metrics();
  EXPECT_EQ(Metric("cellar_running_requests"), 0);
  {
    // Not streamed: the server notices while the answer is still being generated.
    RawClient c(server_.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Post("/v1/completions", Completion("Once upon a time", 400)));
    ASSERT_TRUE(WaitForMetric("cellar_running_requests", 1));
  }
  EXPECT_TRUE(WaitForMetric("cellar_requests_finished_total{reason=\"cancelled\"}", 2))
      << Metrics();
  EXPECT_TRUE(WaitForMetric("cellar_pool_blocks_used", 0)) << Metrics();
}

TEST_F(ServeTest, TenantsNeverShareCachedBlocks) {
  testing::TempDir dir;
  const auto keys = dir.path() / "keys";
  std::ofstream(keys) << "# tenants\nkey-alice alice\nkey-bob bob\n";
  StartServer({"--api-key-file", keys.string()});
  ExpectError(Post("/v1/completions", Completion("x", 2)), 401, "invalid_api_key");
  ExpectError(Post("/v1/completions", Completion("x", 2), "key-eve"), 401, "invalid_api_key");
  const std::string body = Chat(
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park with her friends.",
      R"("max_tokens": 4)");
  auto cached = [&](const std::string& key) {
    Json j = ParseOk(Post("/v1/chat/completions", body, key));
    return j["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>();
  };
  EXPECT_EQ(cached("key-alice"), 0);
  EXPECT_GT(cached("key-alice"), 0);
  EXPECT_EQ(cached("key-bob"), 0);
  EXPECT_GT(cached("key-bob"), 0);
  EXPECT_GT(Metric("cellar_store_hit_tokens_total{tier=\"pool\"}"), 0);
}

TEST_F(ServeTest, MetricsParse) {
  StartServer();
  ParseOk(Post("/v1/completions", Completion("Once", 8)));
  const std::string m = Metrics();
  std::istringstream in(m);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_TRUE(testing::IsCellarMetricLine(line)) << line;
    ++n;
  }
  EXPECT_GT(n, 40);
  EXPECT_EQ(Metric("cellar_generated_tokens_total"), 8);
  // Counted once the response has been sent.
  EXPECT_TRUE(
      WaitForMetric("cellar_requests_total{endpoint=\"/v1/completions\",status=\"200\"}", 1));
  EXPECT_EQ(Metric("cellar_time_to_first_token_seconds_count"), 1);
  EXPECT_EQ(Metric("cellar_inter_token_latency_seconds_count"), 7);
  EXPECT_GT(Metric("cellar_store_miss_tokens_total"), 0);
  EXPECT_GT(Metric("cellar_pool_blocks_total"), 0);
}

TEST_F(ServeTest, SigintLetsRequestsFinish) {
  StartServer({"--test-step-delay-ms", "5"});
  RawClient c(server_.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Post("/v1/completions", Completion("Once upon a time", 60, /*stream=*/true)));
  ASSERT_NE(c.ReadUntil("\"text\"").find("\"text\""), std::string::npos);
  std::thread stop([&] { EXPECT_EQ(server_.Signal(SIGINT), 0) << server_.log(); });
  const std::string rest = c.ReadUntil("data: [DONE]");
  EXPECT_NE(rest.find("\"finish_reason\":\"length\""), std::string::npos) << rest;
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos);
  stop.join();
}

TEST_F(ServeTest, SigtermAfterGraceCancels) {
  StartServer({"--test-step-delay-ms", "20", "--shutdown-grace", "0.2"});
  RawClient c(server_.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Post("/v1/completions", Completion("Once upon a time", 400, /*stream=*/true)));
  ASSERT_NE(c.ReadUntil("\"text\"").find("\"text\""), std::string::npos);
  EXPECT_EQ(server_.Signal(SIGTERM, 30s), 0) << server_.log();
  const std::string rest = c.ReadUntil("data: [DONE]");
  EXPECT_NE(rest.find("\"code\":\"unavailable\""), std::string::npos) << rest;
}

TEST_F(ServeTest, DefaultModel) {
  testing::TempDir dir;
  // From an unrelated directory, the binary finds ../shared next to its repository.
  ServerProcess s;
  ASSERT_TRUE(s.Start({"-t", "1"}, CELLAR_BINARY, dir.path().string())) << s.log();
  EXPECT_NE(s.stdout_text().find("serving stories260K on"), std::string::npos);
  EXPECT_EQ(s.Signal(SIGTERM), 0);
  // A copy of the binary far from any repository says how to pass a model.
  const auto copy = dir.path() / "bin" / "cellar";
  std::filesystem::create_directories(copy.parent_path());
  std::filesystem::copy_file(CELLAR_BINARY, copy);
  ServerProcess lost;
  EXPECT_FALSE(lost.Start({}, copy.string(), dir.path().string()));
  EXPECT_EQ(lost.Wait(), 2);
  EXPECT_NE(lost.log().find("cellar serve -m path/to/model.gguf"), std::string::npos) << lost.log();
}

}  // namespace
}  // namespace cellar
