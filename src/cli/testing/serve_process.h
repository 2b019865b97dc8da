// Test helper: a `cellar serve` child process on a free port (`--port 0 --host
// 127.0.0.1`), for the tests that drive the real binary over HTTP. Its stdout
// is read until the "serving ... on http://host:port" line; its stderr goes to
// a log file that `log()` returns (for failure messages) and that is removed
// with the object. One thread uses it at a time.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "base/testing/shared_data.h"

namespace cellar::testing {

class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess() {
    Kill();
    std::error_code ec;
    if (!log_.empty()) std::filesystem::remove(log_, ec);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts `binary serve --port 0 --host 127.0.0.1 <args>` (in `cwd` when
  // given) and waits until it serves. False if it exits first.
  bool Start(const std::string& binary, const std::vector<std::string>& args,
             const std::string& cwd = "") {
    int out[2];
    if (pipe(out) != 0) return false;
    log_ = std::filesystem::temp_directory_path() /
           ("cellar_serve_" + std::to_string(getpid()) + "_" + std::to_string(counter_++) + ".log");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      if (FILE* err = std::fopen(log_.c_str(), "w"); err != nullptr) {
        dup2(fileno(err), STDERR_FILENO);
      }
      close(out[0]);
      if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
      std::vector<std::string> argv_s = {binary, "serve", "--port", "0", "--host", "127.0.0.1"};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& s : argv_s) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
    char line[1024];
    while (std::fgets(line, sizeof(line), out_) != nullptr) {
      stdout_ += line;
      const std::string l = line;
      const size_t at = l.find(" on http://");
      if (at == std::string::npos) continue;
      const size_t colon = l.find(':', at + 11);
      if (colon != std::string::npos) port_ = std::atoi(l.c_str() + colon + 1);
      if (port_ > 0) return true;
    }
    return false;  // exited before serving
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::string& stdout_text() const { return stdout_; }
  std::string log() const { return ReadFileToString(log_); }

  // Sends `sig` and waits for the exit; returns the exit code (-1: killed by a
  // signal, -2: still running after `timeout`, then killed).
  int Signal(int sig, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    return Wait(timeout);
  }
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        CloseStdout();
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    return -2;
  }
  // SIGKILL, as a crash.
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    CloseStdout();
  }

 private:
  void CloseStdout() {
    if (out_ != nullptr) std::fclose(out_);
    out_ = nullptr;
  }

  static inline int counter_ = 0;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
  std::string stdout_;
  std::filesystem::path log_;
};

}  // namespace cellar::testing
