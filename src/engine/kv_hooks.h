// Hooks through which the CachedAttention store joins a forward step, layer by
// layer, without the forward pass knowing about tiers:
//
//  - KvObserver (the saver): as each layer's keys and values for the new tokens
//    are computed, it receives them — keys BEFORE RoPE (the store's layout; it
//    can re-rotate them for any position later), values as they are.
//  - KvLoadBarrier (the loader): before layer l's attention reads the pool, the
//    step calls WaitLayerReady(l), so KV of a cached prefix that is still being
//    loaded into the pool for layer l is in place first. Loading layer l + 1
//    overlaps computing layer l.
//
// Both are optional (null pointers in StepHooks) and cost a pointer test when
// unused. They are called on the thread that runs ForwardPass::Step(), never
// concurrently with each other; implementations must not call back into the
// same ForwardPass.
#pragma once

#include "engine/batch.h"

namespace cellar {

class KvObserver {
 public:
  virtual ~KvObserver() = default;

  // Layer `layer`'s new K and V for batch entry `entry_index`:
  //   k_pre_rope, v: [entry.tokens.size()][n_kv_heads * head_dim] (row-major,
  //   K including its bias, before RoPE), for positions entry.start_pos + i.
  // The pointers are valid only during the call.
  virtual void OnLayerKv(int layer, int entry_index, const BatchEntry& entry,
                         const float* k_pre_rope, const float* v) = 0;
};

class KvLoadBarrier {
 public:
  virtual ~KvLoadBarrier() = default;

  // Returns once every KV of `layer` that the current step's attention reads is
  // in the pool. Called once per layer per step, in layer order.
  virtual void WaitLayerReady(int layer) = 0;
};

struct StepHooks {
  KvObserver* observer = nullptr;
  KvLoadBarrier* barrier = nullptr;
};

}  // namespace cellar
