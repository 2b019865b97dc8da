// Tier sizing for --compare: how many bytes of KV cache a workload leaves in the store,
// and tier sizes that put a run in the regime the CachedAttention paper studies: the
// working pool holds only the running requests, DRAM holds a fraction of the
// conversations' KV, DRAM + disk hold all of it.
//
// Estimate. Each conversation leaves in the store the KV of its last prompt (system +
// history + last user message; the earlier prompts are prefixes of it, shared
// chunks) plus the tokens the model generated in each turn (their chunks follow a
// prompt whose next turn carries the recorded answer instead, so they are never
// reused, but they are stored): tokens(c) = chars(last prompt) / chars_per_token +
// turns(c) * max_tokens. Bytes = tokens * bytes_per_token, where bytes_per_token =
// 2 (K and V) * n_layers * n_kv_heads * head_dim * bytes per element.
//
// Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "replay/workload.h"

namespace cellar::replay {

struct KvShape {
  int n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int bytes_per_element = 2;  // f16

  int64_t BytesPerToken() const {
    return 2LL * n_layers * n_kv_heads * head_dim * bytes_per_element;
  }
};

// "L,H,D" or "L,H,D,B" (layers, KV heads, head dimension, bytes per element).
Result<KvShape> ParseKvShape(std::string_view s);

struct WorkloadKv {
  int64_t n_conversations = 0;
  double total_tokens = 0;
  double max_conversation_tokens = 0;
  double mean_conversation_tokens = 0;
  int64_t bytes_per_token = 0;
  int64_t total_bytes = 0;
  int64_t max_conversation_bytes = 0;
};

WorkloadKv EstimateWorkloadKv(const Workload& w, int64_t bytes_per_token, double chars_per_token,
                              int64_t max_tokens);

struct TierSizes {
  int64_t kv_mem = 0;        // working pool (--kv-mem)
  int64_t store_dram = 0;    // --store-dram
  int64_t store_disk = 0;    // --store-disk
  double dram_fraction = 0;  // the fraction of the total KV that DRAM holds
  int pool_requests = 0;     // running requests (largest conversations) the pool holds
};

// The sizing rule (docs/BENCHMARKS.md): the working pool holds the running requests,
// not the conversations: pool = 1.25 * pool_requests * the largest conversation;
// DRAM = dram_fraction * the total; disk = 2 * the total; each rounded up to a
// whole MiB.
TierSizes SuggestTierSizes(const WorkloadKv& kv, int pool_requests, double dram_fraction = 0.25);

// Byte counts as the server flags take them: "512M", "3G" (binary units, rounded up
// to a whole unit of the largest suffix that keeps the number >= 1), "0" for 0.
std::string FormatSize(int64_t bytes);
// Parses "123", "64K", "512M", "3G", "1T" (binary units; case-insensitive; an optional
// trailing "B" or "iB").
Result<int64_t> ParseSize(std::string_view s);

// A human-readable report of an estimate and the suggested sizes, with the serve
// arguments that apply them.
std::string DescribeSizing(const WorkloadKv& kv, const TierSizes& sizes);

}  // namespace cellar::replay
