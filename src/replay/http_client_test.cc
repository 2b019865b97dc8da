// ChatClient against the fake OpenAI server on loopback.
#include "replay/http_client.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
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

// A raw HTTP/1.1 server that answers the first request of each connection with a
// keep-alive SSE response, then reads the next request on that connection and
// closes it without a byte of answer: a stale kept-alive connection, as
// llama-server's streams leave them.
class OneAnswerPerConnectionServer {
 public:
  OneAnswerPerConnectionServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneAnswerPerConnectionServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests_read() const { return requests_read_; }
  int connections() const { return connections_; }

 private:
  // Reads one request (headers and Content-Length body); false on EOF.
  static bool ReadRequest(int c) {
    std::string in;
    char buf[4096];
    size_t body_at = std::string::npos;
    size_t want = 0;
    while (body_at == std::string::npos || in.size() < body_at + want) {
      const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
      if (body_at == std::string::npos && (body_at = in.find("\r\n\r\n")) != std::string::npos) {
        body_at += 4;
        const size_t cl = in.find("Content-Length: ");
        if (cl != std::string::npos) want = std::stoul(in.substr(cl + 16));
      }
    }
    return true;
  }
  void Serve() {
    const std::string body =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n"
        "data: [DONE]\n\n";
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                 "Connection: keep-alive\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      if (ReadRequest(c)) {
        ++requests_read_;
        (void)!::send(c, response.data(), response.size(), MSG_NOSIGNAL);
        if (ReadRequest(c)) ++requests_read_;  // the stale one: closed unanswered
      }
      ::close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_read_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(ChatClient, SendsAgainOnceWhenAKeptAliveConnectionWasClosedUnanswered) {
  OneAnswerPerConnectionServer server;
  auto client = Client(server.url());
  for (int i = 0; i < 3; ++i) {
    RequestRecord rec;
    client->Send(Body(), &rec);
    EXPECT_TRUE(rec.ok()) << "request " << i << ": " << rec.error;
    EXPECT_EQ(rec.completion_tokens, 1);
    EXPECT_EQ(rec.reconnects, i == 0 ? 0 : 1) << "request " << i;
  }
  // Request 0 on connection 1; 1 and 2 each first on the stale connection, then anew.
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(server.requests_read(), 5);
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
