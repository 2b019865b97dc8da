#include "store/tiered_store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_set>

#include "base/log.h"
#include "store/codec.h"

namespace cellar {

std::string_view TierName(Tier t) { return t == Tier::kDram ? "dram" : "disk"; }

TieredStore::TieredStore(const StoreOptions& options, StoreMetrics* metrics)
    : options_(options),
      metrics_(metrics),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      policy_(MakePlacementPolicy(options.policy)) {}

TieredStore::~TieredStore() = default;

Result<std::unique_ptr<TieredStore>> TieredStore::Open(const StoreOptions& in,
                                                       StoreMetrics* metrics) {
  if (!in.shape.valid()) return InvalidArgument("store: KV shape has a non-positive dimension");
  if (in.chunk_tokens <= 0) return InvalidArgument("store: chunk_tokens must be positive");
  if (in.dram_watermark < 0 || in.dram_watermark >= 1) {
    return InvalidArgument("store: dram_watermark must be in [0, 1)");
  }
  if (metrics == nullptr) return InvalidArgument("store: metrics must not be null");
  StoreOptions options = in;
  if (options.env == nullptr) options.env = Env::Default();
  if (options.dir.empty()) options.dir = DefaultStoreDir();
  auto store = std::unique_ptr<TieredStore>(new TieredStore(options, metrics));
  TieredStore& s = *store;
  s.watermark_bytes_ = static_cast<uint64_t>(
      std::floor(static_cast<double>(options.dram_bytes) * options.dram_watermark));
  // One folder per model and chunk size: chunks of different sizes would share
  // names (a chunk is named by the hash of its last block).
  s.disk_dir_ =
      options.dir + "/" + options.model.ToHex() + "/c" + std::to_string(options.chunk_tokens);
  SetGauge(metrics->dram_capacity_bytes, static_cast<int64_t>(options.dram_bytes));
  if (options.disk_bytes == 0) {
    s.UpdateGaugesLocked();
    return store;
  }
  auto disk = DiskTier::Open({s.disk_dir_, options.shape, options.model, options.env});
  if (!disk.ok()) {
    CELLAR_LOG_ERROR("store: disk tier off: {}", disk.status().ToString());
    SetGauge(metrics->disk_tier_disabled, 1);
    s.UpdateGaugesLocked();
    return store;
  }
  s.disk_ = std::move(*disk);
  auto scan = s.disk_->Scan();
  if (!scan.ok()) {
    CELLAR_LOG_ERROR("store: disk tier off: {}", scan.status().ToString());
    s.disk_.reset();
    SetGauge(metrics->disk_tier_disabled, 1);
    s.UpdateGaugesLocked();
    return store;
  }
  s.disk_enabled_ = true;
  s.disk_capacity_ = options.disk_bytes;
  if (auto space = options.env->GetFsSpace(s.disk_dir_); space.ok()) {
    uint64_t on_disk = 0;
    for (const auto& h : scan->chunks) on_disk += h.FileBytes();
    s.disk_capacity_ = std::min(s.disk_capacity_, on_disk + space->available_bytes);
  }
  Bump(metrics->corrupt_chunks_removed, scan->removed_corrupt + scan->removed_mismatch);
  // Rebuild the index. Files carry their creation time; order the access times
  // the same way so LRU and FIFO survive a restart.
  const int64_t now = s.clock_->NowNanos();
  int64_t newest_ms = 0;
  for (const auto& h : scan->chunks) newest_ms = std::max(newest_ms, h.created_unix_ms);
  Lock lock(s.mu_);
  for (auto& h : scan->chunks) {
    Entry e;
    e.meta = h.meta;
    e.disk_bytes = h.FileBytes();
    e.last_access_ns = now - (newest_ms - h.created_unix_ms) * 1000000;
    e.stored_ns = e.last_access_ns;
    h.meta.tokens.clear();
    h.meta.tokens.shrink_to_fit();
    e.disk = std::move(h);
    s.disk_used_ += e.disk_bytes;
    s.entries_.emplace(e.meta.hash, std::move(e));
  }
  CELLAR_LOG_INFO("store: {} chunks ({} bytes) on disk in {}; removed {} bad, {} of other models",
                  s.entries_.size(), s.disk_used_, s.disk_dir_, scan->removed_corrupt,
                  scan->removed_mismatch);
  // The capacity may be smaller than what is there (new flag, fuller disk).
  std::vector<Hash128> files;
  if (s.disk_used_ > s.disk_capacity_) s.MakeDiskRoom(lock, 0, &files);
  s.UpdateGaugesLocked();
  lock.unlock();
  s.RemoveFiles(files);
  return store;
}

int64_t TieredStore::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------- helpers

TieredStore::QueueMap TieredStore::BuildQueueMapLocked() const {
  QueueMap q;
  for (size_t pos = 0; pos < queue_.size(); ++pos) {
    auto it = sessions_.find(queue_[pos]);
    if (it == sessions_.end()) continue;
    const auto& chain = it->second.chain;
    for (size_t i = 0; i < chain.size(); ++i) {
      q.try_emplace(chain[i], QueueSlot{static_cast<int>(pos), static_cast<int>(i)});
    }
  }
  return q;
}

double TieredStore::AvgSessionBytesLocked() const {
  double total = 0;
  int n = 0;
  for (const auto& [id, s] : sessions_) {
    uint64_t bytes = 0;
    for (const Hash128& h : s.chain) {
      auto it = entries_.find(h);
      if (it == entries_.end()) continue;
      bytes += it->second.dram ? it->second.dram_bytes : it->second.disk_bytes;
    }
    if (bytes == 0) continue;
    total += static_cast<double>(bytes);
    ++n;
  }
  return n == 0 ? 0.0 : total / n;
}

WindowInputs TieredStore::InputsLocked() const {
  WindowInputs in;
  in.dram_capacity = options_.dram_bytes;
  in.disk_capacity = disk_enabled_ ? disk_capacity_ : 0;
  in.dram_watermark = watermark_bytes_;
  in.avg_session_bytes = AvgSessionBytesLocked();
  in.queue_length = static_cast<int>(queue_.size());
  return in;
}

PolicyChunk TieredStore::ViewLocked(const Entry& e, Tier tier, const QueueMap& q) const {
  PolicyChunk c;
  c.hash = e.meta.hash;
  c.bytes = tier == Tier::kDram ? e.dram_bytes : e.disk_bytes;
  c.last_access_ns = e.last_access_ns;
  c.stored_ns = e.stored_ns;
  c.in_pool = in_pool_.count(e.meta.hash) > 0;
  if (auto it = q.find(e.meta.hash); it != q.end()) {
    c.queue_pos = it->second.pos;
    c.chain_index = it->second.chain_index;
  }
  return c;
}

std::vector<PolicyChunk> TieredStore::DramCandidatesLocked(const QueueMap& q) const {
  std::vector<PolicyChunk> out;
  for (const auto& [h, e] : entries_) {
    if (e.dram && !e.busy) out.push_back(ViewLocked(e, Tier::kDram, q));
  }
  std::sort(out.begin(), out.end(), [this](const PolicyChunk& a, const PolicyChunk& b) {
    return policy_->DemoteBefore(a, b);
  });
  return out;
}

std::vector<PolicyChunk> TieredStore::DiskCandidatesLocked(const QueueMap& q,
                                                           int eviction_window) const {
  std::vector<PolicyChunk> out;
  for (const auto& [h, e] : entries_) {
    if (!e.disk || e.busy || e.pins > 0) continue;
    PolicyChunk c = ViewLocked(e, Tier::kDisk, q);
    if (c.queued() && c.queue_pos < eviction_window) continue;  // protected
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [this](const PolicyChunk& a, const PolicyChunk& b) {
    return policy_->EvictBefore(a, b);
  });
  return out;
}

bool TieredStore::ProtectedLocked(const QueueMap& q, const Hash128& hash,
                                  int eviction_window) const {
  auto it = q.find(hash);
  return it != q.end() && it->second.pos < eviction_window;
}

std::vector<Hash128> TieredStore::PrefetchOrderLocked(size_t max) const {
  std::vector<Hash128> out;
  if (!disk_enabled_ || options_.dram_bytes == 0) return out;
  const int window = policy_->PrefetchWindow(InputsLocked());
  std::unordered_set<Hash128, Hash128Hasher> seen;
  for (int pos = 0; pos < window && pos < static_cast<int>(queue_.size()); ++pos) {
    auto it = sessions_.find(queue_[static_cast<size_t>(pos)]);
    if (it == sessions_.end()) continue;
    for (const Hash128& h : it->second.chain) {
      auto e = entries_.find(h);
      if (e == entries_.end() || e->second.dram || !e->second.disk || e->second.busy) continue;
      if (in_pool_.count(h) > 0) continue;  // the pool serves it
      if (!seen.insert(h).second) continue;
      out.push_back(h);
      if (out.size() >= max) return out;
    }
  }
  if (!policy_->PromotesPoolVictims()) return out;
  // Then, of the chunks no queued session holds, those the pool does not hold
  // (it lost them, or never had them), most valuable first. PrefetchOne reads
  // one only when free DRAM or chunks ranked below it make room.
  const QueueMap q = BuildQueueMapLocked();
  std::vector<PolicyChunk> victims;
  for (const auto& [h, e] : entries_) {
    if (e.dram || !e.disk || e.busy || in_pool_.count(h) > 0 || q.count(h) > 0) continue;
    victims.push_back(ViewLocked(e, Tier::kDram, q));
  }
  // Only the first few are wanted (Maintain asks for one): sort just those.
  const size_t n = std::min(victims.size(), max - out.size());
  std::partial_sort(victims.begin(), victims.begin() + static_cast<std::ptrdiff_t>(n),
                    victims.end(), [this](const PolicyChunk& a, const PolicyChunk& b) {
                      return policy_->DemoteBefore(b, a);
                    });
  for (size_t i = 0; i < n; ++i) out.push_back(victims[i].hash);
  return out;
}

void TieredStore::AttachLocked(const std::string& session_id, const Hash128& hash, int index,
                               int64_t now) {
  if (session_id.empty()) return;
  Session& s = sessions_[session_id];
  s.last_access_ns = now;
  const size_t i = static_cast<size_t>(index);
  if (s.chain.size() > i && s.chain[i] == hash) return;
  // A different chunk at this index: the conversation branched; its old tail goes.
  s.chain.resize(i + 1);
  s.chain[i] = hash;
}

void TieredStore::DropDramCopyLocked(Entry& e) {
  if (!e.dram) return;
  dram_used_ -= e.dram_bytes;
  e.dram.reset();
  e.dram_bytes = 0;
  e.prefetched = false;
}

void TieredStore::DropDiskCopyLocked(Entry& e, std::vector<Hash128>* files) {
  if (!e.disk) return;
  disk_used_ -= e.disk_bytes;
  e.disk.reset();
  e.disk_bytes = 0;
  if (files != nullptr) files->push_back(e.meta.hash);
}

void TieredStore::EraseIfEmptyLocked(const Hash128& hash) {
  auto it = entries_.find(hash);
  if (it != entries_.end() && !it->second.dram && !it->second.disk && !it->second.busy) {
    entries_.erase(it);
  }
}

void TieredStore::DisableDiskLocked(const std::string& why) {
  if (!disk_enabled_) return;
  CELLAR_LOG_ERROR("store: turning the disk tier off: {}", why);
  disk_enabled_ = false;
  SetGauge(metrics_->disk_tier_disabled, 1);
  std::vector<Hash128> gone;
  for (auto& [h, e] : entries_) {
    if (!e.disk) continue;
    DropDiskCopyLocked(e, nullptr);  // the files stay: the disk cannot be trusted now
    if (!e.dram && !e.busy) gone.push_back(h);
  }
  for (const Hash128& h : gone) entries_.erase(h);
  disk_used_ = 0;
}

void TieredStore::HandleDiskErrorLocked(const Status& s) {
  if (s.code() == StatusCode::kResourceExhausted) {
    Bump(metrics_->disk_full_events);
    CELLAR_LOG_WARN("store: disk full ({}); disk tier shrinks to {} bytes", s.message(),
                    disk_used_);
    disk_capacity_ = disk_used_;
    if (disk_used_ == 0) DisableDiskLocked("no space at all");
    return;
  }
  Bump(metrics_->disk_io_errors);
  CELLAR_LOG_WARN("store: disk error: {}", s.ToString());
  if (++consecutive_disk_errors_ >= options_.max_disk_errors) {
    DisableDiskLocked(std::to_string(consecutive_disk_errors_) +
                      " consecutive errors, last: " + s.ToString());
  }
}

void TieredStore::UpdateGaugesLocked() {
  int64_t n_dram = 0, n_disk = 0;
  for (const auto& [h, e] : entries_) {
    n_dram += e.dram ? 1 : 0;
    n_disk += e.disk ? 1 : 0;
  }
  SetGauge(metrics_->dram_used_bytes, static_cast<int64_t>(dram_used_));
  SetGauge(metrics_->disk_used_bytes, static_cast<int64_t>(disk_used_));
  SetGauge(metrics_->disk_capacity_bytes, static_cast<int64_t>(disk_enabled_ ? disk_capacity_ : 0));
  SetGauge(metrics_->chunks_dram, n_dram);
  SetGauge(metrics_->chunks_disk, n_disk);
  SetGauge(metrics_->sessions, static_cast<int64_t>(sessions_.size()));
}

void TieredStore::RemoveFiles(const std::vector<Hash128>& files) {
  if (disk_ == nullptr) return;
  for (const Hash128& h : files) disk_->Remove(h).IgnoreError();
}

// ---------------------------------------------------------------- engine thread

TieredStore::PrefixMatch TieredStore::Lookup(std::span<const Hash128> chunk_hashes,
                                             std::span<const int32_t> tokens, int begin_chunk,
                                             const std::string& session_id, bool count) {
  PrefixMatch match;
  const int64_t now = clock_->NowNanos();
  const size_t C = static_cast<size_t>(options_.chunk_tokens);
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = static_cast<size_t>(std::max(0, begin_chunk));
  for (; i < chunk_hashes.size(); ++i) {
    auto it = entries_.find(chunk_hashes[i]);
    if (it == entries_.end()) break;
    Entry& e = it->second;
    if (!e.dram && !e.disk) break;
    if (e.meta.first_token != i * C) break;
    if (!tokens.empty()) {
      if (tokens.size() < (i + 1) * C ||
          !std::equal(e.meta.tokens.begin(), e.meta.tokens.end(), tokens.begin() + i * C)) {
        CELLAR_LOG_WARN("store: chunk {} matches by hash but not by tokens", e.meta.hash.ToHex());
        break;
      }
    }
    e.last_access_ns = now;
    MatchedChunk m;
    m.hash = e.meta.hash;
    m.n_tokens = e.meta.n_tokens();
    if (e.dram) {
      m.tier = Tier::kDram;
      m.bytes = e.dram_bytes;
      if (count) Bump(metrics_->lookup_hit_tokens_dram, m.n_tokens);
      if (count && e.prefetched) {
        e.prefetched = false;
        Bump(metrics_->prefetch_useful);
      }
    } else {
      m.tier = Tier::kDisk;
      m.bytes = e.disk_bytes;
      if (count) Bump(metrics_->lookup_hit_tokens_disk, m.n_tokens);
    }
    match.n_tokens += m.n_tokens;
    match.chunks.push_back(m);
  }
  if (count) {
    Bump(metrics_->lookup_miss_tokens, static_cast<int64_t>((chunk_hashes.size() - i) * C));
  }
  if (!session_id.empty()) {
    Session& s = sessions_[session_id];
    s.chain.assign(chunk_hashes.begin(), chunk_hashes.end());
    s.last_access_ns = now;
    SetGauge(metrics_->sessions, static_cast<int64_t>(sessions_.size()));
  }
  return match;
}

void TieredStore::ForgetSession(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.erase(session_id) > 0) {
    SetGauge(metrics_->sessions, static_cast<int64_t>(sessions_.size()));
  }
}

void TieredStore::SetQueue(std::vector<std::string> session_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_ = std::move(session_ids);
}

void TieredStore::UpdatePoolResidency(std::span<const std::pair<Hash128, bool>> changes) {
  if (changes.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [hash, held] : changes) {
    if (held) {
      in_pool_.insert(hash);
    } else {
      in_pool_.erase(hash);
    }
  }
}

Result<TieredStore::PinnedChunk> TieredStore::Pin(const Hash128& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(hash);
  if (it == entries_.end() || (!it->second.dram && !it->second.disk)) {
    return NotFound("chunk " + hash.ToHex() + " left the store");
  }
  Entry& e = it->second;
  PinnedChunk p;
  p.hash = hash;
  if (e.dram) {
    p.dram = e.dram;
  } else {
    p.disk = e.disk;
    p.disk->meta.tokens = e.meta.tokens;
    ++e.pins;
  }
  return p;
}

void TieredStore::Unpin(const Hash128& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(hash);
  if (it != entries_.end() && it->second.pins > 0) --it->second.pins;
}

void TieredStore::ReportBadChunk(const Hash128& hash, const Status& why) {
  std::vector<Hash128> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (why.code() == StatusCode::kNotFound) {
      Bump(metrics_->missing_chunks_removed);
    } else if (why.code() == StatusCode::kDataLoss) {
      Bump(metrics_->corrupt_chunks_removed);
    } else {
      HandleDiskErrorLocked(why);
    }
    CELLAR_LOG_WARN("store: dropping chunk {}: {}", hash.ToHex(), why.ToString());
    auto it = entries_.find(hash);
    if (it != entries_.end()) {
      DropDiskCopyLocked(it->second, &files);
      EraseIfEmptyLocked(hash);
    } else {
      files.push_back(hash);
    }
    UpdateGaugesLocked();
  }
  RemoveFiles(files);
}

// ---------------------------------------------------------------- worker thread

bool TieredStore::MakeDiskRoom(Lock& lock, uint64_t need, std::vector<Hash128>* files) {
  (void)lock;
  if (!disk_enabled_) return false;
  // The file system may hold less than the configured capacity.
  if (need > 0) {
    if (auto space = options_.env->GetFsSpace(disk_dir_);
        space.ok() && space->available_bytes < need) {
      const uint64_t cap = disk_used_ + space->available_bytes;
      if (cap < disk_capacity_) {
        Bump(metrics_->disk_full_events);
        CELLAR_LOG_WARN("store: file system nearly full; disk tier shrinks to {} bytes", cap);
        disk_capacity_ = cap;
      }
    }
  }
  if (need > disk_capacity_) return false;
  if (disk_used_ + need <= disk_capacity_) return true;
  const QueueMap q = BuildQueueMapLocked();
  const int window = policy_->EvictionWindow(InputsLocked());
  for (const PolicyChunk& c : DiskCandidatesLocked(q, window)) {
    Entry& e = entries_.at(c.hash);
    DropDiskCopyLocked(e, files);
    Bump(metrics_->evictions_disk);
    EraseIfEmptyLocked(c.hash);
    if (disk_used_ + need <= disk_capacity_) return true;
  }
  return disk_used_ + need <= disk_capacity_;
}

bool TieredStore::DemoteOne(Lock& lock, const Hash128& hash) {
  auto it = entries_.find(hash);
  if (it == entries_.end() || !it->second.dram || it->second.busy) return false;
  if (it->second.disk) {  // already on disk: dropping the DRAM copy is the whole move
    DropDramCopyLocked(it->second);
    Bump(metrics_->demotions_dram);
    return true;
  }
  if (!disk_enabled_) return false;
  EncodedChunkPtr data = it->second.dram;
  it->second.busy = true;
  lock.unlock();
  Result<EncodedChunkPtr> enc =
      Transcode(data, options_.shape, options_.disk_codec, options_.zstd_level);
  lock.lock();
  Entry* e = &entries_.at(hash);  // busy entries are never erased
  if (!enc.ok()) {
    e->busy = false;
    CELLAR_LOG_ERROR("store: cannot transcode chunk {}: {}", hash.ToHex(), enc.status().ToString());
    return false;
  }
  const uint64_t file_bytes = ChunkFileBytes(**enc);
  std::vector<Hash128> files;
  if (!MakeDiskRoom(lock, file_bytes, &files)) {
    e->busy = false;
    lock.unlock();
    RemoveFiles(files);
    lock.lock();
    return false;
  }
  disk_used_ += file_bytes;  // reserved while writing
  lock.unlock();
  RemoveFiles(files);
  Result<ChunkFileHeader> header = disk_->Write(**enc, NowMs());
  lock.lock();
  e = &entries_.at(hash);
  e->busy = false;
  if (!disk_enabled_) return false;  // turned off meanwhile; its accounting is gone
  if (!header.ok()) {
    disk_used_ -= file_bytes;
    HandleDiskErrorLocked(header.status());
    return false;
  }
  consecutive_disk_errors_ = 0;
  header->meta.tokens.clear();
  header->meta.tokens.shrink_to_fit();
  e->disk = std::move(*header);
  e->disk_bytes = file_bytes;
  DropDramCopyLocked(*e);
  Bump(metrics_->demotions_dram);
  Bump(metrics_->bytes_written_disk, static_cast<int64_t>(file_bytes));
  return true;
}

bool TieredStore::MakeDramRoom(Lock& lock, uint64_t need, uint64_t keep_free,
                               const PolicyChunk* newcomer, bool allow_drop) {
  const uint64_t cap = options_.dram_bytes;
  if (need + keep_free > cap) return false;
  auto enough = [&] { return dram_used_ + need + keep_free <= cap; };
  while (!enough()) {
    const QueueMap q = BuildQueueMapLocked();
    const int window = policy_->EvictionWindow(InputsLocked());
    const std::vector<PolicyChunk> order = DramCandidatesLocked(q);
    bool progress = false;
    std::vector<Hash128> files;
    for (const PolicyChunk& c : order) {
      if (enough()) break;
      if (newcomer != nullptr && !policy_->DemoteBefore(c, *newcomer)) break;
      if (DemoteOne(lock, c.hash)) {
        progress = true;
        continue;
      }
      if (!allow_drop) continue;
      auto it = entries_.find(c.hash);
      if (it == entries_.end() || !it->second.dram || it->second.busy) continue;
      if (ProtectedLocked(q, c.hash, window)) continue;
      DropDramCopyLocked(it->second);
      Bump(metrics_->evictions_dram);
      EraseIfEmptyLocked(c.hash);
      progress = true;
    }
    if (!progress) return enough();
  }
  return true;
}

Status TieredStore::SaveToDisk(Lock& lock, const EncodedChunk& chunk,
                               const std::string& session_id) {
  const Hash128 hash = chunk.meta.hash;
  const uint64_t file_bytes = ChunkFileBytes(chunk);
  std::vector<Hash128> files;
  if (!MakeDiskRoom(lock, file_bytes, &files)) {
    lock.unlock();
    RemoveFiles(files);
    lock.lock();
    Bump(metrics_->saves_rejected);
    return ResourceExhausted("store: no room for chunk " + hash.ToHex());
  }
  disk_used_ += file_bytes;
  lock.unlock();
  RemoveFiles(files);
  Result<ChunkFileHeader> header = disk_->Write(chunk, NowMs());
  lock.lock();
  if (!disk_enabled_) {
    Bump(metrics_->saves_rejected);
    return Unavailable("store: the disk tier was turned off");
  }
  if (!header.ok()) {
    disk_used_ -= file_bytes;
    HandleDiskErrorLocked(header.status());
    Bump(metrics_->saves_rejected);
    return header.status();
  }
  consecutive_disk_errors_ = 0;
  const int64_t now = clock_->NowNanos();
  Entry e;
  e.meta = chunk.meta;
  header->meta.tokens.clear();
  e.disk = std::move(*header);
  e.disk_bytes = file_bytes;
  e.last_access_ns = now;
  e.stored_ns = now;
  entries_[hash] = std::move(e);
  AttachLocked(session_id, hash, static_cast<int>(chunk.meta.first_token) / options_.chunk_tokens,
               now);
  Bump(metrics_->chunks_saved);
  Bump(metrics_->bytes_written_disk, static_cast<int64_t>(file_bytes));
  return OkStatus();
}

Status TieredStore::Save(RawChunk raw, const std::string& session_id) {
  if (raw.meta.n_tokens() != options_.chunk_tokens ||
      raw.data.size() != options_.shape.RawBytes(raw.meta.n_tokens()) ||
      raw.meta.first_token % static_cast<uint32_t>(options_.chunk_tokens) != 0) {
    return InvalidArgument("store: a saved chunk must hold chunk_tokens tokens in the raw layout");
  }
  const Hash128 hash = raw.meta.hash;
  const int index = static_cast<int>(raw.meta.first_token) / options_.chunk_tokens;
  Lock lock(mu_);
  const int64_t now = clock_->NowNanos();
  if (auto it = entries_.find(hash); it != entries_.end()) {
    it->second.last_access_ns = now;
    AttachLocked(session_id, hash, index, now);
    Bump(metrics_->chunks_deduplicated);
    return OkStatus();
  }
  lock.unlock();
  Status result;
  if (options_.dram_bytes > 0) {
    auto enc = std::make_shared<const EncodedChunk>(
        EncodeChunk(raw, options_.shape, options_.dram_codec, options_.zstd_level));
    const uint64_t bytes = enc->Bytes();
    lock.lock();
    PolicyChunk newcomer;
    newcomer.hash = hash;
    newcomer.bytes = bytes;
    newcomer.last_access_ns = newcomer.stored_ns = clock_->NowNanos();
    newcomer.in_pool = in_pool_.count(hash) > 0;
    const bool ranked = policy_->RanksSave(newcomer);
    if (MakeDramRoom(lock, bytes, 0, ranked ? &newcomer : nullptr, /*allow_drop=*/true)) {
      Entry e;
      e.meta = std::move(raw.meta);
      e.dram = enc;
      e.dram_bytes = bytes;
      e.last_access_ns = clock_->NowNanos();
      e.stored_ns = e.last_access_ns;
      dram_used_ += bytes;
      entries_[hash] = std::move(e);
      AttachLocked(session_id, hash, index, clock_->NowNanos());
      Bump(metrics_->chunks_saved);
      Bump(metrics_->bytes_written_dram, static_cast<int64_t>(bytes));
      UpdateGaugesLocked();
      return OkStatus();
    }
    lock.unlock();
  }
  // DRAM cannot take it: straight to disk.
  lock.lock();
  const bool disk_on = disk_enabled_;
  lock.unlock();
  if (!disk_on) {
    lock.lock();
    Bump(metrics_->saves_rejected);
    UpdateGaugesLocked();
    return ResourceExhausted("store: no room for chunk " + hash.ToHex());
  }
  const EncodedChunk enc =
      EncodeChunk(raw, options_.shape, options_.disk_codec, options_.zstd_level);
  lock.lock();
  result = SaveToDisk(lock, enc, session_id);
  UpdateGaugesLocked();
  return result;
}

void TieredStore::ExpireLocked(std::vector<Hash128>* files) {
  if (options_.ttl_seconds <= 0) return;
  const int64_t now = clock_->NowNanos();
  const auto ttl = static_cast<int64_t>(options_.ttl_seconds * 1e9);
  const QueueMap q = BuildQueueMapLocked();
  const std::unordered_set<std::string> queued(queue_.begin(), queue_.end());
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (!queued.count(it->first) && now - it->second.last_access_ns > ttl) {
      it = sessions_.erase(it);
      Bump(metrics_->expired_sessions);
    } else {
      ++it;
    }
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (!q.count(it->first) && e.pins == 0 && !e.busy && now - e.last_access_ns > ttl) {
      DropDramCopyLocked(e);
      DropDiskCopyLocked(e, files);
      it = entries_.erase(it);
      Bump(metrics_->expired_chunks);
    } else {
      ++it;
    }
  }
}

bool TieredStore::PrefetchOne(Lock& lock) {
  const std::vector<Hash128> next = PrefetchOrderLocked(1);
  if (next.empty()) return false;
  const Hash128 hash = next[0];
  Entry* e = &entries_.at(hash);
  {
    // Room check before reading: free DRAM above the watermark plus what ranks
    // before this chunk must hold it (its raw/int8 size bounds the zstd ones).
    const QueueMap q = BuildQueueMapLocked();
    const PolicyChunk newcomer = ViewLocked(*e, Tier::kDram, q);
    const uint64_t estimate =
        options_.dram_codec == options_.disk_codec
            ? e->disk_bytes
            : e->meta.tokens.size() * 4 +
                  static_cast<uint64_t>(options_.shape.n_layers) *
                      PlainSegmentBytes(options_.dram_codec, options_.shape, e->meta.n_tokens());
    uint64_t avail = options_.dram_bytes > dram_used_ + watermark_bytes_
                         ? options_.dram_bytes - dram_used_ - watermark_bytes_
                         : 0;
    for (const PolicyChunk& c : DramCandidatesLocked(q)) {
      if (avail >= estimate || !policy_->DemoteBefore(c, newcomer)) break;
      avail += c.bytes;
    }
    if (avail < estimate) return false;
  }
  ChunkFileHeader header = *e->disk;
  e->busy = true;
  lock.unlock();
  Result<EncodedChunkPtr> data = disk_->Read(header);
  if (data.ok()) {
    data = Transcode(*data, options_.shape, options_.dram_codec, options_.zstd_level);
  }
  lock.lock();
  e = &entries_.at(hash);
  e->busy = false;
  if (!data.ok()) {
    lock.unlock();
    ReportBadChunk(hash, data.status());
    lock.lock();
    return true;
  }
  Bump(metrics_->bytes_read_disk, static_cast<int64_t>(e->disk_bytes));
  const uint64_t bytes = (*data)->Bytes();
  const PolicyChunk newcomer = ViewLocked(*e, Tier::kDram, BuildQueueMapLocked());
  if (!MakeDramRoom(lock, bytes, watermark_bytes_, &newcomer, /*allow_drop=*/false)) {
    return false;
  }
  auto it = entries_.find(hash);
  if (it == entries_.end() || it->second.dram) return true;
  it->second.dram = *data;
  it->second.dram_bytes = bytes;
  it->second.prefetched = true;
  dram_used_ += bytes;
  Bump(metrics_->prefetch_issued);
  return true;
}

bool TieredStore::Maintain() {
  std::vector<Hash128> files;
  Lock lock(mu_);
  const size_t before = entries_.size();
  ExpireLocked(&files);
  bool changed = entries_.size() != before;
  if (disk_enabled_ && options_.dram_bytes > 0 &&
      dram_used_ + watermark_bytes_ > options_.dram_bytes) {
    const uint64_t used = dram_used_;
    MakeDramRoom(lock, 0, watermark_bytes_, nullptr, /*allow_drop=*/false);
    changed |= dram_used_ != used;
  }
  if (!changed && disk_enabled_) changed = PrefetchOne(lock);
  UpdateGaugesLocked();
  lock.unlock();
  RemoveFiles(files);
  return changed;
}

void TieredStore::PersistDram() {
  Lock lock(mu_);
  if (!disk_enabled_) return;
  in_pool_.clear();  // the pool does not outlive a shutdown
  const QueueMap q = BuildQueueMapLocked();
  std::vector<PolicyChunk> order = DramCandidatesLocked(q);
  std::reverse(order.begin(), order.end());  // most valuable first
  for (const PolicyChunk& c : order) {
    auto it = entries_.find(c.hash);
    if (it == entries_.end() || it->second.disk) continue;
    if (!DemoteOne(lock, c.hash)) break;
    if (!disk_enabled_) break;
  }
  UpdateGaugesLocked();
}

// ---------------------------------------------------------------- any thread

TieredStore::Location TieredStore::Locate(const Hash128& hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  Location loc;
  if (auto it = entries_.find(hash); it != entries_.end()) {
    loc.dram = it->second.dram != nullptr;
    loc.disk = it->second.disk.has_value();
  }
  return loc;
}

bool TieredStore::InPool(const Hash128& hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_pool_.count(hash) > 0;
}

std::vector<Hash128> TieredStore::DemotionOrder() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Hash128> out;
  for (const PolicyChunk& c : DramCandidatesLocked(BuildQueueMapLocked())) out.push_back(c.hash);
  return out;
}

std::vector<Hash128> TieredStore::EvictionOrder() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Hash128> out;
  if (!disk_enabled_) return out;
  const int window = policy_->EvictionWindow(InputsLocked());
  for (const PolicyChunk& c : DiskCandidatesLocked(BuildQueueMapLocked(), window)) {
    out.push_back(c.hash);
  }
  return out;
}

std::vector<Hash128> TieredStore::PrefetchOrder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return PrefetchOrderLocked(SIZE_MAX);
}

TieredStore::Windows TieredStore::CurrentWindows() const {
  std::lock_guard<std::mutex> lock(mu_);
  const WindowInputs in = InputsLocked();
  return {policy_->PrefetchWindow(in), policy_->EvictionWindow(in), in.avg_session_bytes};
}

uint64_t TieredStore::dram_used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dram_used_;
}
uint64_t TieredStore::disk_used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disk_used_;
}
uint64_t TieredStore::disk_capacity() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disk_enabled_ ? disk_capacity_ : 0;
}
bool TieredStore::disk_enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disk_enabled_;
}
int TieredStore::n_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(sessions_.size());
}
std::vector<Hash128> TieredStore::SessionChain(const std::string& session_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? std::vector<Hash128>{} : it->second.chain;
}

}  // namespace cellar
