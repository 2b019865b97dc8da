// TieredStore: the store's index and its two bounded tiers (DRAM and disk),
// with placement by a PlacementPolicy. It answers prefix lookups, takes saved
// chunks, demotes DRAM -> disk at a free-space watermark, evicts from disk,
// prefetches queued sessions disk -> DRAM, expires sessions after a TTL and
// survives restarts by scanning the disk tier.
//
// Index: hash -> Entry {meta (tokens, parent, first token), DRAM copy (encoded
// in the DRAM codec), disk copy (chunk file header), last access, store time,
// pins}. Sessions: session id -> chain of chunk hashes (the conversation so
// far); the scheduler's queue is a list of session ids.
//
// Threads: one mutex guards the index. Engine-thread calls (Lookup, SetQueue,
// Pin/Unpin, ReportBadChunk) never do disk I/O beyond unlinking a bad file.
// Worker-thread calls (Save, Maintain, PersistDram) do the disk I/O with the
// mutex released; REQUIRES: only one thread makes worker calls (StoreWorker's
// thread, or a test).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/hash.h"
#include "base/status.h"
#include "store/chunk.h"
#include "store/chunk_file.h"
#include "store/disk_tier.h"
#include "store/placement_policy.h"
#include "store/store_metrics.h"
#include "store/store_options.h"

namespace cellar {

enum class Tier : uint8_t { kDram = 0, kDisk = 1 };
std::string_view TierName(Tier t);

class TieredStore {
 public:
  // A chunk of a prefix match, in the tier it will be read from.
  struct MatchedChunk {
    Hash128 hash;
    Tier tier = Tier::kDram;
    int n_tokens = 0;
    uint64_t bytes = 0;  // encoded bytes in that tier
  };
  struct PrefixMatch {
    std::vector<MatchedChunk> chunks;  // consecutive chunks from begin_chunk
    int n_tokens = 0;
  };
  // A chunk held for loading: its DRAM copy, or (when only on disk) its file
  // header; a pinned disk copy is not evicted until Unpin().
  struct PinnedChunk {
    Hash128 hash;
    EncodedChunkPtr dram;
    std::optional<ChunkFileHeader> disk;
  };
  struct Location {
    bool dram = false;
    bool disk = false;
    bool found() const { return dram || disk; }
  };
  struct Windows {
    int prefetch = 0;
    int eviction = 0;
    double avg_session_bytes = 0;
  };

  // Opens the store: creates <dir>/<model hex>/ and scans it when the disk tier
  // is on (a disk tier that cannot be opened is turned off and logged; the
  // store still opens). InvalidArgument for bad options.
  static Result<std::unique_ptr<TieredStore>> Open(const StoreOptions& options,
                                                   StoreMetrics* metrics);
  ~TieredStore();
  TieredStore(const TieredStore&) = delete;
  TieredStore& operator=(const TieredStore&) = delete;

  // ---- Engine thread (in-memory) ----

  // The longest run of stored chunks chunk_hashes[begin_chunk..], each checked
  // against `tokens` (the prompt's ids; chunk i covers tokens [i*C, (i+1)*C),
  // skipped when empty). Touches what it finds. With a session id, records
  // chunk_hashes as that session's chain. `count`: add to the lookup metrics
  // (false for look-ups that only probe).
  PrefixMatch Lookup(std::span<const Hash128> chunk_hashes, std::span<const int32_t> tokens,
                     int begin_chunk, const std::string& session_id, bool count = true);
  // Forgets a session's chain (its chunks stay).
  void ForgetSession(const std::string& session_id);
  // The scheduler's waiting queue, head first, as session ids.
  void SetQueue(std::vector<std::string> session_ids);
  // NotFound when the chunk left the store.
  Result<PinnedChunk> Pin(const Hash128& hash);
  void Unpin(const Hash128& hash);
  // The working pool's cached blocks changed: each pair names a block hash and
  // whether the pool now holds it (true) or dropped it (false), in the order it
  // happened. A chunk is in the pool while the hash of its last block — the
  // chunk's own hash — is held; the scheduler policy demotes such chunks first
  // and does not prefetch them.
  void UpdatePoolResidency(std::span<const std::pair<Hash128, bool>> changes);
  // A load found a chunk's disk copy bad (CRC, short, gone, EIO): the copy is
  // removed (file too) and counted; the chunk becomes a miss unless in DRAM.
  void ReportBadChunk(const Hash128& hash, const Status& why);

  // ---- Worker thread (does disk I/O) ----

  // Stores a chunk (encoded for DRAM, demoting to make room; straight to disk
  // when DRAM cannot take it). Already stored: touched only. With a session id
  // the chunk joins that session's chain. ResourceExhausted when no tier has
  // room (everything protected) — counted in saves_rejected.
  // REQUIRES: raw.meta.n_tokens() == chunk_tokens, raw.data the raw layout.
  Status Save(RawChunk raw, const std::string& session_id);
  // One round of background work: TTL expiry, demotion down to the watermark,
  // one prefetch. True when something changed (call again).
  bool Maintain();
  // Writes every chunk held only in DRAM to disk (graceful shutdown), most
  // valuable first; stops when the disk is full.
  void PersistDram();

  // ---- Any thread ----

  Location Locate(const Hash128& hash) const;
  bool InPool(const Hash128& hash) const;
  // Current orders (first = first to go), for tests and diagnostics.
  std::vector<Hash128> DemotionOrder() const;
  // Disk chunks that may be dropped now (protected and pinned ones left out).
  std::vector<Hash128> EvictionOrder() const;
  // Chunks the next prefetches would promote, in order.
  std::vector<Hash128> PrefetchOrder() const;
  Windows CurrentWindows() const;
  uint64_t dram_used() const;
  uint64_t disk_used() const;
  uint64_t disk_capacity() const;
  bool disk_enabled() const;
  int n_sessions() const;
  // The session's chain (empty when unknown).
  std::vector<Hash128> SessionChain(const std::string& session_id) const;

  const StoreOptions& options() const { return options_; }
  const KvShape& shape() const { return options_.shape; }
  StoreMetrics* metrics() const { return metrics_; }
  Clock* clock() const { return clock_; }
  // The disk tier (for the loader's asynchronous reads); null when off.
  DiskTier* disk() const { return disk_.get(); }
  // <dir>/<model fingerprint hex>/c<chunk_tokens>.
  const std::string& disk_dir() const { return disk_dir_; }

 private:
  struct Entry {
    ChunkMeta meta;
    EncodedChunkPtr dram;
    uint64_t dram_bytes = 0;
    std::optional<ChunkFileHeader> disk;  // header with tokens cleared
    uint64_t disk_bytes = 0;
    int64_t last_access_ns = 0;
    int64_t stored_ns = 0;
    int pins = 0;
    bool busy = false;        // the worker moves it with the lock released
    bool prefetched = false;  // promoted by prefetch, not hit since
  };
  struct Session {
    std::vector<Hash128> chain;
    int64_t last_access_ns = 0;
  };
  struct QueueSlot {
    int pos;
    int chain_index;
  };
  using QueueMap = std::unordered_map<Hash128, QueueSlot, Hash128Hasher>;
  using Lock = std::unique_lock<std::mutex>;

  TieredStore(const StoreOptions& options, StoreMetrics* metrics);

  // REQUIRES: mu_ held (all *Locked helpers).
  QueueMap BuildQueueMapLocked() const;
  double AvgSessionBytesLocked() const;
  WindowInputs InputsLocked() const;
  PolicyChunk ViewLocked(const Entry& e, Tier tier, const QueueMap& q) const;
  std::vector<PolicyChunk> DramCandidatesLocked(const QueueMap& q) const;
  std::vector<PolicyChunk> DiskCandidatesLocked(const QueueMap& q, int eviction_window) const;
  std::vector<Hash128> PrefetchOrderLocked(size_t max) const;
  void AttachLocked(const std::string& session_id, const Hash128& hash, int index, int64_t now);
  void DropDramCopyLocked(Entry& e);
  // Drops the disk copy from the index and queues its file for removal.
  void DropDiskCopyLocked(Entry& e, std::vector<Hash128>* files);
  void EraseIfEmptyLocked(const Hash128& hash);
  void DisableDiskLocked(const std::string& why);
  void HandleDiskErrorLocked(const Status& s);
  void UpdateGaugesLocked();
  bool ProtectedLocked(const QueueMap& q, const Hash128& hash, int eviction_window) const;
  void ExpireLocked(std::vector<Hash128>* files);

  // Worker helpers; take the lock held, may release and re-take it.
  bool MakeDiskRoom(Lock& lock, uint64_t need, std::vector<Hash128>* files);
  bool DemoteOne(Lock& lock, const Hash128& hash);
  // Frees DRAM until need + keep_free bytes are free. With `newcomer`, only
  // chunks the policy demotes before it may go; allow_drop also lets
  // unprotected chunks be dropped when they cannot be demoted.
  bool MakeDramRoom(Lock& lock, uint64_t need, uint64_t keep_free, const PolicyChunk* newcomer,
                    bool allow_drop);
  bool PrefetchOne(Lock& lock);
  Status SaveToDisk(Lock& lock, const EncodedChunk& chunk, const std::string& session_id);
  void RemoveFiles(const std::vector<Hash128>& files);
  int64_t NowMs() const;

  const StoreOptions options_;
  StoreMetrics* const metrics_;
  Clock* const clock_;
  std::unique_ptr<PlacementPolicy> policy_;
  std::unique_ptr<DiskTier> disk_;
  std::string disk_dir_;
  uint64_t watermark_bytes_ = 0;

  mutable std::mutex mu_;
  std::unordered_map<Hash128, Entry, Hash128Hasher> entries_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, Session> sessions_;          // GUARDED_BY(mu_)
  std::vector<std::string> queue_;                             // GUARDED_BY(mu_)
  std::unordered_set<Hash128, Hash128Hasher> in_pool_;         // GUARDED_BY(mu_)
  uint64_t dram_used_ = 0;                                     // GUARDED_BY(mu_)
  uint64_t disk_used_ = 0;                                     // GUARDED_BY(mu_)
  uint64_t disk_capacity_ = 0;                                 // GUARDED_BY(mu_)
  bool disk_enabled_ = false;                                  // GUARDED_BY(mu_)
  int consecutive_disk_errors_ = 0;                            // GUARDED_BY(mu_)
};

}  // namespace cellar
