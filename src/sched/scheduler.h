// Scheduler: decides, step by step, which requests the engine computes and how
// many tokens of each (continuous batching with chunked prefill).
//
// Each Schedule() call:
//   1. drops cancelled requests (their blocks are freed) and, if a queue timeout
//      is set, waiting requests that never started within it;
//   2. schedules running requests that decode (1 token each), then running
//      requests part-way through their prompt (a chunk each), within the per-step
//      token budget (max_batch_tokens), so a long prompt never stalls decodes;
//   3. if nobody was preempted in this step, admits waiting requests in queue
//      order (FCFS: it stops at the first one that does not fit; requests waiting
//      for a store load are skipped) while the budget, the free blocks and the
//      max-running bound allow. An admitted request first reuses the longest
//      cached prefix in the pool (and, through an ExternalKvSource, the store),
//      then computes the rest chunk by chunk;
//   4. shows the waiting queue to the SessionQueueObserver.
// When a running request needs a block and none is free, the policy's victim
// (FCFS: the latest-arrived running request) is preempted by recompute: its
// blocks are freed, it returns to the front of the queue, and when readmitted it
// recomputes from whatever prefix is still cached. A request that alone fills
// the pool and cannot grow is aborted (AbortReason::kKvCapacity).
//
// Protocol per engine step: out = Schedule(); run the forward pass on
// out.scheduled; UpdateFromOutput(out, sampled tokens); FinishRequest(id) for
// every request that hit a stop condition (the scheduler knows no stop rules).
// n_computed_tokens advances at Schedule(); block hashes are committed at
// UpdateFromOutput, after the KV exists.
//
// The scheduler owns the KvCacheManager (and through it the BlockPool) and
// sees the pool only through the KvCacheManager API. Owned by the engine loop.
// Thread-safety: NOT thread-safe; only the engine thread calls it (work from
// other threads reaches it through the engine's input queue).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "kv/kv_cache_manager.h"
#include "sched/sched_request.h"
#include "sched/scheduler_hooks.h"
#include "sched/scheduler_output.h"
#include "sched/scheduling_policy.h"

namespace cellar {

struct SchedulerOptions {
  int max_batch_tokens = 512;  // tokens computed per step (--max-batch-tokens)
  int max_running = 64;        // requests holding blocks at once; <= max_batch_tokens
  // Waiting requests that were never admitted are aborted after this long
  // (0: never).
  int64_t queue_timeout_nanos = 0;
  Clock* clock = nullptr;                    // nullptr: Clock::Real()
  std::unique_ptr<SchedulingPolicy> policy;  // nullptr: FCFS
};

// A token sampled by the engine for a request scheduled with logits_needed.
struct SampledToken {
  RequestId id = 0;
  TokenId token = 0;
};

struct SchedulerStats {
  int n_waiting = 0;  // includes n_waiting_for_load
  int n_waiting_for_load = 0;
  int n_running = 0;
  uint64_t n_steps = 0;
  uint64_t n_preemptions = 0;
  uint64_t n_scheduled_tokens = 0;  // over all steps
  KvCacheStats kv;
};

class Scheduler {
 public:
  // InvalidArgument on a non-positive budget or bound, or max_running >
  // max_batch_tokens (every running decode must fit in one step's budget).
  static Result<std::unique_ptr<Scheduler>> Create(SchedulerOptions options,
                                                   std::unique_ptr<KvCacheManager> kv);

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a new request. InvalidArgument: empty prompt or id already known.
  // OutOfRange: the prompt (plus one generated token) can never fit in the pool.
  Status AddRequest(NewRequest request);

  // Asks to drop a request; at the next Schedule() its blocks are freed and it is
  // listed in cancelled_ids. Unknown ids (e.g. already finished) are ignored.
  void Cancel(RequestId id);

  // One step; see the class comment.
  SchedulerOutput Schedule();

  // After the forward pass of `out`: commits the hashes of blocks that became
  // full and appends each sampled token to its request's tokens. Tokens for
  // requests no longer known are ignored.
  void UpdateFromOutput(const SchedulerOutput& out, std::span<const SampledToken> sampled);

  // The engine ends a request (stop token, stop string, max tokens, context
  // full): its blocks are freed now (they stay cached), and it is listed in the
  // next output's finished_ids. Unknown ids are ignored.
  void FinishRequest(RequestId id);

  // The store is bringing in r's prefix: hold r in the queue (kWaitingForLoad).
  // Only a waiting request can be held; returns false otherwise.
  bool MarkWaitingForLoad(RequestId id);
  // The load for r is ready: r may be admitted again. False if r is not held.
  bool MarkLoadReady(RequestId id);

  // Not owned; nullptr to stop. Must outlive its use by the scheduler.
  void SetSessionQueueObserver(SessionQueueObserver* observer) { queue_observer_ = observer; }
  void SetExternalKvSource(ExternalKvSource* source) { external_source_ = source; }

  // nullptr for an unknown (or finished / cancelled) id.
  const SchedRequest* Find(RequestId id) const;
  bool has_unfinished_requests() const { return !requests_.empty(); }
  int n_waiting() const { return static_cast<int>(waiting_.size()); }
  int n_running() const { return static_cast<int>(running_.size()); }
  SchedulerStats stats() const;
  KvCacheManager& kv() { return *kv_; }
  const KvCacheManager& kv() const { return *kv_; }
  Clock& clock() const { return *clock_; }

 private:
  Scheduler(SchedulerOptions options, std::unique_ptr<KvCacheManager> kv);

  KvRequest KvView(const SchedRequest& r) const {
    return KvRequest{r.id, r.tenant_salt, r.tokens, r.n_computed_tokens};
  }
  // Removes r from whichever queue holds it and forgets it (frees its blocks).
  void Remove(SchedRequest* r);
  void DropCancelled(SchedulerOutput* out);
  void DropTimedOut(SchedulerOutput* out);
  // Schedules running requests (decodes first, then prefill chunks).
  void ScheduleRunning(SchedulerOutput* out, int* budget, bool* preempted_any);
  // Tries to give running request r n_new slots, preempting as needed. Returns
  // false if r itself was preempted or aborted.
  bool AllocateOrPreempt(SchedRequest* r, int n_new, SchedulerOutput* out, int* budget);
  void Preempt(SchedRequest* victim, SchedulerOutput* out, int* budget);
  void AdmitWaiting(SchedulerOutput* out, int* budget);
  void AddScheduled(SchedRequest* r, int n_new, bool admitted, int load_start, int n_load,
                    SchedulerOutput* out, int* budget);
  void NotifyQueueObserver();

  SchedulerOptions options_;
  Clock* clock_;
  std::unique_ptr<SchedulingPolicy> policy_;
  std::unique_ptr<KvCacheManager> kv_;
  SessionQueueObserver* queue_observer_ = nullptr;
  ExternalKvSource* external_source_ = nullptr;

  std::unordered_map<RequestId, std::unique_ptr<SchedRequest>> requests_;
  std::deque<SchedRequest*> waiting_;   // admission order, front first
  std::vector<SchedRequest*> running_;  // admission order
  std::vector<RequestId> cancel_pending_;
  std::vector<RequestId> finished_pending_;
  uint64_t next_arrival_seq_ = 0;
  uint64_t n_steps_ = 0;
  uint64_t n_preemptions_ = 0;
  uint64_t n_scheduled_tokens_ = 0;
};

}  // namespace cellar
