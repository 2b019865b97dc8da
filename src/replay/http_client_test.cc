// ChatClient against the fake OpenAI server on loopback.
#include "replay/http_client.h"

#include <gtest/gtest.h>

#include <thread>

#include "replay/replayer.h"
#include "replay/testing/fake_openai_server.h"

namespace cellar::replay {
namespace {

using testing::FakeOpenAiServer;
using testing::FakeServerOptions;

std::unique_ptr<ChatClient> Client(const std::string& url, double timeout_s = 30) {
  ChatClientOptions o;
  o.url = url;
  o.request_timeout_s = timeout_s;
  auto c = ChatClient::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

std::string Body(int max_tokens = 8) {
  Conversation c;
  c.system = "sys";
  c.turns = {{"hello there", "general kenobi"}, {"again", ""}};
  ReplayOptions o;
  o.max_tokens = max_tokens;
  return BuildRequestBody(o, c, 1, "").dump();
}

TEST(ParseBaseUrl, SplitsAndNormalizes) {
  auto a = ParseBaseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scheme_host_port, "http://127.0.0.1:8080");
  EXPECT_EQ(a->path_prefix, "");
  auto b = ParseBaseUrl("https://api.example.com/openai/v1/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->scheme_host_port, "https://api.example.com");
  EXPECT_EQ(b->path_prefix, "/openai");
  EXPECT_FALSE(ParseBaseUrl("127.0.0.1:8080").ok());
  EXPECT_FALSE(ParseBaseUrl("ftp://x").ok());
  EXPECT_FALSE(ParseBaseUrl("http:///v1").ok());
}

TEST(ChatClient, MeasuresTtftUsageAndTokens) {
  FakeServerOptions fo;
  fo.ttft_s = 0.05;
  fo.n_tokens = 4;
  fo.inter_token_s = 0.01;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url());
  RequestRecord rec;
  client->Send(Body(), &rec);
  EXPECT_TRUE(rec.ok()) << rec.error;
  EXPECT_EQ(rec.http_status, 200);
  // The role chunk is sent at once; the first content chunk only after 50 ms.
  EXPECT_GE(rec.ttft_s, 0.05);
  EXPECT_GE(rec.e2e_s, rec.ttft_s + 0.03);
  EXPECT_EQ(rec.content_chunks, 4);
  EXPECT_EQ(rec.completion_tokens, 4);
  EXPECT_EQ(rec.finish_reason, "stop");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& body = reqs[0].body;
  EXPECT_EQ(rec.prompt_tokens,
            static_cast<int64_t>(std::ceil(FakeOpenAiServer::PromptText(body).size() / 4.0)));
  EXPECT_EQ(rec.cached_tokens, 0);
  EXPECT_DOUBLE_EQ(rec.tpot_s, (rec.e2e_s - rec.ttft_s) / 3);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["max_tokens"], 8);

  // The same prompt again: the fake's prefix cache reports all but a partial token.
  RequestRecord again;
  client->Send(Body(), &again);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.cached_tokens,
            static_cast<int64_t>(FakeOpenAiServer::PromptText(body).size() / 4));
}

TEST(ChatClient, EventsSplitAcrossManyReads) {
  FakeServerOptions fo;
  fo.split_writes = true;
  fo.n_tokens = 3;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url());
  RequestRecord rec;
  client->Send(Body(), &rec);
  EXPECT_TRUE(rec.ok()) << rec.error;
  EXPECT_EQ(rec.content_chunks, 3);
  EXPECT_EQ(rec.output_chars, 15);  // "tok0 " "tok1 " "tok2 "
  EXPECT_GT(rec.prompt_tokens, 0);
  EXPECT_EQ(rec.cached_tokens, 0);
}

TEST(ChatClient, HttpErrorBodyAndMidStreamError) {
  FakeServerOptions fo;
  fo.fail_every = 2;             // requests 2, 4, ...
  fo.midstream_error_every = 3;  // request 3
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url());
  RequestRecord r1, r2, r3;
  client->Send(Body(), &r1);
  client->Send(Body(), &r2);
  client->Send(Body(), &r3);
  EXPECT_TRUE(r1.ok());
  EXPECT_FALSE(r2.ok());
  EXPECT_EQ(r2.http_status, 500);
  EXPECT_EQ(r2.error, "HTTP 500: fake failure");
  EXPECT_FALSE(r3.ok());
  EXPECT_EQ(r3.http_status, 200);
  EXPECT_EQ(r3.error, "fake mid-stream error");
  EXPECT_GE(r3.ttft_s, 0);
}

TEST(ChatClient, StreamWithoutDoneButWithUsageIsAccepted) {
  FakeServerOptions fo;
  fo.no_done = true;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url());
  RequestRecord rec;
  client->Send(Body(), &rec);
  EXPECT_TRUE(rec.ok()) << rec.error;
}

TEST(ChatClient, ReconnectsWhenTheServerClosedAnIdleConnection) {
  FakeServerOptions fo;
  fo.keep_alive_timeout_s = 1;  // the server drops idle connections after 1 s
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url());
  for (int i = 0; i < 3; ++i) {
    RequestRecord rec;
    client->Send(Body(), &rec);
    EXPECT_TRUE(rec.ok()) << "request " << i << ": " << rec.error;
    EXPECT_EQ(rec.http_status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));  // past the keep-alive
  }
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ChatClient, ConnectionRefusedIsAnError) {
  int port = 0;
  {
    FakeOpenAiServer server;  // take a free port, then close it
    port = server.port();
  }
  auto client = Client("http://127.0.0.1:" + std::to_string(port));
  RequestRecord rec;
  client->Send(Body(), &rec);
  EXPECT_FALSE(rec.ok());
  EXPECT_EQ(rec.http_status, 0);
  EXPECT_FALSE(rec.cancelled);
  EXPECT_NE(rec.error.find("HTTP:"), std::string::npos) << rec.error;
}

TEST(ChatClient, CancelStopsARequestWaitingForItsFirstToken) {
  FakeServerOptions fo;
  fo.ttft_s = 2.0;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url());
  RequestRecord rec;
  std::thread t([&] { client->Send(Body(), &rec); });
  while (server.requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  client->Cancel();
  t.join();
  EXPECT_TRUE(rec.cancelled);
  EXPECT_FALSE(rec.ok());
  EXPECT_LT(rec.ttft_s, 0);
  EXPECT_LT(rec.e2e_s, 1.9);
}

TEST(ChatClient, RequestTimeout) {
  FakeServerOptions fo;
  fo.ttft_s = 0.3;
  fo.n_tokens = 2;
  fo.inter_token_s = 0.3;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  auto client = Client(server.url(), /*timeout_s=*/0.4);
  RequestRecord rec;
  client->Send(Body(), &rec);
  EXPECT_FALSE(rec.ok());
  EXPECT_FALSE(rec.cancelled);
  EXPECT_NE(rec.error.find("timeout"), std::string::npos) << rec.error;
}

TEST(HttpGet, HealthAndMetrics) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  auto h = HttpGet(server.url(), "/health", 5);
  ASSERT_TRUE(h.ok());
  EXPECT_NE(h->find("ok"), std::string::npos);
  auto m = HttpGet(server.url(), "/metrics", 5);
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->find("cellar_store_miss_tokens_total 0"), std::string::npos);
  EXPECT_FALSE(HttpGet(server.url(), "/nope", 5).ok());
}

}  // namespace
}  // namespace cellar::replay
