// The POSIX Env, the io_uring reader and the thread reader.
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/env.h"
#include "base/log.h"

namespace cellar {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " '" + path + "': " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) return NotFound(std::move(msg));
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(std::move(msg));
  return IoError(std::move(msg));
}

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> Read(uint64_t offset, std::span<uint8_t> buf) const override {
    size_t done = 0;
    while (done < buf.size()) {
      const ssize_t n =
          ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("cannot read", path_, errno);
      }
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Result<uint64_t> Size() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  int NativeHandle() const override { return fd_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::span<const uint8_t> data) override {
    if (fd_ < 0) return FailedPrecondition("write to closed file '" + path_ + "'");
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("cannot write", path_, errno);
      }
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }

  Status Sync() override {
    if (fd_ < 0) return FailedPrecondition("sync of closed file '" + path_ + "'");
    if (::fdatasync(fd_) != 0) return ErrnoStatus("cannot fsync", path_, errno);
    return OkStatus();
  }

  Status Close() override {
    if (fd_ < 0) return FailedPrecondition("double close of '" + path_ + "'");
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("cannot close", path_, errno);
    return OkStatus();
  }

 private:
  std::string path_;
  int fd_;
};

// ThreadAsyncReader: a queue served by n threads calling RandomAccessFile::Read.
class ThreadAsyncReader final : public AsyncReader {
 public:
  explicit ThreadAsyncReader(int n_threads) {
    for (int i = 0; i < std::max(1, n_threads); ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~ThreadAsyncReader() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void Read(const RandomAccessFile* file, uint64_t offset, std::span<uint8_t> buf,
            Callback done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(Op{file, offset, buf, std::move(done)});
    }
    cv_.notify_one();
  }
  std::string_view kind() const override { return "threads"; }

 private:
  struct Op {
    const RandomAccessFile* file;
    uint64_t offset;
    std::span<uint8_t> buf;
    Callback done;
  };

  void Loop() {
    for (;;) {
      Op op;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_ and drained
        op = std::move(queue_.front());
        queue_.pop_front();
      }
      op.done(op.file->Read(op.offset, op.buf));
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> queue_;  // GUARDED_BY(mu_)
  bool stop_ = false;     // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

class InlineAsyncReader final : public AsyncReader {
 public:
  void Read(const RandomAccessFile* file, uint64_t offset, std::span<uint8_t> buf,
            Callback done) override {
    done(file->Read(offset, buf));
  }
  std::string_view kind() const override { return "inline"; }
  bool reads_inline() const override { return true; }
};

// IoUringReader: one ring; callers submit under a mutex, one completion thread
// reaps and runs callbacks. Short reads are continued until end of file.
class IoUringReader final : public AsyncReader {
 public:
  static Result<std::unique_ptr<AsyncReader>> Create(int queue_depth) {
    auto r = std::unique_ptr<IoUringReader>(new IoUringReader(queue_depth));
    const int rc = io_uring_queue_init(static_cast<unsigned>(r->depth_), &r->ring_, 0);
    if (rc < 0) return IoError(std::string("io_uring_queue_init: ") + std::strerror(-rc));
    r->ring_ok_ = true;
    r->reaper_ = std::thread([p = r.get()] { p->Reap(); });
    return std::unique_ptr<AsyncReader>(std::move(r));
  }

  ~IoUringReader() override {
    if (!ring_ok_) return;
    {
      std::unique_lock<std::mutex> lock(mu_);
      slots_cv_.wait(lock, [this] { return in_flight_ == 0; });
      stop_ = true;
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      // The ring is empty (nothing in flight), so a slot is always available.
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data(sqe, nullptr);
      io_uring_submit(&ring_);
    }
    reaper_.join();
    io_uring_queue_exit(&ring_);
  }

  void Read(const RandomAccessFile* file, uint64_t offset, std::span<uint8_t> buf,
            Callback done) override {
    const int fd = file->NativeHandle();
    if (fd < 0 || buf.empty()) {
      done(file->Read(offset, buf));  // not a plain descriptor: read inline
      return;
    }
    auto* op = new Op{file, fd, offset, buf, 0, std::move(done)};
    std::unique_lock<std::mutex> lock(mu_);
    slots_cv_.wait(lock, [this] { return in_flight_ < depth_; });
    ++in_flight_;
    SubmitLocked(op);
  }
  std::string_view kind() const override { return "io_uring"; }

 private:
  struct Op {
    const RandomAccessFile* file;
    int fd;
    uint64_t offset;
    std::span<uint8_t> buf;
    size_t done_bytes;
    Callback done;
  };

  explicit IoUringReader(int queue_depth) : depth_(std::max(1, queue_depth)) {}

  // REQUIRES: mu_ held, a slot reserved for `op`.
  void SubmitLocked(Op* op) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {  // cannot happen while in_flight_ <= depth_; be safe
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    io_uring_prep_read(sqe, op->fd, op->buf.data() + op->done_bytes,
                       static_cast<unsigned>(op->buf.size() - op->done_bytes),
                       op->offset + op->done_bytes);
    io_uring_sqe_set_data(sqe, op);
    io_uring_submit(&ring_);
  }

  void Reap() {
    for (;;) {
      io_uring_cqe* cqe = nullptr;
      const int rc = io_uring_wait_cqe(&ring_, &cqe);
      if (rc == -EINTR) continue;
      if (rc < 0) {
        CELLAR_LOG_ERROR("io_uring_wait_cqe: {}", std::strerror(-rc));
        continue;
      }
      auto* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (op == nullptr) return;  // the shutdown nop
      if (res == -EINTR || res == -EAGAIN) {
        std::lock_guard<std::mutex> lock(mu_);
        SubmitLocked(op);
        continue;
      }
      if (res > 0) {
        op->done_bytes += static_cast<size_t>(res);
        if (op->done_bytes < op->buf.size()) {
          std::lock_guard<std::mutex> lock(mu_);
          SubmitLocked(op);  // continue a short read
          continue;
        }
      }
      Result<size_t> result =
          res < 0 ? Result<size_t>(ErrnoStatus("cannot read (io_uring)", op->file->path(), -res))
                  : Result<size_t>(op->done_bytes);
      op->done(std::move(result));
      delete op;
      {
        std::lock_guard<std::mutex> lock(mu_);
        --in_flight_;
      }
      slots_cv_.notify_all();
    }
  }

  const int depth_;
  io_uring ring_{};
  bool ring_ok_ = false;
  std::thread reaper_;
  std::mutex mu_;  // guards submission to ring_ and the fields below
  std::condition_variable slots_cv_;
  int in_flight_ = 0;  // GUARDED_BY(mu_)
  bool stop_ = false;  // GUARDED_BY(mu_)
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open", path, errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Result<std::unique_ptr<WritableFile>> CreateFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("cannot create", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("cannot rename", from, errno);
    return OkStatus();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("cannot remove", path, errno);
    return OkStatus();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("cannot list", dir, errno);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return ErrnoStatus("cannot create directory", dir, ec.value());
    return OkStatus();
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open directory", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("cannot fsync directory", dir, err);
    return OkStatus();
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<FsSpace> GetFsSpace(const std::string& path) override {
    struct statvfs s {};
    if (::statvfs(path.c_str(), &s) != 0) return ErrnoStatus("cannot statvfs", path, errno);
    FsSpace space;
    space.capacity_bytes = static_cast<uint64_t>(s.f_blocks) * s.f_frsize;
    space.available_bytes = static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
    return space;
  }

  Result<std::unique_ptr<AsyncReader>> NewAsyncReader(int queue_depth) override {
    auto uring = IoUringReader::Create(queue_depth);
    if (uring.ok()) return uring;
    CELLAR_LOG_WARN("io_uring unavailable ({}); disk reads use a reader thread",
                    uring.status().message());
    return NewThreadAsyncReader(2);
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

std::unique_ptr<AsyncReader> NewThreadAsyncReader(int n_threads) {
  return std::make_unique<ThreadAsyncReader>(n_threads);
}

std::unique_ptr<AsyncReader> NewInlineAsyncReader() {
  return std::make_unique<InlineAsyncReader>();
}

Result<std::vector<uint8_t>> ReadWholeFile(Env* env, const std::string& path) {
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->OpenForRead(path));
  CELLAR_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::vector<uint8_t> data(static_cast<size_t>(size));
  CELLAR_ASSIGN_OR_RETURN(size_t n, file->Read(0, data));
  data.resize(n);
  return data;
}

Status WriteFileAtomically(Env* env, const std::string& path, std::span<const uint8_t> data) {
  const std::string tmp = path + ".tmp";
  {
    CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->CreateFile(tmp));
    Status s = file->Append(data);
    if (s.ok()) s = file->Sync();
    if (s.ok()) s = file->Close();
    if (!s.ok()) {
      env->Remove(tmp).IgnoreError();
      return s;
    }
  }
  Status s = env->Rename(tmp, path);
  if (!s.ok()) {
    env->Remove(tmp).IgnoreError();
    return s;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return env->SyncDir(dir.empty() ? "." : dir);
}

}  // namespace cellar
