// DiskTier: the chunk files of one store directory. It writes chunk files
// atomically (temporary name, fsync, rename, directory fsync), reads and
// verifies them, removes them, and scans the directory at start to rebuild the
// index. It keeps no index of its own (the TieredStore does) and no state but
// its options, so it is thread-safe; two writes of the same hash must not run
// at once (the store's single worker thread writes).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/hash.h"
#include "base/status.h"
#include "store/chunk.h"
#include "store/chunk_file.h"

namespace cellar {

class DiskTier {
 public:
  struct Options {
    std::string dir;  // created if missing
    KvShape shape;
    Hash128 model;
    Env* env = nullptr;  // REQUIRES: non-null
  };

  // What a scan found.
  struct ScanResult {
    std::vector<ChunkFileHeader> chunks;  // valid chunk files, in file-name order
    int removed_corrupt = 0;              // torn, truncated or corrupt headers
    int removed_mismatch = 0;             // another model, version or KV shape
    int removed_temporary = 0;            // *.tmp left by an interrupted write
    int ignored = 0;                      // names that are not chunk files (left alone)
  };

  // Creates the directory if needed. Does not scan.
  static Result<std::unique_ptr<DiskTier>> Open(const Options& options);

  // Lists the directory, verifies every chunk file's header (not its layer CRCs,
  // which are checked on every read), removes bad files and leftovers.
  Result<ScanResult> Scan();

  // Writes `chunk` as a chunk file; returns its header. kResourceExhausted on
  // ENOSPC, kIoError/kNotFound on other failures (the temporary file is removed).
  // A vanished directory is re-created once.
  Result<ChunkFileHeader> Write(const EncodedChunk& chunk, int64_t created_unix_ms);

  // Reads the whole chunk file and verifies the header (against `expected`:
  // same hash, codec and segment table) and every layer CRC. kDataLoss when
  // anything fails, kNotFound when the file is gone.
  Result<EncodedChunkPtr> Read(const ChunkFileHeader& expected);

  // Opens a chunk file for layer-by-layer (asynchronous) reads.
  Result<std::unique_ptr<RandomAccessFile>> OpenChunk(const Hash128& hash);

  Status Remove(const Hash128& hash);

  std::string PathFor(const Hash128& hash) const;
  const std::string& dir() const { return options_.dir; }
  Env* env() const { return options_.env; }

 private:
  explicit DiskTier(Options options) : options_(std::move(options)) {}
  Result<ChunkFileHeader> ReadHeader(const std::string& path, uint64_t* file_size);

  const Options options_;
};

}  // namespace cellar
