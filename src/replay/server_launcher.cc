#include "replay/server_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "replay/http_client.h"

namespace cellar::replay {

Result<int> PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return IoError("cannot find a free port: " + err);
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > static_cast<std::streamoff>(max_bytes)
                                  ? size - static_cast<std::streamoff>(max_bytes)
                                  : 0;
  in.seekg(from);
  std::string s(static_cast<size_t>(size - from), '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

Result<std::unique_ptr<ServerUnderTest>> ServerUnderTest::Start(const ServerLaunch& l,
                                                                const std::string& url,
                                                                const std::atomic<bool>* stop) {
  SpawnOptions so;
  so.argv = l.argv;
  so.log_path = l.log_path;
  so.own_process_group = true;
  so.term_with_parent = true;
  CELLAR_ASSIGN_OR_RETURN(auto proc, ChildProcess::Spawn(so));
  std::unique_ptr<ServerUnderTest> s(new ServerUnderTest(std::move(proc), url, l.stop_grace_s));
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(l.start_timeout_s);
  while (true) {
    if (auto rc = s->proc_->TryWait()) {
      return Unavailable("server exited with status " + std::to_string(*rc) +
                         " before answering /health; log " + l.log_path + ":\n" +
                         FileTail(l.log_path));
    }
    if (HttpGet(url, "/health", 2.0).ok()) return s;
    if (stop != nullptr && stop->load()) {
      s->Stop();
      return Cancelled("stopped while waiting for the server to start");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      s->Stop();
      return Unavailable("server did not answer /health within " +
                         std::to_string(l.start_timeout_s) + " s; log " + l.log_path + ":\n" +
                         FileTail(l.log_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ServerUnderTest::~ServerUnderTest() { Stop(); }

bool ServerUnderTest::Running() { return !proc_->TryWait().has_value(); }

int ServerUnderTest::Stop(bool* killed) { return proc_->Stop(grace_s_, killed); }

}  // namespace cellar::replay
