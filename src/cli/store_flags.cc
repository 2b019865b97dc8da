#include "cli/store_flags.h"

namespace cellar::cli {

void AddStoreFlags(CLI::App* cmd, StoreFlags* f) {
  const char* group = "KV store (docs/STORE.md)";
  cmd->add_flag("--no-store", f->no_store,
                "No DRAM/disk KV store: only the working pool's prefix cache")
      ->group(group);
  cmd->add_option("--store-dram", f->dram, "DRAM tier size, e.g. 512M or 2G (0: none)")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-disk", f->disk,
                  "Disk tier size (0: none; capped by the file system's free space)")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-dir", f->dir,
                  "Folder of the disk tier (default: $XDG_CACHE_HOME/cellar, else "
                  "~/.cache/cellar)")
      ->group(group);
  cmd->add_option("--store-policy", f->policy, "Placement: scheduler-aware, LRU or FIFO")
      ->check(CLI::IsMember({"scheduler", "lru", "fifo"}))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-chunk-tokens", f->chunk_tokens,
                  "Tokens per stored chunk (a multiple of --block-size)")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-codec-dram", f->codec_dram, "DRAM codec: raw, int8, raw+zstd, int8+zstd")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-codec-disk", f->codec_disk, "Disk codec: raw, int8, raw+zstd, int8+zstd")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-ttl", f->ttl, "Forget sessions idle this many seconds (0: never)")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--store-io", f->io, "Disk reads: inline (pread), uring, threads")
      ->check(CLI::IsMember({"inline", "uring", "threads"}))
      ->capture_default_str()
      ->group(group);
  cmd->add_flag("--no-store-cost-model", f->no_cost_model,
                "Always load stored KV (no load-or-recompute choice)")
      ->group(group);
  cmd->add_option("--n-keep", f->n_keep,
                  "Tokens kept at the start of an over-long conversation (-1: the system "
                  "prompt, else 4)")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--overflow", f->overflow,
                  "Over-long conversations: truncate (drop the middle, reuse the rest) or error")
      ->check(CLI::IsMember({"truncate", "error"}))
      ->capture_default_str()
      ->group(group);
}

Result<KvStoreOptions> MakeKvStoreOptions(const StoreFlags& f) {
  KvStoreOptions o;
  o.enabled = !f.no_store;
  auto dram = ParseByteSize(f.dram);
  if (!dram.ok()) return dram.status().WithContext("--store-dram");
  auto disk = ParseByteSize(f.disk);
  if (!disk.ok()) return disk.status().WithContext("--store-disk");
  o.store.dram_bytes = *dram;
  o.store.disk_bytes = *disk;
  o.store.dir = f.dir.empty() ? DefaultStoreDir() : f.dir;
  CELLAR_ASSIGN_OR_RETURN(o.store.policy, ParsePolicyKind(f.policy));
  o.store.chunk_tokens = f.chunk_tokens;
  auto cd = ParseCodec(f.codec_dram);
  if (!cd.ok()) return cd.status().WithContext("--store-codec-dram");
  auto ck = ParseCodec(f.codec_disk);
  if (!ck.ok()) return ck.status().WithContext("--store-codec-disk");
  o.store.dram_codec = *cd;
  o.store.disk_codec = *ck;
  if (f.ttl < 0) return InvalidArgument("--store-ttl must be >= 0");
  o.store.ttl_seconds = f.ttl;
  if (f.io == "uring") {
    o.loader.io = Loader::Io::kUring;
  } else if (f.io == "threads") {
    o.loader.io = Loader::Io::kThreads;
  } else {
    o.loader.io = Loader::Io::kInline;
  }
  o.use_cost_model = !f.no_cost_model;
  if (f.n_keep < -1) return InvalidArgument("--n-keep must be >= -1");
  o.truncation.n_keep = f.n_keep;
  o.truncation.truncate = f.overflow != "error";
  return o;
}

}  // namespace cellar::cli
