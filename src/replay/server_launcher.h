// ServerUnderTest: a `cellar serve` (or a stand-in) started for one --compare
// configuration on a free loopback port, waited for until GET /health answers 200,
// and stopped with SIGTERM (SIGKILL after a grace period).
//
// Owned by the thread running the comparison; the destructor stops the server.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "replay/process.h"

namespace cellar::replay {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close).
Result<int> PickFreePort();

struct ServerLaunch {
  std::vector<std::string> argv;  // the whole command line
  std::string log_path;
  double start_timeout_s = 300;  // model loading can take a while
  double stop_grace_s = 30;
};

class ServerUnderTest {
 public:
  // Starts the server and waits for GET <url>/health == 200. Fails early when the
  // process exits, when `stop` becomes true, or after start_timeout_s (the process
  // is then stopped). `url` is "http://127.0.0.1:<port>".
  static Result<std::unique_ptr<ServerUnderTest>> Start(const ServerLaunch& l,
                                                        const std::string& url,
                                                        const std::atomic<bool>* stop);
  ~ServerUnderTest();

  const std::string& url() const { return url_; }
  // True while the process has not exited.
  bool Running();
  // SIGTERM, then SIGKILL after the grace period; the exit status (see ChildProcess).
  int Stop(bool* killed = nullptr);

 private:
  ServerUnderTest(std::unique_ptr<ChildProcess> p, std::string url, double grace_s)
      : proc_(std::move(p)), url_(std::move(url)), grace_s_(grace_s) {}
  std::unique_ptr<ChildProcess> proc_;
  std::string url_;
  double grace_s_;
};

// The last `max_bytes` of a file (a server log, for error messages).
std::string FileTail(const std::string& path, size_t max_bytes = 2000);

}  // namespace cellar::replay
