// Truncation of over-long conversations with decoupled positions.
//
// When prompt + max_tokens exceeds the context, Truncator::Prepare (called on
// the submitting thread, before the request enters the engine) keeps the first
// n_keep tokens (the system prompt) and the most recent ones, drops a middle
// run [n_keep, n_keep + n_dropped) — a multiple of `step` tokens, so a growing
// conversation is re-laid out once per `step` tokens of growth, not every turn
// — and rewrites the request: the shorter prompt, n_dropped_tokens, and a
// DERIVED tenant salt
//
//   salt' = XXH3-128("CLTRUNC1", salt, n_keep, n_dropped, tokens [0, n_keep + n_dropped))
//
// so that every block and chunk hash of the truncated prompt (pool and store)
// differs from an untruncated prefix with the same tokens: their KV differs
// (the kept tokens' KV was computed while the dropped ones were in context).
// The next turn of the same conversation, truncated the same way, gets the
// same salt' and reuses the pool and store directly.
//
// The record it keeps (by salt') lists the stored chains the truncated prompt
// may be loaded from at new positions: the same conversation truncated by an
// earlier, smaller step (n_dropped - step, - 2 step, ...) and untruncated. The
// store (KvStore::Match) loads the best one's chunks, rotating keys for their
// new positions — no kept token is recomputed.
//
// Thread-safety: Prepare and Find may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "engine/engine_service.h"
#include "engine/kv_store_sink.h"
#include "engine/request_params.h"
#include "kv/block_hash.h"
#include "kv/kv_types.h"

namespace cellar {

// A stored chain a truncated prompt may be loaded from.
struct TruncationSource {
  Hash128 salt;                       // the chain's tenant salt
  std::vector<TokenId> tokens;        // the chain's tokens (its prompt back then)
  std::vector<Hash128> chunk_hashes;  // of its full chunks
  PositionMap map;                    // chain position -> truncated prompt position
};

struct TruncationRecord {
  Hash128 salt;       // the truncated request's (derived) salt
  Hash128 base_salt;  // the tenant's salt it was derived from
  int n_keep = 0;
  int n_dropped = 0;
  std::vector<TruncationSource> sources;  // most recent layout first; untruncated last
};

class Truncator {
 public:
  struct Options {
    int n_ctx = 0;
    // Leading tokens kept: >= 0 overrides the request's n_keep; -1 uses the
    // request's (the system prompt, measured by the server), else kDefaultKeep.
    int n_keep = -1;
    bool truncate = true;  // false (--overflow error): over-long requests are refused
    int step = 0;          // drop granularity; 0: n_ctx / 8 rounded up to chunk_tokens
    int chunk_tokens = 64;
    int block_size = 16;
    Hash128 fingerprint;
    bool keep_sources = true;  // record reusable chains (off without a store)
    size_t max_records = 256;
  };
  // Tokens kept without a system prompt: the first few positions attract much
  // attention (StreamingLLM's "attention sinks").
  static constexpr int kDefaultKeep = 4;

  explicit Truncator(const Options& options);

  // Truncates `request` when prompt + max(max_tokens, 1) > n_ctx (see above).
  // OUT_OF_RANGE when it cannot fit even so, or truncation is off.
  Status Prepare(GenerateRequest* request);

  // The record of a truncated request's salt; null when none.
  std::shared_ptr<const TruncationRecord> Find(const Hash128& salt) const;

  int step() const { return step_; }

 private:
  const Options o_;
  int step_;
  mutable std::mutex mu_;
  std::unordered_map<Hash128, std::shared_ptr<const TruncationRecord>, Hash128Hasher>
      records_;                // GUARDED_BY(mu_)
  std::deque<Hash128> order_;  // GUARDED_BY(mu_), oldest first
};

// salt' (above).
Hash128 TruncatedSalt(const Hash128& salt, int n_keep, int n_dropped,
                      std::span<const TokenId> prefix);

// Chunk hashes of the full chunks of `tokens`: the pool's block hash of each
// chunk's last block.
std::vector<Hash128> ChunkHashes(std::span<const TokenId> tokens, int chunk_tokens, int block_size,
                                 const BlockHashContext& ctx);

// For a chat whose first message is a system message and whose prompt would
// overflow the context: how many leading prompt tokens are the system prompt
// (the common prefix of the prompt and the system message rendered alone);
// -1 otherwise. The server sets GenerateRequest::n_keep from it.
int SystemPromptTokens(const EngineService& engine, const ChatPrompt& chat,
                       std::span<const TokenId> prompt, int max_tokens);

}  // namespace cellar
