// EngineService: the boundary between the HTTP layer and the engine. The
// server turns an API request into a prompt (through this interface, so it
// never touches the tokenizer or the chat template itself), submits a
// GenerateRequest, and reads the output from the returned handle's channel.
//
// Implementations: LocalEngineService (engine_service_local.h: a model, its
// tokenizer and template, and the EngineLoop thread) and, in tests, a fake.
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/request_handle.h"
#include "engine/request_params.h"
#include "kv/kv_types.h"

namespace cellar {

// What /v1/models reports and what request validation needs.
struct EngineModelInfo {
  std::string id;           // the served model's name (the GGUF file name without .gguf)
  int64_t created = 0;      // Unix seconds (when the server loaded it)
  int n_ctx = 0;            // most tokens (prompt + generated) of one request
  int n_vocab = 0;          // token ids are 0 .. n_vocab-1
  std::string fingerprint;  // the model fingerprint as hex (system_fingerprint)
};

// A chat to render with the model's chat template. Messages are validated by
// the server (roles, content types); tool-call arguments are JSON objects.
struct ChatPrompt {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null or an array of tool definitions
  bool add_generation_prompt = true;
};

// A snapshot of the engine for /metrics. Counters only grow.
struct EngineStats {
  int n_waiting = 0;  // submitted, not yet admitted (includes preempted requests)
  int n_running = 0;  // holding pool blocks
  int n_blocks_total = 0;
  int n_blocks_used = 0;    // referenced by a running request
  int n_blocks_cached = 0;  // holding reusable KV (in use or free)
  uint64_t n_steps = 0;
  uint64_t n_preemptions = 0;
  uint64_t n_prompt_tokens = 0;     // prompt tokens of admitted requests (first admission)
  uint64_t n_computed_tokens = 0;   // tokens run through the forward pass (prefill + decode)
  uint64_t n_generated_tokens = 0;  // tokens sampled
  // Prompt tokens whose KV was reused at first admission, by tier ("pool" for
  // the working pool's prefix cache; the store adds "dram", "disk", ...), and
  // prompt tokens that had to be computed.
  std::map<std::string, uint64_t> hit_tokens_by_tier;
  uint64_t n_miss_tokens = 0;
};

class EngineService {
 public:
  virtual ~EngineService() = default;

  virtual const EngineModelInfo& model_info() const = 0;

  // A plain-text prompt (/v1/completions): tokenized with the model's BOS
  // rule; special-token text is NOT parsed (it is user text).
  virtual Result<std::vector<TokenId>> TokenizeText(std::string_view text) const = 0;

  // A chat (/v1/chat/completions): rendered with the model's chat template and
  // tokenized (control tokens written by the template are parsed).
  // INVALID_ARGUMENT when the template rejects the messages.
  virtual Result<std::vector<TokenId>> TokenizeChat(const ChatPrompt& chat) const = 0;

  // Queues a generation. Errors:
  //   INVALID_ARGUMENT    bad sampling parameters, empty prompt, token id out of range
  //   OUT_OF_RANGE        prompt + max_tokens over the context length (or the KV pool)
  //   RESOURCE_EXHAUSTED  the waiting queue is full (--max-queue)
  //   UNAVAILABLE         the engine is shutting down
  virtual Result<RequestHandle> Submit(GenerateRequest request) = 0;

  // Drops a request (its blocks are freed); its channel is closed with
  // FinishReason::kCancelled. Unknown or finished ids are ignored.
  virtual void Cancel(RequestId id) = 0;

  virtual EngineStats Stats() const = 0;
};

}  // namespace cellar
