// KvStore: the CachedAttention store as the serving engine sees it. It owns the
// tiers (TieredStore: DRAM + disk), the background saver (StoreWorker), the
// layer-wise loader (Loader), the load-or-recompute CostModel and the
// truncation of over-long prompts (Truncator), and joins the engine through
// its hooks (engine/engine_extension.h):
//
//  - prepare (submitting thread): truncates a prompt that overflows the context
//    (engine/kv_store_truncation.h).
//  - ExternalKvSource::Match (admission): the longest stored prefix beyond the
//    pool's own prefix cache — chunks named by the pool's chained block hashes,
//    or, for a truncated prompt, an earlier layout of the same conversation
//    loaded at new positions — cut by the cost model. Always "ready": disk
//    chunks are read during the step, layer by layer.
//  - OnScheduled: starts the layer-wise load of every admitted request's range
//    into its pool blocks (PoolLoadSink: RoPE for the positions the tokens take
//    now); sets up its saver (a ChunkAccumulator).
//  - KvLoadBarrier::WaitLayerReady(l): waits only for layer l. A load that
//    fails (corrupt or vanished chunk) is recomputed in place for the whole
//    loaded range, by a second forward pass over the same pool, before layer
//    l's attention reads it — the step goes on with correct KV; bad data is
//    never used.
//  - KvObserver::OnLayerKv: captures the new tokens' pre-RoPE K and V.
//  - OnStepDone: saves every chunk that became complete (the head of a chunk
//    that came from the pool or a load is read back from the pool with the
//    rotation undone), handed to the StoreWorker — never blocking compute.
//  - SessionQueueObserver: the waiting queue, as store sessions, for
//    scheduler-aware prefetch and eviction.
//  - OnPublishStats: prompt tokens served per tier ("dram", "disk").
//  - BlockPoolObserver: which block hashes the working pool holds, passed to
//    the tiers once per step, so the scheduler policy keeps DRAM for what the
//    pool has lost (demotes first what it holds, reads back what it drops).
//
// Owned by whoever builds the LocalEngineService (cmd_serve, tests); must
// outlive the service's engine thread (Close() after LocalEngineService::Stop).
// Thread-safety: the hooks run on the engine thread; Prepare, RenderMetrics and
// Metrics may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/engine_extension.h"
#include "engine/forward_pass.h"
#include "engine/kv_store_sink.h"
#include "engine/kv_store_truncation.h"
#include "store/chunk_accumulator.h"
#include "store/cost_model.h"
#include "store/loader.h"
#include "store/store_options.h"
#include "store/store_worker.h"
#include "store/tiered_store.h"

namespace cellar {

struct KvStoreOptions {
  bool enabled = true;  // false (--no-store): only truncation
  // Tiers. shape and model are taken from the engine (the context).
  StoreOptions store;
  Loader::Options loader;
  StoreWorker::Options worker;
  CostModel::Options cost;
  bool use_cost_model = true;  // false: always load what is stored
  // Truncation. n_ctx, chunk size, block size and fingerprint come from the
  // engine and `store`.
  Truncator::Options truncation;
  bool persist_on_close = true;  // Close() writes DRAM-only chunks to disk
};

class KvStore final : public EngineLoopHooks,
                      public ExternalKvSource,
                      public SessionQueueObserver,
                      private BlockPoolObserver,
                      private KvObserver,
                      private KvLoadBarrier {
 public:
  // INVALID_ARGUMENT when chunk_tokens is not a multiple of the pool's block size.
  static Result<std::unique_ptr<KvStore>> Create(const KvStoreOptions& options,
                                                 const EngineExtensionContext& context);
  ~KvStore() override;  // Close()
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // What the LocalEngineService wires (only `prepare` when the store is off).
  EngineExtension Extension();

  // Truncates an over-long prompt (any thread).
  Status Prepare(GenerateRequest* request) { return truncator_->Prepare(request); }

  // Waits until every save handed over so far is stored.
  void Flush();
  // Stores what is pending, persists DRAM-only chunks (persist_on_close) and
  // stops the background threads. Call after the engine stopped. Idempotent.
  void Close();

  // Prometheus text of the store's metrics (docs/STORE.md, "Metrics").
  std::string RenderMetrics() const;
  StoreMetricsSnapshot Metrics() const { return metrics_->Snapshot(); }
  bool enabled() const { return tiers_ != nullptr; }
  TieredStore* tiers() const { return tiers_.get(); }
  CostModel* cost_model() const { return cost_.get(); }
  const Truncator& truncator() const { return *truncator_; }

  // ---- EngineLoopHooks, ExternalKvSource, SessionQueueObserver (engine thread)
  void OnScheduled(Scheduler& scheduler, const SchedulerOutput& out) override;
  StepHooks ForwardHooks(const SchedulerOutput& out) override;
  void OnStepDone(Scheduler& scheduler, const SchedulerOutput& out) override;
  void OnRequestEnd(Scheduler& scheduler, RequestId id, EndReason reason) override;
  void OnPublishStats(EngineStats* stats) override;
  ExternalKvMatch Match(RequestId id, const Hash128& salt, std::span<const TokenId> tokens,
                        int n_pool_tokens) override;
  void OnWaitingQueue(std::span<const QueuedRequestInfo> queue) override;

 private:
  // What Match found for one request: positions [n_pool, end) can be loaded
  // from `chunks` (chain positions chunk_first[i].., placed by `map`).
  struct LoadPlan {
    int n_pool = 0;
    int end = 0;
    std::vector<Hash128> chunks;
    std::vector<int> chunk_first;
    std::vector<Tier> tiers;
    PositionMap map;
    int n_candidate_chunks = 0;  // before the cost model's cut
    CostModel::Decision decision;
  };
  struct RequestState {
    Hash128 salt;
    std::string session;     // the store's session key
    bool ephemeral = false;  // a per-request key, forgotten at its end
    std::shared_ptr<const TruncationRecord> truncation;
    std::vector<Hash128> block_hashes;  // of the request's tokens, as far as hashed
    std::optional<LoadPlan> plan;
    bool chain_registered = false;
    bool admitted_once = false;
    std::unique_ptr<ChunkAccumulator> saver;
    int backfill_begin = 0;  // positions to read back from the pool after the step
    int backfill_end = 0;
  };
  struct ActiveLoad {
    RequestId id = 0;
    int begin = 0;
    int end = 0;
    std::vector<int32_t> block_table;
    std::vector<TokenId> tokens;  // [begin, end), for recomputing
    std::unique_ptr<PoolLoadSink> sink;
    std::shared_ptr<LoadHandle> handle;
    bool recomputed = false;
  };

  KvStore(const KvStoreOptions& options, const EngineExtensionContext& context);

  RequestState& State(RequestId id, const Hash128& salt,
                      const std::optional<std::string>& session_id);
  std::string SessionKey(const Hash128& salt, const std::string& session_id) const;
  void HashTokens(RequestState& st, std::span<const TokenId> tokens);
  std::vector<Hash128> ChunkHashesOf(const RequestState& st) const;
  void StartLoad(RequestState& st, const Scheduler& scheduler, const ScheduledRequest& sr);
  void SetUpSaver(RequestState& st, const ScheduledRequest& sr);
  void SaveComplete(RequestState& st, const SchedRequest& request);
  void RegisterQueuedChains(const Scheduler& scheduler);
  // Recomputes positions [begin, end) of a sequence into the pool (all layers).
  Status Recompute(std::span<const int32_t> block_table, std::span<const TokenId> tokens,
                   int begin);

  // KvObserver / KvLoadBarrier.
  void OnLayerKv(int layer, int entry_index, const BatchEntry& entry, const float* k_pre_rope,
                 const float* v) override;
  void WaitLayerReady(int layer) override;
  // BlockPoolObserver: buffered; FlushPoolEvents hands them to the tiers.
  void OnBlockCached(BlockId id, const Hash128& hash) override;
  void OnBlockEvicted(BlockId id, const Hash128& hash) override;
  void FlushPoolEvents();

  const KvStoreOptions options_;
  const EngineExtensionContext ctx_;
  const int block_size_;
  const int chunk_tokens_;
  const RopeParams rope_;
  std::unique_ptr<StoreMetrics> metrics_;
  std::unique_ptr<TieredStore> tiers_;
  std::unique_ptr<CostModel> cost_;
  std::unique_ptr<Loader> loader_;
  std::unique_ptr<StoreWorker> worker_;
  std::unique_ptr<Truncator> truncator_;
  bool closed_ = false;

  // Engine thread only.
  std::unordered_map<RequestId, RequestState> requests_;
  std::vector<ActiveLoad> active_;
  std::vector<ChunkAccumulator*> step_savers_;  // per batch entry of the current step
  std::vector<RequestId> queued_ids_;           // the last waiting queue
  std::vector<std::string> queue_sessions_;     // ... as store sessions
  std::unique_ptr<ForwardPass> recompute_;      // made at the first failed load
  std::chrono::steady_clock::time_point step_start_;
  int64_t step_wait_ns_ = 0;
  std::vector<float> backfill_k_, backfill_v_;
  std::vector<std::pair<Hash128, bool>> pool_events_;  // since the last flush
  // Prompt tokens loaded at first admission, per tier (for EngineStats).
  uint64_t hit_tokens_[2] = {0, 0};
};

// A LocalEngineOptions::extension that creates the store (into *out, which
// must outlive the engine) when the engine is built.
EngineExtensionFactory KvStoreFactory(KvStoreOptions options, std::unique_ptr<KvStore>* out);

}  // namespace cellar
