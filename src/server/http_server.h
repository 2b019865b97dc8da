// HttpServer: the HTTP/1.1 listener. The only code that touches the HTTP
// library (cpp-httplib) is http_server.cc; handlers see http_types.h only.
//
// Routes are added before Serve(). Serve() blocks the calling thread while a
// pool of connection threads runs the handlers (a streamed response keeps its
// connection's thread until the stream ends). Stop() may be called from any
// thread: it closes the listening socket; Serve() returns once the requests
// in flight have been answered and idle keep-alive connections have timed out.
//
// Creating a server sets SIGPIPE to "ignore" for the process: a write to a
// client that has gone away must fail, not kill the server.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/http_types.h"

namespace cellar {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port (see port())
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger request bodies get 413
  int n_threads = 64;                       // connection threads
  int keep_alive_seconds = 5;               // idle keep-alive connections close after this
  int read_timeout_seconds = 30;
  int write_timeout_seconds = 30;
};

class HttpServer {
 public:
  // Binds the listening socket. UNAVAILABLE when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `path` is matched exactly. REQUIRES: before Serve().
  void Route(const std::string& method, const std::string& path, HttpHandler handler);

  // Builds the response for an error the server produces itself, before any
  // handler runs (404 no such route, 413 body too large, 400 unreadable
  // request). Called with the status code.
  void SetErrorResponder(std::function<HttpResponse(int status)> responder);

  // Called after every response (a streamed one when its stream has ended)
  // with the request's method and path and the status sent; for metrics and
  // logs. Runs on the connection's thread.
  void SetResponseObserver(
      std::function<void(std::string_view method, std::string_view path, int status)> observer);

  // The bound port.
  int port() const { return port_; }

  // Serves until Stop(). INTERNAL if the listener fails.
  Status Serve();
  // Thread-safe; idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace cellar
