// Hooks through which the CachedAttention store (or any other component on the
// engine thread) follows and steers the scheduler. Both are called on the
// engine thread, inside Scheduler::Schedule, and must not call back into the
// scheduler from there (use the Scheduler's Mark* methods between steps).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "base/hash.h"
#include "kv/kv_types.h"

namespace cellar {

// One queued request, as shown to a SessionQueueObserver.
struct QueuedRequestInfo {
  RequestId id = 0;
  // Session ids are chosen by clients, so a session is named by (tenant, id).
  Hash128 tenant_salt;
  std::optional<std::string_view> session_id;  // valid during the callback only
  int n_tokens = 0;
  bool waiting_for_load = false;
};

// Sees, once per step, the waiting queue in admission order (front first):
// the look-ahead that scheduler-aware prefetch and eviction need.
class SessionQueueObserver {
 public:
  virtual ~SessionQueueObserver() = default;
  virtual void OnWaitingQueue(std::span<const QueuedRequestInfo> queue) = 0;
};

// Answer of an ExternalKvSource.
struct ExternalKvMatch {
  // Tokens after the pool prefix whose KV the source can supply (rounded down to
  // whole blocks and capped so that the last token is still computed).
  int n_tokens = 0;
  // False: the source is still bringing them in (e.g. disk -> DRAM); the request
  // waits (kWaitingForLoad) until Scheduler::MarkLoadReady.
  bool ready = true;
};

// A source of KV beyond the pool's own prefix cache (the store). Asked at each
// admission attempt of a waiting request.
class ExternalKvSource {
 public:
  virtual ~ExternalKvSource() = default;
  // `tokens` are the request's tokens; the first n_pool_tokens are already in
  // the pool (whole blocks). `salt` is the request's tenant salt.
  virtual ExternalKvMatch Match(RequestId id, const Hash128& salt, std::span<const TokenId> tokens,
                                int n_pool_tokens) = 0;
};

}  // namespace cellar
