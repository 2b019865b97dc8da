// EngineLoopHooks: where a component on the engine thread (the CachedAttention
// store) joins the serving loop without the loop knowing about tiers:
//
//   OnScheduled     after Scheduler::Schedule(), before the forward pass: the
//                   step's plan — admissions (admitted_this_step) and store
//                   loads (load_start_position / n_load_tokens) to start.
//   ForwardHooks    the per-layer hooks for this step's forward pass (capture
//                   pre-RoPE K/V for saving; wait for a layer's loaded KV).
//   OnStepDone      after the forward pass and Scheduler::UpdateFromOutput
//                   (the new full blocks are named in the pool).
//   OnPublishStats  the loop publishes its EngineStats snapshot (after each
//                   step): the store adds its hit tokens per tier.
//   OnRequestEnd    a request ends. For stop / length it is called BEFORE
//                   Scheduler::FinishRequest, while the request's blocks and
//                   hashes are still its own (KvCacheManager::BlockTable /
//                   BlockHashes); cancelled and aborted requests have already
//                   lost theirs.
//
// The scheduler's own hooks (SessionQueueObserver, ExternalKvSource) are set on
// the Scheduler before it is handed to the loop. Every call happens on the
// engine thread; implementations must not block for long (they delay every
// running request) and must not call back into the EngineLoop.
#pragma once

#include "engine/engine_service.h"
#include "engine/kv_hooks.h"
#include "engine/request_output.h"
#include "kv/kv_types.h"
#include "sched/scheduler.h"

namespace cellar {

class EngineLoopHooks {
 public:
  virtual ~EngineLoopHooks() = default;
  virtual void OnScheduled(Scheduler& /*scheduler*/, const SchedulerOutput& /*out*/) {}
  virtual StepHooks ForwardHooks(const SchedulerOutput& /*out*/) { return {}; }
  virtual void OnStepDone(Scheduler& /*scheduler*/, const SchedulerOutput& /*out*/) {}
  virtual void OnRequestEnd(Scheduler& /*scheduler*/, RequestId /*id*/, EndReason /*reason*/) {}
  virtual void OnPublishStats(EngineStats* /*stats*/) {}
};

}  // namespace cellar
