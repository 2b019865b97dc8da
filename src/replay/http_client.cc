#include "replay/http_client.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "replay/chat_stream.h"

namespace cellar::replay {
namespace {

// Bodies kept whole: error bodies and non-streamed responses.
constexpr size_t kMaxBody = 4 << 20;

// Seconds and microseconds for httplib's timeouts.
std::pair<time_t, time_t> SplitSeconds(double s) {
  s = std::max(s, 0.001);
  const auto sec = static_cast<time_t>(std::floor(s));
  return {sec, static_cast<time_t>((s - static_cast<double>(sec)) * 1e6)};
}

Result<std::unique_ptr<httplib::Client>> MakeClient(const BaseUrl& base, double connect_s,
                                                    double read_s) {
  std::unique_ptr<httplib::Client> cli;
  try {
    cli = std::make_unique<httplib::Client>(base.scheme_host_port);
  } catch (const std::exception& e) {
    return InvalidArgument("bad URL " + base.scheme_host_port + ": " + e.what());
  }
  if (!cli->is_valid()) return InvalidArgument("bad URL " + base.scheme_host_port);
  auto [cs, cu] = SplitSeconds(connect_s);
  cli->set_connection_timeout(cs, cu);
  auto [rs, ru] = SplitSeconds(read_s);
  cli->set_read_timeout(rs, ru);
  cli->set_write_timeout(rs, ru);
  cli->set_keep_alive(true);
  cli->set_tcp_nodelay(true);
  return cli;
}

// The message of an OpenAI-style error body, or its first bytes.
std::string ErrorBodyText(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto err = j.find("error");
    if (err != j.end()) {
      if (err->is_string()) return err->get<std::string>();
      if (err->is_object()) {
        auto msg = err->find("message");
        if (msg != err->end() && msg->is_string()) return msg->get<std::string>();
      }
    }
  }
  return body.substr(0, 300);
}

}  // namespace

Result<BaseUrl> ParseBaseUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgument("URL needs a scheme (http:// or https://): " + std::string(url));
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument("URL scheme must be http or https: " + std::string(url));
  }
  const size_t host_begin = scheme_end + 3;
  const size_t path_begin = url.find('/', host_begin);
  BaseUrl b;
  b.scheme_host_port = std::string(url.substr(0, path_begin));
  if (b.scheme_host_port.size() <= host_begin) {
    return InvalidArgument("URL has no host: " + std::string(url));
  }
  if (path_begin != std::string_view::npos) {
    std::string path(url.substr(path_begin));
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (path.size() >= 3 && path.compare(path.size() - 3, 3, "/v1") == 0) {
      path.resize(path.size() - 3);
    }
    b.path_prefix = std::move(path);
  }
  return b;
}

Result<std::unique_ptr<ChatClient>> ChatClient::Create(const ChatClientOptions& o) {
  CELLAR_ASSIGN_OR_RETURN(BaseUrl base, ParseBaseUrl(o.url));
  CELLAR_ASSIGN_OR_RETURN(auto cli, MakeClient(base, o.connect_timeout_s, o.request_timeout_s));
  return std::unique_ptr<ChatClient>(new ChatClient(o, std::move(base), std::move(cli)));
}

ChatClient::ChatClient(ChatClientOptions o, BaseUrl base, std::unique_ptr<httplib::Client> cli)
    : opts_(std::move(o)), base_(std::move(base)), cli_(std::move(cli)) {}

ChatClient::~ChatClient() = default;

double ChatClient::Now() const {
  return static_cast<double>(opts_.clock->NowNanos() - opts_.epoch_ns) * 1e-9;
}

void ChatClient::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  cli_->stop();  // shuts the socket down; safe while another thread is in send()
}

void ChatClient::Send(const std::string& body, RequestRecord* rec) {
  ChatStreamReader reader;
  bool event_stream = true;
  std::string error_body;  // bodies of errors and of non-streamed answers
  std::string stream_error;
  bool timed_out = false;

  httplib::Request req;
  req.method = "POST";
  req.path = base_.path_prefix + "/v1/chat/completions";
  req.headers = {{"Accept", "text/event-stream"}};
  if (!opts_.api_key.empty()) req.headers.emplace("Authorization", "Bearer " + opts_.api_key);
  req.body = body;
  req.set_header("Content-Type", "application/json");

  const double t_send = Now();
  const double deadline = t_send + opts_.request_timeout_s;
  req.response_handler = [&](const httplib::Response& res) {
    rec->http_status = res.status;
    const std::string ct = res.get_header_value("Content-Type");
    event_stream = ct.find("text/event-stream") != std::string::npos;
    return !cancelled_.load(std::memory_order_acquire);
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (cancelled_.load(std::memory_order_acquire)) return false;
    const double now = Now();
    if (now > deadline) {
      timed_out = true;
      return false;
    }
    if (rec->http_status != 200 || !event_stream) {
      if (error_body.size() < kMaxBody)
        error_body.append(data, std::min(n, kMaxBody - error_body.size()));
      return true;
    }
    Status s = reader.Feed(std::string_view(data, n), now);
    if (!s.ok()) {
      stream_error = s.message();
      return false;
    }
    return true;
  };

  rec->t_send = t_send;
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool sent = false;
  if (!cancelled_.load(std::memory_order_acquire)) sent = cli_->send(req, res, err);
  // A kept-alive connection the server has closed since the last response fails at
  // once, before any response byte: send again once on a fresh connection, as HTTP
  // clients do for a stale connection (llama-server closes its streams this way).
  if (!sent && reused_connection_ && rec->http_status == 0 && !timed_out &&
      stream_error.empty() && (err == httplib::Error::Read || err == httplib::Error::Write) &&
      !cancelled_.load(std::memory_order_acquire)) {
    ++rec->reconnects;
    res = httplib::Response();
    err = httplib::Error::Success;
    sent = cli_->send(req, res, err);
  }
  reused_connection_ = sent;
  const double t_end = Now();
  rec->e2e_s = t_end - t_send;

  if (cancelled_.load(std::memory_order_acquire)) {
    rec->cancelled = true;
    rec->error = "cancelled";
  } else if (timed_out) {
    rec->error = "timeout after " + std::to_string(opts_.request_timeout_s) + " s";
  } else if (!stream_error.empty()) {
    rec->error = stream_error;
  } else if (!sent) {
    rec->error = err == httplib::Error::Read ? "read failed or timed out"
                                             : "HTTP: " + httplib::to_string(err);
  } else if (res.status != 200) {
    rec->http_status = res.status;
    rec->error = "HTTP " + std::to_string(res.status) + ": " + ErrorBodyText(error_body);
  } else {
    if (event_stream) {
      reader.Finish(t_end);
    } else {
      reader.ReadNonStreamed(error_body, t_end);
    }
    if (!reader.error().empty()) {
      rec->error = reader.error();
    } else if (event_stream && !reader.done() && reader.usage().prompt_tokens < 0 &&
               reader.finish_reason().empty()) {
      rec->error = "stream ended before [DONE]";
    }
  }
  if (sent) rec->http_status = res.status;

  if (reader.first_token_s() >= 0) rec->ttft_s = reader.first_token_s() - t_send;
  rec->finish_reason = reader.finish_reason();
  rec->prompt_tokens = reader.usage().prompt_tokens;
  rec->completion_tokens = reader.usage().completion_tokens;
  rec->cached_tokens = reader.usage().cached_tokens;
  rec->content_chunks = reader.content_chunks();
  rec->output_chars = reader.output_chars();
  const int64_t n_out = rec->completion_tokens >= 0 ? rec->completion_tokens : rec->content_chunks;
  if (rec->ttft_s >= 0 && n_out > 1) {
    rec->tpot_s = (rec->e2e_s - rec->ttft_s) / static_cast<double>(n_out - 1);
  }
}

Result<std::string> HttpGet(std::string_view url, const std::string& path, double timeout_s) {
  CELLAR_ASSIGN_OR_RETURN(BaseUrl base, ParseBaseUrl(url));
  CELLAR_ASSIGN_OR_RETURN(auto cli, MakeClient(base, timeout_s, timeout_s));
  cli->set_keep_alive(false);
  httplib::Result r = cli->Get(base.path_prefix + path);
  if (!r) {
    return Unavailable("GET " + path + ": " + httplib::to_string(r.error()));
  }
  if (r->status != 200) {
    return Unavailable("GET " + path + ": HTTP " + std::to_string(r->status));
  }
  return r->body;
}

}  // namespace cellar::replay
