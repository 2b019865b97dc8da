// ChildProcess: a program started by the replay (a `cellar serve` under test, gnuplot),
// its output sent to a log file, stopped with SIGTERM and then SIGKILL.
//
// Owned by the thread that spawned it; the destructor kills (SIGKILL) and reaps a
// child that is still running, so none outlives its owner by accident.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace cellar::replay {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in PATH
  std::string log_path;           // stdout and stderr are appended here ("" = inherit)
  // Put the child in its own process group, so a Ctrl-C in the terminal reaches only
  // the replay, which then stops the child in order.
  bool own_process_group = false;
  // Send the child SIGTERM if the spawning thread dies first (Linux PR_SET_PDEATHSIG).
  bool term_with_parent = false;
};

class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Spawn(const SpawnOptions& o);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The exit status (exit code, or 128 + signal) once it has ended; nullopt while
  // it runs. Does not block.
  std::optional<int> TryWait();

  // Blocks until it ends; returns as TryWait.
  int Wait();

  // SIGTERM, up to `grace_s` seconds to end, then SIGKILL. Returns the exit status
  // and whether SIGKILL was needed.
  int Stop(double grace_s, bool* killed = nullptr);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> status_;
};

// Runs `argv` to completion (output to `log_path`); its exit status.
Result<int> RunToCompletion(const std::vector<std::string>& argv, const std::string& log_path);

// The absolute path of `name` found in PATH (or `name` itself when it has a '/');
// NotFound when it is not there.
Result<std::string> FindProgram(const std::string& name);

}  // namespace cellar::replay
