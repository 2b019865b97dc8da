#include "engine/kv_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "base/log.h"
#include "kv/block_hash.h"

namespace cellar {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Request positions in [begin, end) that chunk (chain positions [first, first + C))
// fills under `map`.
int Placed(const PositionMap& map, int first, int C, int begin, int end) {
  int n = 0;
  for (int q = first; q < first + C; ++q) {
    const int p = map(q);
    n += p >= begin && p < end ? 1 : 0;
  }
  return n;
}

}  // namespace

Result<std::unique_ptr<KvStore>> KvStore::Create(const KvStoreOptions& options,
                                                 const EngineExtensionContext& ctx) {
  if (ctx.model == nullptr || ctx.kv == nullptr || ctx.pool == nullptr || ctx.n_ctx <= 0) {
    return InvalidArgument("store: the engine context is incomplete");
  }
  const int block = ctx.kv->layout().block_size;
  const int chunk = options.store.chunk_tokens;
  if (chunk <= 0 || chunk % block != 0) {
    return InvalidArgument(fmt::format(
        "--store-chunk-tokens ({}) must be a positive multiple of the KV block size ({})", chunk,
        block));
  }
  auto s = std::unique_ptr<KvStore>(new KvStore(options, ctx));
  Truncator::Options to = options.truncation;
  to.n_ctx = ctx.n_ctx;
  to.chunk_tokens = chunk;
  to.block_size = block;
  to.fingerprint = ctx.fingerprint;
  to.keep_sources = options.enabled;
  s->truncator_ = std::make_unique<Truncator>(to);
  if (!options.enabled) return s;

  const KvLayout& layout = ctx.kv->layout();
  StoreOptions so = options.store;
  so.shape = KvShape{layout.n_layers, layout.n_kv_heads, layout.head_dim, layout.type};
  so.model = ctx.fingerprint;
  CELLAR_ASSIGN_OR_RETURN(s->tiers_, TieredStore::Open(so, s->metrics_.get()));
  s->cost_ = std::make_unique<CostModel>(options.cost);
  CELLAR_ASSIGN_OR_RETURN(s->loader_,
                          Loader::Create(s->tiers_.get(), s->cost_.get(), options.loader));
  s->worker_ = std::make_unique<StoreWorker>(s->tiers_.get(), options.worker);
  CELLAR_LOG_INFO(
      "store: DRAM {} MiB ({}), disk {} MiB ({}) in {}, chunks of {} tokens, policy {}, "
      "truncation step {} tokens",
      so.dram_bytes >> 20, CodecName(so.dram_codec), s->tiers_->disk_capacity() >> 20,
      CodecName(so.disk_codec), s->tiers_->disk_enabled() ? s->tiers_->disk_dir() : "(off)", chunk,
      PolicyKindName(so.policy), s->truncator_->step());
  return s;
}

EngineExtensionFactory KvStoreFactory(KvStoreOptions options, std::unique_ptr<KvStore>* out) {
  return [options = std::move(options),
          out](const EngineExtensionContext& ctx) -> Result<EngineExtension> {
    CELLAR_ASSIGN_OR_RETURN(*out, KvStore::Create(options, ctx));
    return (*out)->Extension();
  };
}

KvStore::KvStore(const KvStoreOptions& options, const EngineExtensionContext& ctx)
    : options_(options),
      ctx_(ctx),
      block_size_(ctx.kv->layout().block_size),
      chunk_tokens_(options.store.chunk_tokens),
      rope_(ctx.model->hparams().rope),
      metrics_(std::make_unique<StoreMetrics>()) {}

KvStore::~KvStore() { Close(); }

EngineExtension KvStore::Extension() {
  EngineExtension e;
  e.prepare = [this](GenerateRequest* r) {
    const int before = r->n_dropped_tokens;
    Status s = truncator_->Prepare(r);
    if (s.ok() && r->n_dropped_tokens > before) {
      Bump(metrics_->truncations);
      Bump(metrics_->dropped_tokens, r->n_dropped_tokens - before);
    }
    return s;
  };
  if (!enabled()) return e;
  e.hooks = this;
  e.kv_source = this;
  e.queue_observer = this;
  e.pool_observer = this;
  return e;
}

void KvStore::Flush() {
  if (worker_) worker_->Flush();
}

void KvStore::Close() {
  if (closed_) return;
  closed_ = true;
  if (worker_) worker_->Close(options_.persist_on_close);
  loader_.reset();
}

// ---------------------------------------------------------------- requests

std::string KvStore::SessionKey(const Hash128& salt, const std::string& session_id) const {
  // Session ids are chosen by clients: a session is named by (tenant, id).
  return salt.ToHex() + "/" + session_id;
}

KvStore::RequestState& KvStore::State(RequestId id, const Hash128& salt,
                                      const std::optional<std::string>& session_id) {
  auto it = requests_.find(id);
  if (it != requests_.end()) {
    RequestState& st = it->second;
    if (st.ephemeral && session_id.has_value()) {
      if (st.chain_registered && tiers_ != nullptr) tiers_->ForgetSession(st.session);
      st.session = SessionKey(st.truncation ? st.truncation->base_salt : st.salt, *session_id);
      st.ephemeral = false;
      st.chain_registered = false;
    }
    return st;
  }
  RequestState& st = requests_[id];
  st.salt = salt;
  st.truncation = truncator_->Find(salt);
  const Hash128 base = st.truncation != nullptr ? st.truncation->base_salt : salt;
  if (session_id.has_value()) {
    st.session = SessionKey(base, *session_id);
  } else {
    st.session = "request/" + std::to_string(id);
    st.ephemeral = true;
  }
  return st;
}

void KvStore::HashTokens(RequestState& st, std::span<const TokenId> tokens) {
  if (st.block_hashes.size() < tokens.size() / static_cast<size_t>(block_size_)) {
    ExtendBlockHashes(tokens, block_size_, {ctx_.fingerprint, st.salt}, &st.block_hashes);
  }
}

std::vector<Hash128> KvStore::ChunkHashesOf(const RequestState& st) const {
  const size_t per = static_cast<size_t>(chunk_tokens_ / block_size_);
  std::vector<Hash128> out;
  for (size_t end = per; end <= st.block_hashes.size(); end += per) {
    out.push_back(st.block_hashes[end - 1]);
  }
  return out;
}

ExternalKvMatch KvStore::Match(RequestId id, const Hash128& salt, std::span<const TokenId> tokens,
                               int n_pool) {
  // The session id is not passed here; OnWaitingQueue/OnScheduled learn it.
  RequestState& st = State(id, salt, std::nullopt);
  if (st.plan && st.plan->n_pool == n_pool) return {st.plan->end - n_pool, true};
  const int C = chunk_tokens_;
  HashTokens(st, tokens);
  const std::vector<Hash128> chunk_hashes = ChunkHashesOf(st);
  LoadPlan plan;
  plan.n_pool = n_pool;
  plan.end = n_pool;
  const int begin_chunk = n_pool / C;
  const TieredStore::PrefixMatch direct =
      tiers_->Lookup(chunk_hashes, tokens, begin_chunk, st.ephemeral ? "" : st.session);
  st.chain_registered = st.chain_registered || !st.ephemeral;
  for (size_t i = 0; i < direct.chunks.size(); ++i) {
    plan.chunks.push_back(direct.chunks[i].hash);
    plan.chunk_first.push_back((begin_chunk + static_cast<int>(i)) * C);
    plan.tiers.push_back(direct.chunks[i].tier);
  }
  std::vector<TieredStore::MatchedChunk> matched = direct.chunks;
  plan.end = std::max(n_pool, (begin_chunk + static_cast<int>(direct.chunks.size())) * C);

  // A truncated prompt: an earlier layout of the conversation, at new positions.
  if (st.truncation != nullptr) {
    for (const TruncationSource& src : st.truncation->sources) {
      const TieredStore::PrefixMatch m =
          tiers_->Lookup(src.chunk_hashes, src.tokens, 0, "", /*count=*/false);
      const int src_end = static_cast<int>(m.chunks.size()) * C;
      const int cover = src_end <= src.map.keep                   ? src_end
                        : src_end <= src.map.keep + src.map.shift ? src.map.keep
                                                                  : src_end - src.map.shift;
      if (cover <= plan.end) continue;
      LoadPlan p;
      p.n_pool = n_pool;
      p.end = cover;
      p.map = src.map;
      matched.clear();
      for (size_t j = 0; j < m.chunks.size(); ++j) {
        const int first = static_cast<int>(j) * C;
        if (Placed(src.map, first, C, n_pool, cover) == 0) continue;
        p.chunks.push_back(m.chunks[j].hash);
        p.chunk_first.push_back(first);
        p.tiers.push_back(m.chunks[j].tier);
        matched.push_back(m.chunks[j]);
      }
      plan = std::move(p);
    }
  }
  plan.n_candidate_chunks = static_cast<int>(plan.chunks.size());
  if (!plan.chunks.empty() && options_.use_cost_model) {
    const int n_new = static_cast<int>(tokens.size()) - plan.end;
    plan.decision = cost_->Decide(matched, std::max(n_new, 0), ctx_.kv->layout().n_layers);
    const size_t keep = static_cast<size_t>(plan.decision.load_chunks);
    if (keep < plan.chunks.size()) {
      // Load a head, recompute the tail: the range ends where chunk keep-1 ends.
      int end = n_pool;
      for (size_t j = 0; j < keep; ++j) {
        for (int q = plan.chunk_first[j]; q < plan.chunk_first[j] + C; ++q) {
          const int p = plan.map(q);
          if (p >= 0 && p < plan.end) end = std::max(end, p + 1);
        }
      }
      plan.chunks.resize(keep);
      plan.chunk_first.resize(keep);
      plan.tiers.resize(keep);
      plan.end = end;
    }
  } else if (!plan.chunks.empty()) {
    plan.decision.kind = CostModel::Decision::Kind::kLoadAll;
    plan.decision.load_chunks = static_cast<int>(plan.chunks.size());
    plan.decision.load_tokens = plan.end - n_pool;
  }
  st.plan = std::move(plan);
  return {st.plan->end - n_pool, true};
}

void KvStore::OnWaitingQueue(std::span<const QueuedRequestInfo> queue) {
  std::vector<std::string> sessions;
  sessions.reserve(queue.size());
  queued_ids_.clear();
  for (const QueuedRequestInfo& q : queue) {
    queued_ids_.push_back(q.id);
    if (q.session_id.has_value()) {
      auto rec = truncator_->Find(q.tenant_salt);
      sessions.push_back(
          SessionKey(rec != nullptr ? rec->base_salt : q.tenant_salt, std::string(*q.session_id)));
    } else {
      sessions.push_back("request/" + std::to_string(q.id));
    }
  }
  if (sessions != queue_sessions_) {
    queue_sessions_ = sessions;
    worker_->SetQueue(std::move(sessions));
  }
}

void KvStore::RegisterQueuedChains(const Scheduler& scheduler) {
  // Queued requests' chains, so that scheduler-aware prefetch and eviction know
  // them before they reach the head (each request once; a bounded number per step).
  constexpr int kMaxPerStep = 8;
  int n = 0;
  for (RequestId id : queued_ids_) {
    if (n >= kMaxPerStep) break;
    const SchedRequest* r = scheduler.Find(id);
    if (r == nullptr) continue;
    RequestState& st = State(id, r->tenant_salt, r->session_id);
    if (st.chain_registered) continue;
    st.chain_registered = true;
    HashTokens(st, r->tokens);
    tiers_->Lookup(ChunkHashesOf(st), r->tokens, 0, st.session, /*count=*/false);
    ++n;
  }
}

void KvStore::OnScheduled(Scheduler& scheduler, const SchedulerOutput& out) {
  for (const ScheduledRequest& sr : out.scheduled) {
    if (!sr.admitted_this_step) continue;
    const SchedRequest* r = scheduler.Find(sr.id);
    if (r == nullptr) continue;
    RequestState& st = State(sr.id, r->tenant_salt, r->session_id);
    if (st.plan && st.plan->n_candidate_chunks > 0)
      CostModel::Count(st.plan->decision, metrics_.get());
    if (sr.n_load_tokens > 0) StartLoad(st, scheduler, sr);
    st.plan.reset();
    st.admitted_once = true;
    SetUpSaver(st, sr);
  }
  RegisterQueuedChains(scheduler);
  FlushPoolEvents();
}

void KvStore::OnBlockCached(BlockId /*id*/, const Hash128& hash) {
  pool_events_.emplace_back(hash, true);
}

void KvStore::OnBlockEvicted(BlockId /*id*/, const Hash128& hash) {
  pool_events_.emplace_back(hash, false);
}

void KvStore::FlushPoolEvents() {
  if (pool_events_.empty()) return;
  tiers_->UpdatePoolResidency(pool_events_);
  const bool lost = std::any_of(pool_events_.begin(), pool_events_.end(),
                                [](const auto& ev) { return !ev.second; });
  pool_events_.clear();
  if (lost && worker_) worker_->Wake();  // the scheduler policy reads pool victims back
}

void KvStore::StartLoad(RequestState& st, const Scheduler& scheduler, const ScheduledRequest& sr) {
  const SchedRequest* r = scheduler.Find(sr.id);
  ActiveLoad a;
  a.id = sr.id;
  a.begin = sr.load_start_position;
  a.end = sr.load_start_position + sr.n_load_tokens;
  a.block_table = sr.block_table;
  a.tokens.assign(r->tokens.begin() + a.begin, r->tokens.begin() + a.end);
  const bool usable = st.plan && st.plan->n_pool == a.begin && st.plan->end >= a.end;
  if (!usable) {
    // The scheduler asked for a range this store did not offer: compute it.
    CELLAR_LOG_ERROR("store: load of [{}, {}) for request {} has no plan; recomputing", a.begin,
                     a.end, sr.id);
    Status s = Recompute(a.block_table, a.tokens, a.begin);
    if (!s.ok()) CELLAR_LOG_ERROR("store: recompute failed: {}", s.ToString());
    return;
  }
  const LoadPlan& plan = *st.plan;
  const int C = chunk_tokens_;
  PoolLoadSink::Options so;
  so.kv = ctx_.kv;
  so.rope = rope_;
  so.block_table = sr.block_table;
  so.chunk_tokens = C;
  so.map = plan.map;
  so.begin = a.begin;
  so.end = a.end;
  std::vector<Hash128> chunks;
  uint64_t by_tier[2] = {0, 0};
  for (size_t j = 0; j < plan.chunks.size(); ++j) {
    const int placed = Placed(plan.map, plan.chunk_first[j], C, a.begin, a.end);
    if (placed == 0) continue;
    chunks.push_back(plan.chunks[j]);
    so.chunk_first.push_back(plan.chunk_first[j]);
    by_tier[static_cast<int>(plan.tiers[j])] += static_cast<uint64_t>(placed);
  }
  if (!st.admitted_once) {
    hit_tokens_[0] += by_tier[0];
    hit_tokens_[1] += by_tier[1];
    Bump(metrics_->hit_tokens_dram, static_cast<int64_t>(by_tier[0]));
    Bump(metrics_->hit_tokens_disk, static_cast<int64_t>(by_tier[1]));
  }
  a.sink = std::make_unique<PoolLoadSink>(std::move(so));
  a.handle = loader_->Start(std::move(chunks), a.sink.get());
  active_.push_back(std::move(a));
}

void KvStore::SetUpSaver(RequestState& st, const ScheduledRequest& sr) {
  const int C = chunk_tokens_;
  const int start = sr.start_position;  // the request's cached (pool + loaded) tokens
  int first = start / C * C;
  if (st.truncation != nullptr) {
    // A truncated layout is a new chain: save it from its first chunk the store
    // does not hold yet (its loaded part is read back from the pool).
    const std::vector<Hash128> chunks = ChunkHashesOf(st);
    int j = 0;
    while (j < start / C && static_cast<size_t>(j) < chunks.size() &&
           tiers_->Locate(chunks[static_cast<size_t>(j)]).found()) {
      ++j;
    }
    first = j * C;
  }
  st.saver = std::make_unique<ChunkAccumulator>(tiers_->shape(), C, first);
  st.backfill_begin = first;
  st.backfill_end = start;
}

// ---------------------------------------------------------------- the step

StepHooks KvStore::ForwardHooks(const SchedulerOutput& out) {
  step_start_ = std::chrono::steady_clock::now();
  step_wait_ns_ = 0;
  step_savers_.assign(out.scheduled.size(), nullptr);
  bool any = false;
  for (size_t i = 0; i < out.scheduled.size(); ++i) {
    auto it = requests_.find(out.scheduled[i].id);
    if (it == requests_.end() || it->second.saver == nullptr) continue;
    step_savers_[i] = it->second.saver.get();
    any = true;
  }
  StepHooks h;
  if (any) h.observer = this;
  if (!active_.empty()) h.barrier = this;
  return h;
}

void KvStore::OnLayerKv(int layer, int entry_index, const BatchEntry& entry,
                        const float* k_pre_rope, const float* v) {
  if (entry_index < 0 || static_cast<size_t>(entry_index) >= step_savers_.size()) return;
  ChunkAccumulator* saver = step_savers_[static_cast<size_t>(entry_index)];
  if (saver == nullptr) return;
  saver->Append(layer, entry.start_pos, static_cast<int>(entry.tokens.size()), k_pre_rope, v);
}

void KvStore::WaitLayerReady(int layer) {
  for (ActiveLoad& a : active_) {
    if (a.recomputed) continue;
    const int64_t t0 = SteadyNs();
    Status s = a.handle->WaitLayer(layer);
    step_wait_ns_ += SteadyNs() - t0;
    if (s.ok()) continue;
    // The load failed (a corrupt or vanished chunk, reported and dropped by the
    // loader): once the loader has let go of the blocks, compute the whole
    // range — every layer — before this layer's attention reads it.
    (void)a.handle->Wait();
    CELLAR_LOG_WARN("store: load for request {} failed at layer {} ({}); recomputing {} tokens",
                    a.id, layer, s.ToString(), a.end - a.begin);
    const int64_t t1 = SteadyNs();
    Status r = Recompute(a.block_table, a.tokens, a.begin);
    step_wait_ns_ += SteadyNs() - t1;
    if (!r.ok()) CELLAR_LOG_ERROR("store: recompute failed: {}", r.ToString());
    Bump(metrics_->loads_recomputed);
    a.recomputed = true;
  }
}

Status KvStore::Recompute(std::span<const int32_t> block_table, std::span<const TokenId> tokens,
                          int begin) {
  if (recompute_ == nullptr) {
    ForwardPassOptions fo;
    fo.max_batch_tokens = std::max(1, std::min(ctx_.max_batch_tokens, 512));
    fo.max_logit_rows = 1;
    fo.max_context = ctx_.n_ctx;
    CELLAR_ASSIGN_OR_RETURN(recompute_, ForwardPass::Create(*ctx_.model, ctx_.kv, ctx_.pool, fo));
  }
  const size_t step = static_cast<size_t>(recompute_->max_batch_tokens());
  Batch batch;
  batch.entries.resize(1);
  BatchEntry& e = batch.entries[0];
  e.block_table = block_table;
  e.n_logits = 0;
  for (size_t i = 0; i < tokens.size(); i += step) {
    e.tokens = tokens.subspan(i, std::min(step, tokens.size() - i));
    e.start_pos = begin + static_cast<int32_t>(i);
    CELLAR_RETURN_IF_ERROR(recompute_->Step(batch));
  }
  return OkStatus();
}

void KvStore::OnStepDone(Scheduler& scheduler, const SchedulerOutput& out) {
  FlushPoolEvents();  // the blocks the step filled, before their chunks are saved
  for (ActiveLoad& a : active_) {
    if (!a.recomputed) (void)a.handle->Wait();
  }
  active_.clear();
  // Prefill speed for the cost model: the step's compute time, without waits.
  const int64_t elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - step_start_)
                              .count() -
                          step_wait_ns_;
  constexpr int kMinPrefillTokens = 32;
  if (out.n_scheduled_tokens >= kMinPrefillTokens && elapsed > 0) {
    cost_->ObservePrefill(out.n_scheduled_tokens, static_cast<double>(elapsed) * 1e-9);
  }
  for (const ScheduledRequest& sr : out.scheduled) {
    auto it = requests_.find(sr.id);
    if (it == requests_.end() || it->second.saver == nullptr) continue;
    RequestState& st = it->second;
    const SchedRequest* r = scheduler.Find(sr.id);
    if (r == nullptr) continue;
    if (st.backfill_end > st.backfill_begin) {
      // The chunk head that came from the pool or a load: read back, unrotated.
      const int n = st.backfill_end - st.backfill_begin;
      const size_t row = static_cast<size_t>(ctx_.kv->layout().n_kv_heads) *
                         static_cast<size_t>(ctx_.kv->layout().head_dim);
      backfill_k_.resize(static_cast<size_t>(n) * row);
      backfill_v_.resize(static_cast<size_t>(n) * row);
      for (int l = 0; l < ctx_.kv->layout().n_layers; ++l) {
        ReadPreRopeKv(*ctx_.kv, rope_, l, sr.block_table, st.backfill_begin, st.backfill_end,
                      backfill_k_.data(), backfill_v_.data());
        st.saver->Append(l, st.backfill_begin, n, backfill_k_.data(), backfill_v_.data());
      }
      st.backfill_begin = st.backfill_end = 0;
    }
    SaveComplete(st, *r);
  }
}

void KvStore::SaveComplete(RequestState& st, const SchedRequest& r) {
  std::vector<RawChunk> done = st.saver->TakeComplete();
  if (done.empty()) return;
  HashTokens(st, r.tokens);
  const size_t per = static_cast<size_t>(chunk_tokens_ / block_size_);
  for (RawChunk& c : done) {
    const size_t index = c.meta.first_token / static_cast<uint32_t>(chunk_tokens_);
    const size_t last_block = (index + 1) * per - 1;
    if (last_block >= st.block_hashes.size()) continue;  // not hashable yet (cannot happen)
    c.meta.hash = st.block_hashes[last_block];
    c.meta.parent = index == 0 ? Hash128{} : st.block_hashes[index * per - 1];
    c.meta.tokens.assign(
        r.tokens.begin() + static_cast<std::ptrdiff_t>(c.meta.first_token),
        r.tokens.begin() + static_cast<std::ptrdiff_t>(c.meta.first_token) + chunk_tokens_);
    worker_->Save(std::move(c), st.session);
  }
}

void KvStore::OnRequestEnd(Scheduler& /*scheduler*/, RequestId id, EndReason /*reason*/) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  if (it->second.ephemeral) tiers_->ForgetSession(it->second.session);
  requests_.erase(it);
}

void KvStore::OnPublishStats(EngineStats* stats) {
  // The engine counts every reused prompt token as "pool"; the loaded ones
  // came from the store's tiers.
  uint64_t& pool = stats->hit_tokens_by_tier["pool"];
  pool -= std::min(pool, hit_tokens_[0] + hit_tokens_[1]);
  stats->hit_tokens_by_tier["dram"] = hit_tokens_[0];
  stats->hit_tokens_by_tier["disk"] = hit_tokens_[1];
}

// ---------------------------------------------------------------- metrics

std::string KvStore::RenderMetrics() const {
  const StoreMetricsSnapshot m = metrics_->Snapshot();
  std::string out;
  auto header = [&](std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto sample = [&](std::string_view name, std::string_view labels, auto value) {
    if (labels.empty()) {
      fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
    } else {
      fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, value);
    }
  };
  auto per_tier = [&](std::string_view name, std::string_view type, std::string_view help,
                      int64_t dram, int64_t disk) {
    header(name, type, help);
    sample(name, "tier=\"dram\"", dram);
    sample(name, "tier=\"disk\"", disk);
  };
  auto one = [&](std::string_view name, std::string_view type, std::string_view help,
                 int64_t value) {
    header(name, type, help);
    sample(name, "", value);
  };
  per_tier("cellar_store_bytes_read_total", "counter", "Bytes of stored KV read, by tier.",
           m.bytes_read_dram, m.bytes_read_disk);
  per_tier("cellar_store_bytes_written_total", "counter", "Bytes of KV written into a tier.",
           m.bytes_written_dram, m.bytes_written_disk);
  per_tier("cellar_store_evictions_total", "counter",
           "Chunks dropped from a tier to make room (DRAM: with no disk copy).", m.evictions_dram,
           m.evictions_disk);
  header("cellar_store_demotions_total", "counter", "Chunks moved to the tier below.");
  sample("cellar_store_demotions_total", "tier=\"dram\"", m.demotions_dram);
  per_tier("cellar_store_used_bytes", "gauge", "Bytes held by a tier.", m.dram_used_bytes,
           m.disk_used_bytes);
  per_tier("cellar_store_capacity_bytes", "gauge", "Capacity of a tier.", m.dram_capacity_bytes,
           m.disk_capacity_bytes);
  per_tier("cellar_store_chunks", "gauge", "Chunks held by a tier.", m.chunks_dram, m.chunks_disk);
  per_tier("cellar_store_lookup_hit_tokens_total", "counter",
           "Tokens of looked-up prefixes found in a tier (admission attempts).",
           m.lookup_hit_tokens_dram, m.lookup_hit_tokens_disk);
  one("cellar_store_lookup_miss_tokens_total", "counter",
      "Tokens of looked-up full chunks not in the store.", m.lookup_miss_tokens);
  one("cellar_store_prefetch_issued_total", "counter",
      "Chunks promoted disk -> DRAM ahead of their request.", m.prefetch_issued);
  one("cellar_store_prefetch_useful_total", "counter", "Prefetched chunks later hit in DRAM.",
      m.prefetch_useful);
  one("cellar_store_save_backlog_bytes", "gauge", "Raw KV bytes waiting to be saved.",
      m.save_backlog_bytes);
  one("cellar_store_save_backlog_chunks", "gauge", "Chunks waiting to be saved.",
      m.save_backlog_chunks);
  one("cellar_store_chunks_saved_total", "counter", "Chunks that entered the store.",
      m.chunks_saved);
  one("cellar_store_chunks_deduplicated_total", "counter",
      "Saves of a chunk the store already held.", m.chunks_deduplicated);
  one("cellar_store_saves_dropped_total", "counter",
      "Pending saves dropped because the write buffer was full.", m.saves_dropped);
  one("cellar_store_saves_rejected_total", "counter", "Saves with no room in any tier.",
      m.saves_rejected);
  one("cellar_store_expired_chunks_total", "counter", "Chunks removed by the TTL.",
      m.expired_chunks);
  one("cellar_store_expired_sessions_total", "counter", "Sessions removed by the TTL.",
      m.expired_sessions);
  one("cellar_store_sessions", "gauge", "Sessions known to the store.", m.sessions);
  one("cellar_store_corrupt_chunks_total", "counter",
      "Chunk files that failed a check (CRC, size, header) and were removed.",
      m.corrupt_chunks_removed);
  one("cellar_store_missing_chunks_total", "counter", "Indexed chunk files that had vanished.",
      m.missing_chunks_removed);
  one("cellar_store_disk_io_errors_total", "counter", "Failed disk operations.", m.disk_io_errors);
  one("cellar_store_disk_full_events_total", "counter", "Disk full while writing.",
      m.disk_full_events);
  one("cellar_store_disk_tier_disabled", "gauge", "1 when the disk tier was turned off.",
      m.disk_tier_disabled);
  one("cellar_store_loads_total", "counter", "Layer-wise loads started.", m.loads_started);
  one("cellar_store_loads_failed_total", "counter", "Loads that hit a bad or missing chunk.",
      m.loads_failed);
  one("cellar_store_loads_recomputed_total", "counter",
      "Failed loads whose positions were recomputed during the step.", m.loads_recomputed);
  header("cellar_store_load_wait_seconds_total", "counter",
         "Time compute spent waiting for layers being loaded.");
  sample("cellar_store_load_wait_seconds_total", "", static_cast<double>(m.load_wait_ns) * 1e-9);
  header("cellar_store_decisions_total", "counter",
         "Cost-model decisions for stored prefixes: load all, recompute all, or split.");
  sample("cellar_store_decisions_total", "decision=\"load\"", m.decisions_load);
  sample("cellar_store_decisions_total", "decision=\"recompute\"", m.decisions_recompute);
  sample("cellar_store_decisions_total", "decision=\"split\"", m.decisions_split);
  header("cellar_store_decision_tokens_total", "counter",
         "Stored tokens the cost model chose to load or to recompute.");
  sample("cellar_store_decision_tokens_total", "decision=\"load\"", m.decision_tokens_loaded);
  sample("cellar_store_decision_tokens_total", "decision=\"recompute\"",
         m.decision_tokens_recomputed);
  one("cellar_store_truncations_total", "counter",
      "Requests whose prompt was truncated to fit the context.", m.truncations);
  one("cellar_store_dropped_tokens_total", "counter", "Prompt tokens dropped by truncation.",
      m.dropped_tokens);
  if (cost_ != nullptr) {
    header("cellar_store_bandwidth_bytes_per_second", "gauge",
           "Measured load bandwidth per tier (cost model input).");
    sample("cellar_store_bandwidth_bytes_per_second", "tier=\"dram\"",
           cost_->bandwidth(Tier::kDram));
    sample("cellar_store_bandwidth_bytes_per_second", "tier=\"disk\"",
           cost_->bandwidth(Tier::kDisk));
    header("cellar_store_prefill_tokens_per_second", "gauge",
           "Measured prefill speed (cost model input).");
    sample("cellar_store_prefill_tokens_per_second", "", cost_->prefill_tokens_per_s());
  }
  return out;
}

}  // namespace cellar
