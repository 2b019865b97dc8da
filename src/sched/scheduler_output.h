// SchedulerOutput: what one scheduler step asks the engine to do. The engine runs
// one forward pass over `scheduled` (decodes first, then prefill chunks), samples
// a token for each entry with logits_needed, and reports back through
// Scheduler::UpdateFromOutput.
//
// A plain value: the engine thread may keep it for the duration of the step.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kv/kv_types.h"

namespace cellar {

struct ScheduledRequest {
  RequestId id = 0;
  // Position of tokens[0]; the KV of positions [0, start_position) is in the pool
  // (or arrives by the store load below).
  int start_position = 0;
  // The new tokens to compute this step (1 for a decode, a chunk for a prefill).
  std::vector<TokenId> tokens;
  // The request's blocks, covering at least start_position + tokens.size() slots:
  // position p lives in block_table[p / block_size], slot p % block_size.
  std::vector<BlockId> block_table;
  // True when this chunk ends at the request's last known token: the engine
  // samples the next token from its logits.
  bool logits_needed = false;
  // Store load (CachedAttention preload): positions [load_start_position,
  // load_start_position + n_load_tokens) are filled from the store during this
  // step, before attention reads them. n_load_tokens == 0 when nothing is loaded.
  int load_start_position = 0;
  int n_load_tokens = 0;
  // First step after (re)admission: the engine should (re)start its per-request
  // state (e.g. positions restart after a preemption).
  bool admitted_this_step = false;

  int n_new_tokens() const { return static_cast<int>(tokens.size()); }
};

enum class AbortReason : uint8_t {
  kKvCapacity,    // the request alone fills the KV pool and cannot grow (raise --kv-mem)
  kQueueTimeout,  // waited in the queue longer than the configured timeout
};

std::string_view AbortReasonName(AbortReason r);

struct AbortedRequest {
  RequestId id = 0;
  AbortReason reason = AbortReason::kKvCapacity;
};

struct SchedulerOutput {
  uint64_t step = 0;
  std::vector<ScheduledRequest> scheduled;
  int n_scheduled_tokens = 0;  // sum of tokens.size() over `scheduled`
  // Preempted this step: their blocks are freed; they wait at the front of the
  // queue and will recompute (reusing whatever prefix is still cached).
  std::vector<RequestId> preempted_ids;
  // Ended by Scheduler::FinishRequest since the previous step.
  std::vector<RequestId> finished_ids;
  // Removed this step because Scheduler::Cancel asked for it.
  std::vector<RequestId> cancelled_ids;
  // Ended by the scheduler this step; the engine reports them as failed/truncated.
  std::vector<AbortedRequest> aborted;

  bool empty() const { return scheduled.empty(); }
};

}  // namespace cellar
