// SchedRequest: one request as the scheduler sees it: its tokens (prompt, then
// the output generated so far), how many of them have KV in the pool, and where
// it stands (waiting, waiting for a store load, running).
//
// Owned by the Scheduler; the engine reads it through Scheduler::Find. Thread-
// safety: none; engine thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/hash.h"
#include "kv/kv_types.h"

namespace cellar {

enum class RequestState : uint8_t {
  kWaiting,         // queued for admission (new, or preempted and to recompute)
  kWaitingForLoad,  // queued, but its cached prefix is being brought in by the
                    // store; skipped by admission until MarkLoadReady
  kRunning,         // admitted: holds pool blocks, scheduled every step
};

std::string_view RequestStateName(RequestState s);

// What the engine hands the scheduler for a new request.
struct NewRequest {
  RequestId id = 0;
  std::vector<TokenId> prompt;            // non-empty
  Hash128 tenant_salt;                    // kv/block_hash.h MakeTenantSalt
  std::optional<std::string> session_id;  // the conversation it continues, if known
};

struct SchedRequest {
  RequestId id = 0;
  Hash128 tenant_salt;
  std::optional<std::string> session_id;
  std::vector<TokenId> tokens;  // prompt, then output tokens as they are sampled
  int n_prompt_tokens = 0;
  // Leading tokens whose KV is in the pool, or is being computed (or loaded) by
  // the step just scheduled.
  int n_computed_tokens = 0;
  // Prompt tokens served from cache (pool prefix + store) at first admission.
  int n_cached_tokens = 0;
  RequestState state = RequestState::kWaiting;
  int64_t arrival_nanos = 0;           // scheduler clock at AddRequest
  uint64_t arrival_seq = 0;            // arrival order (ties in time broken by this)
  int64_t first_scheduled_nanos = -1;  // scheduler clock at first admission; -1 before
  int n_preemptions = 0;
  bool cancel_requested = false;

  int n_tokens() const { return static_cast<int>(tokens.size()); }
  int n_output_tokens() const { return n_tokens() - n_prompt_tokens; }
  // Tokens without KV yet (0 while the request waits for its next sampled token).
  int n_remaining_tokens() const { return n_tokens() - n_computed_tokens; }
};

}  // namespace cellar
