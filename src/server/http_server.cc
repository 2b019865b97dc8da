// The one file that uses cpp-httplib (Debian's libcpp-httplib, 0.11).
#include "server/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <utility>

#include "base/log.h"

namespace cellar {
namespace {

// "ip" and port of a socket address, as httplib reports them (numeric host).
bool AddressOf(const sockaddr_storage& addr, socklen_t len, std::string* ip, int* port) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof(host), nullptr, 0,
                  NI_NUMERICHOST) != 0) {
    return false;
  }
  *ip = host;
  if (addr.ss_family == AF_INET) {
    *port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    *port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  } else {
    return false;
  }
  return true;
}

// Finds the file descriptor of the accepted socket with these endpoints.
// httplib 0.11 does not hand the connection's socket to handlers, so a handler
// that blocks (a non-streamed completion) finds it by its addresses to notice a
// client that has gone away. The connection stays open while its handler
// runs, so the descriptor cannot be reused under us. -1 when not found.
int FindConnectionSocket(const std::string& local_ip, int local_port, const std::string& remote_ip,
                         int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    std::string ip;
    int port = -1;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        !AddressOf(addr, len, &ip, &port) || port != local_port || ip != local_ip) {
      continue;
    }
    len = sizeof(addr);
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        !AddressOf(addr, len, &ip, &port) || port != remote_port || ip != remote_ip) {
      continue;
    }
    found = static_cast<int>(fd);
    break;
  }
  closedir(dir);
  return found;
}

// True unless the peer has closed the connection (or it failed). Pipelined
// bytes from the client count as alive.
bool SocketAlive(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  const int n = poll(&p, 1, 0);
  if (n < 0) return true;
  if (n == 0) return true;
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL | POLLRDHUP)) return false;
  char byte;
  const ssize_t r = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

// Lazily finds the connection's socket, then probes it.
class ConnectionProbe {
 public:
  ConnectionProbe(std::string local_ip, int local_port, std::string remote_ip, int remote_port)
      : local_ip_(std::move(local_ip)),
        local_port_(local_port),
        remote_ip_(std::move(remote_ip)),
        remote_port_(remote_port) {}

  bool Connected() {
    if (!looked_up_) {
      fd_ = FindConnectionSocket(local_ip_, local_port_, remote_ip_, remote_port_);
      looked_up_ = true;
      if (fd_ < 0)
        CELLAR_LOG_WARN("http: cannot find the socket of {}:{}", remote_ip_, remote_port_);
    }
    return fd_ < 0 || SocketAlive(fd_);
  }

 private:
  std::string local_ip_;
  int local_port_;
  std::string remote_ip_;
  int remote_port_;
  bool looked_up_ = false;
  int fd_ = -1;
};

class SinkWriter final : public HttpStreamWriter {
 public:
  explicit SinkWriter(httplib::DataSink& sink) : sink_(sink) {}
  bool Write(std::string_view data) override {
    if (failed_) return false;
    if (data.empty()) return true;
    if (!sink_.write(data.data(), data.size())) failed_ = true;
    return !failed_;
  }
  bool Connected() override { return !failed_ && sink_.is_writable(); }
  bool failed() const { return failed_; }

 private:
  httplib::DataSink& sink_;
  bool failed_ = false;
};

HttpRequest Translate(const httplib::Request& req) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  for (const auto& [name, value] : req.headers) {
    // httplib adds the connection's addresses as pseudo headers; keep them out.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT") {
      continue;
    }
    out.headers.emplace(name, value);
  }
  out.body = req.body;
  out.remote_addr = req.remote_addr;
  auto probe = std::make_shared<ConnectionProbe>(req.local_addr, req.local_port, req.remote_addr,
                                                 req.remote_port);
  out.client_connected = [probe] { return probe->Connected(); };
  return out;
}

void Apply(HttpResponse&& r, httplib::Response& res) {
  res.status = r.status;
  for (auto& [name, value] : r.headers) res.set_header(name, value);
  if (r.stream) {
    auto stream = std::make_shared<std::function<void(HttpStreamWriter&)>>(std::move(r.stream));
    res.set_chunked_content_provider(r.content_type,
                                     [stream](size_t /*offset*/, httplib::DataSink& sink) {
                                       SinkWriter writer(sink);
                                       (*stream)(writer);
                                       if (writer.failed()) return false;
                                       sink.done();
                                       return true;
                                     });
  } else {
    res.set_content(std::move(r.body), r.content_type);
  }
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
  std::function<HttpResponse(int)> error_responder;
  std::function<void(std::string_view, std::string_view, int)> observer;
  std::atomic<bool> serving{false};
  std::atomic<bool> stop_requested{false};
};

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options) {
  signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  httplib::Server& svr = impl->server;
  const int n_threads = options.n_threads > 0 ? options.n_threads : 1;
  svr.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  svr.set_payload_max_length(options.max_body_bytes);
  svr.set_keep_alive_timeout(options.keep_alive_seconds);
  svr.set_read_timeout(options.read_timeout_seconds, 0);
  svr.set_write_timeout(options.write_timeout_seconds, 0);
  svr.set_tcp_nodelay(true);
  Impl* raw = impl.get();
  svr.set_error_handler([raw](const httplib::Request& /*req*/, httplib::Response& res) {
    // Handlers' own error responses carry a body; fill only the library's.
    if (!res.body.empty() || !raw->error_responder) return;
    HttpResponse r = raw->error_responder(res.status);
    res.set_content(std::move(r.body), r.content_type);
    for (auto& [name, value] : r.headers) res.set_header(name, value);
  });
  svr.set_exception_handler([](const httplib::Request& /*req*/, httplib::Response& res,
                               std::exception_ptr /*e*/) { res.status = 500; });
  svr.set_logger([raw](const httplib::Request& req, const httplib::Response& res) {
    if (raw->observer) raw->observer(req.method, req.path, res.status);
  });
  int port = options.port;
  if (port == 0) {
    port = svr.bind_to_any_port(options.host);
    if (port <= 0) return Unavailable("cannot bind " + options.host + " on any port");
  } else if (!svr.bind_to_port(options.host, port)) {
    return Unavailable("cannot bind " + options.host + ":" + std::to_string(port) +
                       " (in use, or not a local address)");
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& path, HttpHandler handler) {
  // httplib matches a regex; quote the path's regex characters.
  std::string pattern;
  for (char c : path) {
    if (std::string_view(".[]{}()\\*+?^$|").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  auto fn = [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    Apply(h(Translate(req)), res);
  };
  if (method == "GET") {
    impl_->server.Get(pattern, fn);
  } else if (method == "POST") {
    impl_->server.Post(pattern, fn);
  } else if (method == "DELETE") {
    impl_->server.Delete(pattern, fn);
  } else if (method == "PUT") {
    impl_->server.Put(pattern, fn);
  }
}

void HttpServer::SetErrorResponder(std::function<HttpResponse(int status)> responder) {
  impl_->error_responder = std::move(responder);
}

void HttpServer::SetResponseObserver(
    std::function<void(std::string_view method, std::string_view path, int status)> observer) {
  impl_->observer = std::move(observer);
}

Status HttpServer::Serve() {
  impl_->serving = true;
  if (impl_->stop_requested) {
    impl_->serving = false;
    return OkStatus();
  }
  const bool ok = impl_->server.listen_after_bind();
  impl_->serving = false;
  return ok ? OkStatus() : Internal("the HTTP listener failed");
}

void HttpServer::Stop() {
  impl_->stop_requested = true;
  // httplib's stop() does nothing until the listener runs: if Serve() has been
  // entered but is not listening yet, wait for it (briefly) so the stop lands.
  for (int i = 0; i < 2000 && impl_->serving && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
}

}  // namespace cellar
