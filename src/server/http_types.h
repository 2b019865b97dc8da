// The HTTP vocabulary the handlers use: a request, a response (whole or
// streamed) and the writer a streamed response writes through. These types are
// independent of the HTTP library; only http_server.cc translates them.
//
// Plain values; an HttpStreamWriter is used by the one thread that runs its
// stream function.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cellar {

// Header names compare case-insensitively.
struct HeaderNameLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::multimap<std::string, std::string, HeaderNameLess> headers;
  std::string body;
  std::string remote_addr;
  // True while the client's connection is open. Safe to call from the
  // handler's thread while it waits (e.g. for a non-streamed completion).
  std::function<bool()> client_connected = [] { return true; };

  // The first value of a header, or "" when absent.
  std::string Header(std::string_view name) const;
};

// Where a streamed response writes its body.
class HttpStreamWriter {
 public:
  virtual ~HttpStreamWriter() = default;
  // Sends `data` to the client now. False once the client is gone.
  virtual bool Write(std::string_view data) = 0;
  // False once the client has closed the connection (checked without writing).
  virtual bool Connected() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed (chunked transfer encoding): the function
  // is called once, on the connection's thread, after the status line and the
  // headers are sent, and writes the whole body through the writer.
  std::function<void(HttpStreamWriter&)> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace cellar
