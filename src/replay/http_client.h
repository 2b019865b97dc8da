// The HTTP side of the replay client. This file and http_client.cc are the only
// places that use cpp-httplib's client.
//
// ChatClient sends streamed chat completions over one keep-alive connection and
// measures them into a RequestRecord. One ChatClient per session thread; Cancel()
// may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "replay/request_record.h"

namespace httplib {
class Client;
}

namespace cellar::replay {

// "http://host:port/prefix" split into what the HTTP library takes.
struct BaseUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:8080"
  std::string path_prefix;       // "" or "/prefix" (no trailing slash)
};

// Accepts http:// and https:// URLs with an optional path; a trailing "/v1" is
// dropped (the client appends "/v1/chat/completions" itself).
Result<BaseUrl> ParseBaseUrl(std::string_view url);

struct ChatClientOptions {
  std::string url;      // base URL of the server
  std::string api_key;  // sent as "Authorization: Bearer <key>" when not empty
  double connect_timeout_s = 10;
  double request_timeout_s = 600;  // the whole request, headers to last byte
  const Clock* clock = Clock::Real();
  int64_t epoch_ns = 0;  // record times are (clock - epoch) in seconds
};

class ChatClient {
 public:
  static Result<std::unique_ptr<ChatClient>> Create(const ChatClientOptions& o);
  ~ChatClient();
  ChatClient(const ChatClient&) = delete;
  ChatClient& operator=(const ChatClient&) = delete;

  // POSTs `body` (a JSON chat completion request with "stream": true) to
  // <url>/v1/chat/completions and fills the timing and outcome fields of `rec`.
  // Blocks until the response ends, fails, times out or is cancelled.
  void Send(const std::string& body, RequestRecord* rec);

  // Aborts the request in flight, if any, and makes later Send calls fail at once.
  // Thread-safe. Call again if the request is still running (a request that had not
  // opened its socket yet sees the flag only at its next read).
  void Cancel();

 private:
  ChatClient(ChatClientOptions o, BaseUrl base, std::unique_ptr<httplib::Client> cli);
  double Now() const;

  ChatClientOptions opts_;
  BaseUrl base_;
  std::unique_ptr<httplib::Client> cli_;
  std::atomic<bool> cancelled_{false};
  bool reused_connection_ = false;  // the last request got a response on this connection
};

// GET <url><path>; the body when the status is 200, else an error.
Result<std::string> HttpGet(std::string_view url, const std::string& path, double timeout_s);

}  // namespace cellar::replay
