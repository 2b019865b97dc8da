// Test helper (header-only, test code only): a small fake OpenAI-compatible server on
// loopback that streams chat completions as SSE with controllable delays, records what
// it received, and exposes /health and a Cellar-style /metrics.
//
// It is also the stand-in for `cellar serve` in the --compare tests: a test binary that
// calls MaybeRunFakeServe() from a static initializer turns into a fake server when it
// is started with CELLAR_REPLAY_FAKE_SERVE=1 in its environment (see that function).
//
// Thread-safety: the accessors may be called from any thread while it serves.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace cellar::replay::testing {

struct FakeServerOptions {
  int port = 0;                   // 0: any free port
  double ttft_s = 0.002;          // after the role chunk, before the first content chunk
  double inter_token_s = 0.0;     // between content chunks
  int n_tokens = 3;               // content chunks per answer (at most max_tokens)
  bool split_writes = false;      // write every event in 5-byte pieces with pauses
  int fail_every = 0;             // every Nth request: HTTP 500 with an OpenAI error body
  int midstream_error_every = 0;  // every Nth request: an error event after one token
  bool no_done = false;           // end streams without `data: [DONE]`
  bool prefix_cache = true;       // report cached_tokens from the longest shared prefix
  bool metrics = true;            // serve cellar_store_* counters on /metrics
  // Tiers reported on /metrics: cached tokens are credited to the first, the others
  // show up with 0 (enough to test scraping and diffs).
  std::vector<std::string> tiers = {"pool", "dram", "disk"};
  double chars_per_token = 4.0;
  int keep_alive_timeout_s = 2;  // idle keep-alive connections are closed after this
};

struct ReceivedRequest {
  nlohmann::json body;
  double t_recv = 0;  // Clock::Real() seconds when the handler started
  double t_done = 0;  // ... when the last byte was handed to the socket
  int index = 0;      // arrival order, from 1
};

class FakeOpenAiServer {
 public:
  explicit FakeOpenAiServer(FakeServerOptions o = {}) : opts_(std::move(o)) {
    svr_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    svr_.set_keep_alive_max_count(100000);
    svr_.set_keep_alive_timeout(opts_.keep_alive_timeout_s);
    svr_.set_tcp_nodelay(true);
    // Debian's libcpp-httplib listens with a backlog of 5: a burst of new sessions
    // overflows it and their SYNs are retried after 1 s, which would show up as 1 s
    // TTFTs. Remember the listening socket to raise the backlog after the bind.
    svr_.set_socket_options([this](socket_t sock) {
      httplib::default_socket_options(sock);
      listen_fd_ = sock;
    });
    svr_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    svr_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      if (!opts_.metrics) {
        res.status = 404;
        return;
      }
      res.set_content(MetricsText(), "text/plain; version=0.0.4");
    });
    svr_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      HandleChat(req, res);
    });
    port_ = opts_.port == 0 ? svr_.bind_to_any_port("127.0.0.1")
                            : (svr_.bind_to_port("127.0.0.1", opts_.port) ? opts_.port : -1);
    if (port_ > 0 && listen_fd_ >= 0) ::listen(listen_fd_, 1024);  // Linux: updates the backlog
    if (port_ > 0) {
      thread_ = std::thread([this] { svr_.listen_after_bind(); });
      // stop() before the listen loop runs would be lost, and the loop never end.
      while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~FakeOpenAiServer() {
    stopping_ = true;  // ends the fake's pauses, so no handler keeps the pool busy
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }

  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int max_in_flight() const { return max_in_flight_.load(); }
  int in_flight() const { return in_flight_.load(); }

  // Requests in arrival order; t_done is 0 for a request still streaming.
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

  // The messages of a request body joined the way prefix matching sees them.
  static std::string PromptText(const nlohmann::json& body) {
    std::string s;
    for (const auto& m : body.value("messages", nlohmann::json::array())) {
      s += m.value("role", "") + "\x1f" + m.value("content", "") + "\x1e";
    }
    return s;
  }

 private:
  static double Now() { return Clock::Real()->NowSeconds(); }
  // Sleeps `s` seconds in small steps; returns early once the server is stopping.
  void Sleep(double s) const {
    const double end = Now() + s;
    for (double now = Now(); now < end && !stopping_; now = Now()) {
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(end - now, 0.005)));
    }
  }

  std::string MetricsText() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream os;
    os << "# HELP cellar_store_hit_tokens_total Prompt tokens reused, by tier.\n"
       << "# TYPE cellar_store_hit_tokens_total counter\n";
    for (size_t i = 0; i < opts_.tiers.size(); ++i) {
      os << "cellar_store_hit_tokens_total{tier=\"" << opts_.tiers[i] << "\"} "
         << (i == 0 ? hit_tokens_ : 0) << "\n";
    }
    os << "# TYPE cellar_store_miss_tokens_total counter\n"
       << "cellar_store_miss_tokens_total " << miss_tokens_ << "\n";
    return os.str();
  }

  void HandleChat(const httplib::Request& req, httplib::Response& res) {
    const double t_recv = Now();
    const int now_in = in_flight_.fetch_add(1) + 1;
    int prev = max_in_flight_.load();
    while (now_in > prev && !max_in_flight_.compare_exchange_weak(prev, now_in)) {
    }
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    const std::string text = body.is_object() ? PromptText(body) : std::string();
    size_t slot = 0;
    int64_t prompt_tokens = 0, cached_tokens = 0;
    int index = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      size_t best = 0;
      for (const std::string& p : prompts_) {
        const size_t n = std::min(p.size(), text.size());
        size_t i = 0;
        while (i < n && p[i] == text[i]) ++i;
        best = std::max(best, i);
      }
      prompts_.push_back(text);
      prompt_tokens =
          static_cast<int64_t>(std::ceil(static_cast<double>(text.size()) / opts_.chars_per_token));
      cached_tokens = opts_.prefix_cache
                          ? static_cast<int64_t>(static_cast<double>(best) / opts_.chars_per_token)
                          : 0;
      hit_tokens_ += cached_tokens;
      miss_tokens_ += prompt_tokens - cached_tokens;
      index = static_cast<int>(received_.size()) + 1;
      received_.push_back(ReceivedRequest{body, t_recv, 0, index});
      slot = received_.size() - 1;
    }
    // A request stops counting as in flight before its last bytes go out: the
    // client may send its next request as soon as it has read them, before
    // httplib calls `finish`.
    auto left = std::make_shared<std::atomic<bool>>(false);
    auto leave = [this, left] {
      if (!left->exchange(true)) in_flight_.fetch_sub(1);
    };
    auto finish = [this, slot, leave](bool) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_[slot].t_done = Now();
      }
      leave();
    };
    if (!body.is_object() || !body.contains("messages")) {
      finish(true);
      res.status = 400;
      res.set_content(R"({"error":{"message":"bad request","type":"invalid_request_error"}})",
                      "application/json");
      return;
    }
    if (opts_.fail_every > 0 && index % opts_.fail_every == 0) {
      finish(true);
      res.status = 500;
      res.set_content(R"({"error":{"message":"fake failure","type":"server_error"}})",
                      "application/json");
      return;
    }
    const int64_t max_tokens = body.value("max_tokens", int64_t{1} << 30);
    const int n_tokens = static_cast<int>(std::min<int64_t>(opts_.n_tokens, max_tokens));
    const bool usage =
        body.contains("stream_options") && body["stream_options"].value("include_usage", false);
    const bool midstream_error =
        opts_.midstream_error_every > 0 && index % opts_.midstream_error_every == 0;
    res.set_chunked_content_provider(
        "text/event-stream",
        [=, this](size_t, httplib::DataSink& sink) {
          auto send = [&](const std::string& data) {
            const std::string ev = "data: " + data + "\n\n";
            if (!opts_.split_writes) return sink.write(ev.data(), ev.size());
            for (size_t i = 0; i < ev.size(); i += 5) {
              if (!sink.write(ev.data() + i, std::min<size_t>(5, ev.size() - i))) return false;
              Sleep(0.0005);
            }
            return true;
          };
          const auto chunk = [](const nlohmann::json& delta, const nlohmann::json& finish_reason) {
            return nlohmann::json{
                {"object", "chat.completion.chunk"},
                {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}}}
                .dump();
          };
          if (!send(chunk({{"role", "assistant"}, {"content", ""}}, nullptr))) return false;
          Sleep(opts_.ttft_s);
          for (int t = 0; t < n_tokens; ++t) {
            if (t > 0) Sleep(opts_.inter_token_s);
            if (!send(chunk({{"content", "tok" + std::to_string(t) + " "}}, nullptr))) return false;
            if (midstream_error) {
              send(R"({"error":{"message":"fake mid-stream error","type":"server_error"}})");
              break;
            }
          }
          if (!midstream_error) {
            send(chunk(nlohmann::json::object(), n_tokens < max_tokens ? "stop" : "length"));
            if (usage) {
              send(nlohmann::json{{"object", "chat.completion.chunk"},
                                  {"choices", nlohmann::json::array()},
                                  {"usage",
                                   {{"prompt_tokens", prompt_tokens},
                                    {"completion_tokens", n_tokens},
                                    {"total_tokens", prompt_tokens + n_tokens},
                                    {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}}}}
                       .dump());
            }
          }
          leave();
          if (!opts_.no_done) send("[DONE]");
          sink.done();
          return true;
        },
        finish);
  }

  FakeServerOptions opts_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> received_;  // GUARDED_BY(mu_)
  std::vector<std::string> prompts_;       // GUARDED_BY(mu_)
  int64_t hit_tokens_ = 0;                 // GUARDED_BY(mu_)
  int64_t miss_tokens_ = 0;                // GUARDED_BY(mu_)
};

// Stand-in for `cellar serve` in --compare tests. When the environment has
// CELLAR_REPLAY_FAKE_SERVE=1, the calling process reads its own command line, which
// must contain `serve ... --port P ...`, appends it (arguments separated by TABs)
// as one line to $CELLAR_REPLAY_FAKE_SERVE_LOG when set, serves a FakeOpenAiServer
// on 127.0.0.1:P until SIGTERM or SIGINT, and exits 0 without returning. The fake
// mimics the configurations: `--no-prefix-cache` reports no cached tokens and no
// metrics; `--no-store` reports only the pool tier; `--store-disk 0` pool and dram.
// Otherwise (the usual case) it returns false at once.
inline bool MaybeRunFakeServe() {
  const char* env = std::getenv("CELLAR_REPLAY_FAKE_SERVE");
  if (env == nullptr || std::string(env) != "1") return false;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t i = 0; i < raw.size();) {
    const size_t end = raw.find('\0', i);
    args.push_back(raw.substr(i, end - i));
    i = end == std::string::npos ? raw.size() : end + 1;
  }
  FakeServerOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool has_next = i + 1 < args.size();
    if (args[i] == "--port" && has_next) o.port = std::atoi(args[i + 1].c_str());
    if (args[i] == "--no-prefix-cache") {
      o.prefix_cache = false;
      o.metrics = false;
    }
    if (args[i] == "--no-store") o.tiers = {"pool"};
    if (args[i] == "--store-disk" && has_next && args[i + 1] == "0") o.tiers = {"pool", "dram"};
  }
  if (const char* log = std::getenv("CELLAR_REPLAY_FAKE_SERVE_LOG")) {
    std::ofstream out(log, std::ios::app);
    for (size_t i = 0; i < args.size(); ++i) out << (i ? "\t" : "") << args[i];
    out << "\n";
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server's threads exist
  int rc = 0;
  {
    FakeOpenAiServer server(o);
    if (!server.ok()) {
      std::fprintf(stderr, "fake serve: cannot bind port %d\n", o.port);
      rc = 3;
    } else {
      int sig = 0;
      sigwait(&set, &sig);
    }
  }
  std::_Exit(rc);
}

}  // namespace cellar::replay::testing
