// FaultEnv: an Env for tests that forwards to a real Env (normally
// Env::Default()) and injects faults on request: torn writes (only a prefix of
// what was written persists, while every call reports success), a flipped byte
// on read, ENOSPC after a byte budget, EIO on reads/writes/syncs, slow reads and
// writes, and a fake free-space report. Faults apply to paths containing a given
// substring ("" = every path) until cleared.
//
// Files it opens report NativeHandle() == -1 and its AsyncReader is a thread
// reader, so asynchronous reads pass through the fault layer too.
//
// Thread-safety: all methods may be called from any thread, also while files
// opened through it are in use.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "base/env.h"

namespace cellar::testing {

class FaultEnv final : public Env {
 public:
  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // Files created from now on whose path contains `path_substr` keep only their
  // first `keep_bytes` bytes; Append/Sync/Close still report success.
  void SetTornWrites(std::string path_substr, uint64_t keep_bytes);
  // Reads of files whose path contains `path_substr` see the byte at `offset`
  // XOR-ed with 0x5a.
  void SetFlipByteOnRead(std::string path_substr, uint64_t offset);
  // After `bytes` more bytes have been appended (to any file), appends write
  // what still fits and fail with kResourceExhausted (ENOSPC).
  void SetNoSpaceAfter(uint64_t bytes);
  // Reads / appends / syncs of matching paths fail with kIoError (EIO).
  void SetReadError(std::string path_substr);
  void SetWriteError(std::string path_substr);
  void SetSyncError(std::string path_substr);
  // Each read / append sleeps this long first.
  void SetReadDelay(std::chrono::microseconds d);
  void SetWriteDelay(std::chrono::microseconds d);
  // While blocked, appends wait (a disk that hangs) until unblocked.
  void SetWritesBlocked(bool blocked);
  // Appends waiting on SetWritesBlocked right now.
  int blocked_writers() const;
  // GetFsSpace reports this instead of the real file system.
  void SetFsSpace(FsSpace space);
  void ClearFaults();

  uint64_t bytes_appended() const { return bytes_appended_.load(); }
  uint64_t reads() const { return reads_.load(); }
  uint64_t files_created() const { return files_created_.load(); }

  // Env:
  Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> CreateFile(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Status SyncDir(const std::string& dir) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Result<FsSpace> GetFsSpace(const std::string& path) override;
  Result<std::unique_ptr<AsyncReader>> NewAsyncReader(int queue_depth) override;

 private:
  friend class FaultRandomAccessFile;
  friend class FaultWritableFile;

  struct Faults {
    std::optional<std::string> torn_substr;
    uint64_t torn_keep = 0;
    std::optional<std::string> flip_substr;
    uint64_t flip_offset = 0;
    std::optional<uint64_t> space_left;
    std::optional<std::string> read_error_substr;
    std::optional<std::string> write_error_substr;
    std::optional<std::string> sync_error_substr;
    std::chrono::microseconds read_delay{0};
    std::chrono::microseconds write_delay{0};
    std::optional<FsSpace> fs_space;
  };
  static bool Matches(const std::optional<std::string>& substr, const std::string& path) {
    return substr.has_value() && path.find(*substr) != std::string::npos;
  }
  Faults Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return faults_;
  }
  // Takes up to `want` bytes from the ENOSPC budget; returns how many may be written.
  uint64_t TakeSpace(uint64_t want);
  void WaitWhileBlocked();

  Env* const base_;
  mutable std::mutex mu_;
  Faults faults_;  // GUARDED_BY(mu_)
  std::condition_variable unblock_cv_;
  bool writes_blocked_ = false;  // GUARDED_BY(mu_)
  int blocked_writers_ = 0;      // GUARDED_BY(mu_)
  std::atomic<uint64_t> bytes_appended_{0};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> files_created_{0};
};

// Test helpers acting on the real file system (a crash or another process).
// Shortens the file at `path` to `size` bytes.
void TruncateFile(const std::string& path, uint64_t size);
// XORs the byte at `offset` of the file at `path` with 0xff.
void CorruptByte(const std::string& path, uint64_t offset);
// rm -rf `dir`.
void RemoveDirAll(const std::string& dir);

}  // namespace cellar::testing
