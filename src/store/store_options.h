// StoreOptions: everything that configures a store, filled from the command
// line (--store-dram, --store-disk, --store-dir, --store-codec-dram,
// --store-codec-disk, --store-policy, --store-ttl, ...) by the CLI, plus helpers
// to parse byte sizes and find the default directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/env.h"
#include "base/hash.h"
#include "base/status.h"
#include "store/kv_shape.h"
#include "store/placement_policy.h"

namespace cellar {

struct StoreOptions {
  KvShape shape;          // the model's KV (REQUIRES: valid())
  Hash128 model;          // model fingerprint; chunk files of other models are removed
  int chunk_tokens = 64;  // tokens per chunk, a multiple of the pool block size

  uint64_t dram_bytes = 1ull << 30;  // --store-dram; 0 = no DRAM tier
  uint64_t disk_bytes = 0;           // --store-disk; 0 = no disk tier
  // --store-dir; chunk files go to <dir>/<model fingerprint hex>/. Empty: DefaultStoreDir().
  std::string dir;
  Codec dram_codec = Codec::kRaw;  // --store-codec-dram
  Codec disk_codec = Codec::kRaw;  // --store-codec-disk
  int zstd_level = 1;

  PolicyKind policy = PolicyKind::kScheduler;  // --store-policy
  double ttl_seconds = 0;                      // --store-ttl; 0 = sessions never expire
  // Demotion DRAM -> disk starts when free DRAM falls below this fraction of it.
  double dram_watermark = 0.1;

  uint64_t write_buffer_bytes = 256ull << 20;  // pending saves (raw bytes)
  uint64_t read_buffer_bytes = 256ull << 20;   // a load's encoded bytes in flight
  int max_disk_errors = 3;                     // consecutive I/O errors that turn the disk tier off

  Env* env = nullptr;      // null: Env::Default()
  Clock* clock = nullptr;  // null: Clock::Real()
};

// $XDG_CACHE_HOME/cellar, else $HOME/.cache/cellar, else ./.cellar-cache.
std::string DefaultStoreDir();

// "1024", "512K", "64M", "1.5G", "2T" (powers of 1024; a trailing "B"/"iB" is allowed).
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace cellar
