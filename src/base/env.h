// Env: every file-system operation the project performs (open, append, pread,
// fsync, rename, unlink, list, mkdir, size, free space) and asynchronous reads,
// behind one small interface. Env::Default() is the POSIX implementation (reads
// asynchronously through io_uring, or a reader thread where io_uring is
// unavailable); tests replace it with a fault-injecting one
// (base/testing/fault_env.h) to produce torn writes, flipped bytes, ENOSPC,
// EIO, slow disks and vanished directories.
//
// Errors map onto Status codes: ENOENT -> kNotFound, ENOSPC/EDQUOT ->
// kResourceExhausted, anything else -> kIoError.
//
// Thread-safety: an Env and its AsyncReaders are safe to use from any thread.
// A RandomAccessFile is safe for concurrent Read(); a WritableFile is used by
// one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace cellar {

// A file opened for positioned reads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to buf.size() bytes at `offset` and returns how many were read:
  // fewer than asked only at end of file.
  virtual Result<size_t> Read(uint64_t offset, std::span<uint8_t> buf) const = 0;
  virtual Result<uint64_t> Size() const = 0;
  // The OS descriptor that an io_uring reader may use directly, or -1 when
  // reads must go through Read() (wrapped or fault-injecting files).
  virtual int NativeHandle() const { return -1; }
  virtual const std::string& path() const = 0;
};

// A file opened for sequential writing (created or truncated on open).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::span<const uint8_t> data) = 0;
  // Makes the data written so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Closes the descriptor; later calls fail. The destructor closes silently.
  virtual Status Close() = 0;
};

// Capacity of the file system holding a path (statvfs).
struct FsSpace {
  uint64_t capacity_bytes = 0;
  uint64_t available_bytes = 0;  // to an unprivileged user
};

// Reads issued now, completed later on the reader's own thread.
class AsyncReader {
 public:
  // Called once per read, on a reader thread, with the byte count (short only at
  // end of file) or the error. Must not block for long.
  using Callback = std::function<void(Result<size_t>)>;

  virtual ~AsyncReader() = default;
  // Starts reading buf.size() bytes at `offset`. REQUIRES: `file` and `buf` stay
  // valid until `done` has been called. The destructor waits for every read in
  // flight to complete (its callback runs) before returning.
  virtual void Read(const RandomAccessFile* file, uint64_t offset, std::span<uint8_t> buf,
                    Callback done) = 0;
  // "io_uring", "threads" or "inline".
  virtual std::string_view kind() const = 0;
  // True when Read() completes the read (and runs `done`) before returning:
  // callers then issue reads just in time instead of ahead.
  virtual bool reads_inline() const { return false; }
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env (never destroyed).
  static Env* Default();

  virtual Result<std::unique_ptr<RandomAccessFile>> OpenForRead(const std::string& path) = 0;
  // Creates `path` (truncating an existing file), mode 0644.
  virtual Result<std::unique_ptr<WritableFile>> CreateFile(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // mkdir -p.
  virtual Status CreateDirs(const std::string& dir) = 0;
  // fsync of a directory, so that renames and unlinks inside it are durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Result<FsSpace> GetFsSpace(const std::string& path) = 0;
  // An asynchronous reader with room for `queue_depth` reads in flight.
  virtual Result<std::unique_ptr<AsyncReader>> NewAsyncReader(int queue_depth) = 0;
};

// An AsyncReader that runs RandomAccessFile::Read() on `n_threads` threads of
// its own: the fallback where io_uring is unavailable, and the reader for
// wrapped files (NativeHandle() == -1).
std::unique_ptr<AsyncReader> NewThreadAsyncReader(int n_threads);

// An AsyncReader that reads on the calling thread inside Read() and runs `done`
// before returning. For a caller that is itself off the critical path (the
// store's loader thread) and data that is mostly in the page cache, this avoids
// a thread hand-off per read (see docs/STORE.md for measurements).
std::unique_ptr<AsyncReader> NewInlineAsyncReader();

// Reads the whole file at `path` through `env`.
Result<std::vector<uint8_t>> ReadWholeFile(Env* env, const std::string& path);

// Writes `data` to `path` durably: a temporary file `path + ".tmp"` is written,
// fsynced and renamed over `path`, and the directory is fsynced.
Status WriteFileAtomically(Env* env, const std::string& path, std::span<const uint8_t> data);

}  // namespace cellar
