#include "replay/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

namespace cellar::replay {
namespace {

int DecodeStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

bool IsExecutable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (!IsExecutable(name)) return NotFound("not an executable file: " + name);
    return name;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (IsExecutable(candidate)) return candidate;
  }
  return NotFound(name + " not found in PATH");
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return InvalidArgument("no program to run");
  CELLAR_ASSIGN_OR_RETURN(std::string program, FindProgram(o.argv[0]));
  // Everything the child needs is prepared before fork(): after it, in a process
  // with threads, only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  argv.reserve(o.argv.size() + 1);
  for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int log_fd = -1;
  if (!o.log_path.empty()) {
    log_fd = ::open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return IoError("cannot open " + o.log_path + ": " + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (log_fd >= 0) ::close(log_fd);
    return IoError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    if (o.own_process_group) ::setpgid(0, 0);
    if (o.term_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    }
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    ::close_range(3, ~0U, 0);  // no sockets or files of the replay leak into the child
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
}

std::optional<int> ChildProcess::TryWait() {
  if (status_) return status_;
  int ws = 0;
  const pid_t r = ::waitpid(pid_, &ws, WNOHANG);
  if (r == pid_) status_ = DecodeStatus(ws);
  if (r < 0 && errno == ECHILD) status_ = -1;  // reaped elsewhere
  return status_;
}

int ChildProcess::Wait() {
  while (!status_) {
    int ws = 0;
    const pid_t r = ::waitpid(pid_, &ws, 0);
    if (r == pid_) {
      status_ = DecodeStatus(ws);
    } else if (r < 0 && errno != EINTR) {
      status_ = -1;
    }
  }
  return *status_;
}

int ChildProcess::Stop(double grace_s, bool* killed) {
  if (killed != nullptr) *killed = false;
  if (TryWait()) return *status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (TryWait()) return *status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (killed != nullptr) *killed = true;
  ::kill(pid_, SIGKILL);
  return Wait();
}

Result<int> RunToCompletion(const std::vector<std::string>& argv, const std::string& log_path) {
  SpawnOptions o;
  o.argv = argv;
  o.log_path = log_path;
  CELLAR_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(o));
  return child->Wait();
}

}  // namespace cellar::replay
