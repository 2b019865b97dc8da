// The `--store-*` flags of `cellar serve` (and `cellar chat --session`), and
// the KvStore options they make. The store is on by default, in the default
// directory ($XDG_CACHE_HOME/cellar, else ~/.cache/cellar), so `cellar serve`
// needs no setup. Spellings (docs/STORE.md, "Flags"):
//
//   --no-store                  no DRAM/disk store (the pool's prefix cache only)
//   --store-dram BYTES          DRAM tier (default 1G; 0: none)
//   --store-disk BYTES          disk tier (default 8G, capped by free space; 0: none)
//   --store-dir DIR             where chunk files go
//   --store-policy P            scheduler | lru | fifo (default scheduler)
//   --store-chunk-tokens N      tokens per chunk, a multiple of --block-size (default 64)
//   --store-codec-dram C        raw | int8 | raw+zstd | int8+zstd (default raw)
//   --store-codec-disk C        (default raw)
//   --store-ttl SECONDS         forget sessions idle this long (default 0: never)
//   --store-io M                inline | uring | threads: disk reads (default inline)
//   --no-store-cost-model       always load stored KV (no load-or-recompute choice)
//   --n-keep N                  tokens kept at the start of an over-long conversation
//                               (default -1: the system prompt, else 4)
//   --overflow truncate|error   what an over-long conversation does (default truncate)
//
// Not thread-safe; used while parsing and starting a command.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/kv_store.h"

namespace cellar::cli {

struct StoreFlags {
  bool no_store = false;
  std::string dram = "1G";
  std::string disk = "8G";
  std::string dir;  // empty: DefaultStoreDir()
  std::string policy = "scheduler";
  int chunk_tokens = 64;
  std::string codec_dram = "raw";
  std::string codec_disk = "raw";
  double ttl = 0;
  std::string io = "inline";
  bool no_cost_model = false;
  int n_keep = -1;
  std::string overflow = "truncate";
};

void AddStoreFlags(CLI::App* cmd, StoreFlags* flags);

// INVALID_ARGUMENT for a bad size, codec, policy or mode.
Result<KvStoreOptions> MakeKvStoreOptions(const StoreFlags& flags);

}  // namespace cellar::cli
