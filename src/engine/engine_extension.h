// EngineExtension: how a component that lives beside the engine loop (the
// CachedAttention store, engine/kv_store.h) joins a LocalEngineService. The
// service calls an EngineExtensionFactory once in Create(), when the model, the
// KV pool memory and the thread pool exist and before the engine thread starts,
// and wires what it returns:
//
//   hooks           EngineLoopHooks of the loop (engine thread)
//   kv_source       the scheduler's ExternalKvSource (engine thread)
//   queue_observer  the scheduler's SessionQueueObserver (engine thread)
//   pool_observer   the working pool's BlockPoolObserver (engine thread): told
//                   when a block's KV becomes cached and when it is evicted
//   prepare         called by Submit on the submitting thread before the request
//                   enters the engine; may rewrite it (truncation of a prompt
//                   that overflows the context). An error refuses the request.
//
// The factory's owner keeps the extension object alive until the service has
// stopped. Plain values; the context's pointers are borrowed from the service.
#pragma once

#include <functional>

#include "base/hash.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/engine_loop_hooks.h"
#include "engine/request_params.h"
#include "kv/block_pool.h"
#include "kv/kv_storage.h"
#include "model/model.h"
#include "sched/scheduler_hooks.h"

namespace cellar {

struct EngineExtensionContext {
  const Model* model = nullptr;
  Hash128 fingerprint;         // the model fingerprint in every block hash
  KvStorage* kv = nullptr;     // the pool memory the forward pass reads
  ThreadPool* pool = nullptr;  // the compute threads (engine thread only)
  int n_ctx = 0;               // context length of one request
  int max_batch_tokens = 0;    // tokens per forward step
  bool prefix_cache = true;    // the pool reuses cached prefixes
};

struct EngineExtension {
  EngineLoopHooks* hooks = nullptr;
  ExternalKvSource* kv_source = nullptr;
  SessionQueueObserver* queue_observer = nullptr;
  BlockPoolObserver* pool_observer = nullptr;
  std::function<Status(GenerateRequest*)> prepare;
};

using EngineExtensionFactory =
    std::function<Result<EngineExtension>(const EngineExtensionContext& context)>;

}  // namespace cellar
