// EngineLoop: the serving loop. One thread owns the scheduler (and through it
// the KV pool), the forward pass and every request's generation state; it has
// no locks inside. Work enters through a thread-safe RequestQueue (Submit,
// Cancel) and leaves through per-request RequestChannels.
//
// Each step (continuous batching):
//   1. take the queued commands (submissions join the scheduler's waiting
//      queue; cancellations are passed on);
//   2. Scheduler::Schedule(): decodes first, then prefill chunks within the
//      per-step token budget (a long prompt never stalls running decodes),
//      FCFS admission with prefix-cache reuse, preemption by recompute when
//      blocks run out;
//   3. one ForwardPass::Step over every scheduled sequence;
//   4. sample a token for each sequence whose chunk ended at its last token;
//      detokenize, hold back possible stop strings, stream to the channel;
//   5. Scheduler::UpdateFromOutput; requests that hit a stop rule (EOS/EOT, a
//      stop string, max_tokens, the context length) are finished and their
//      channels closed with the summary.
// With no unfinished request the thread sleeps on the queue (no spinning).
// EngineLoopHooks let the CachedAttention store join each step.
//
// Ownership: owns the KV storage, forward pass and scheduler it is given;
// borrows the tokenizer (and through the forward pass the model and thread
// pool), which must outlive it. Thread-safety: Submit, Cancel, Stats and Stop
// may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "engine/engine_loop_hooks.h"
#include "engine/engine_loop_request.h"
#include "engine/engine_service.h"
#include "engine/forward_pass.h"
#include "engine/request_queue.h"
#include "kv/kv_storage.h"
#include "model/tokenizer.h"
#include "sched/scheduler.h"

namespace cellar {

struct EngineLoopOptions {
  int n_ctx = 0;           // most tokens (prompt + generated) of one request; > 0
  int max_queue = 1024;    // submitted-but-not-admitted requests before Submit refuses
  Clock* clock = nullptr;  // nullptr: Clock::Real() (token and arrival times)
  // Test only: sleep this long after every step (to hold requests in flight).
  int64_t TEST_step_delay_nanos = 0;
};

struct EngineLoopParts {
  const Tokenizer* tokenizer = nullptr;  // borrowed
  std::unique_ptr<KvStorage> kv;         // the pool memory the forward pass uses
  std::unique_ptr<ForwardPass> forward;
  std::unique_ptr<Scheduler> scheduler;
  EngineLoopHooks* hooks = nullptr;  // optional, borrowed
};

class EngineLoop {
 public:
  // Starts the engine thread. INVALID_ARGUMENT for missing parts or n_ctx <= 0.
  static Result<std::unique_ptr<EngineLoop>> Create(EngineLoopParts parts,
                                                    EngineLoopOptions options);
  ~EngineLoop();  // Stop()
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // Validates and queues a request; see EngineService::Submit for the errors.
  Result<std::shared_ptr<RequestChannel>> Submit(GenerateRequest request);
  void Cancel(RequestId id);
  // The snapshot published after the last step.
  EngineStats Stats() const;
  // Refuses new requests, cancels the ones left (their channels close with
  // kCancelled) and joins the thread. Idempotent.
  void Stop();

  int n_ctx() const { return options_.n_ctx; }
  int64_t token_capacity() const { return token_capacity_; }

 private:
  EngineLoop(EngineLoopParts parts, EngineLoopOptions options);
  void Run();
  // Applies queued commands; returns false on kStop.
  bool Apply(std::vector<EngineCommand>& commands);
  void Step();
  // Ends request r (removes it from the loop; `finish_in_scheduler` frees its
  // blocks when it is still known to the scheduler).
  void End(RequestId id, FinishReason reason, bool finish_in_scheduler, Status error = OkStatus());
  void PublishStats();

  EngineLoopParts parts_;
  EngineLoopOptions options_;
  Clock* clock_;
  int64_t token_capacity_ = 0;
  int n_vocab_ = 0;
  RequestQueue queue_;
  std::atomic<RequestId> next_id_{1};
  std::atomic<int> n_pending_{0};  // submitted, never admitted
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::thread thread_;

  // Engine thread only.
  std::unordered_map<RequestId, std::unique_ptr<LoopRequest>> requests_;
  std::vector<EngineCommand> commands_;
  Batch batch_;
  std::vector<SampledToken> sampled_;
  std::vector<std::pair<RequestId, FinishReason>> finished_;
  uint64_t n_computed_tokens_ = 0;
  uint64_t n_generated_tokens_ = 0;
  uint64_t n_prompt_tokens_ = 0;
  uint64_t n_pool_hit_tokens_ = 0;
  uint64_t n_miss_tokens_ = 0;

  mutable std::mutex stats_mu_;
  EngineStats stats_;  // guarded by stats_mu_
};

}  // namespace cellar
