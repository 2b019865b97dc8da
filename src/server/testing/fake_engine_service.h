// FakeEngineService: an EngineService without a model, for testing the HTTP
// layer. Text is tokenized one token per byte (ids 0-255; BOS = 256, EOS =
// 257); a chat renders as "<|role|>content\n"... "<|assistant|>". Every request
// "generates" the configured reply, one byte-token per tick, up to max_tokens.
// Prompt reuse is modelled per tenant salt: cached_tokens is the longest common
// prefix (rounded down to 4 tokens, never the whole prompt) with an earlier
// prompt of the same tenant. Hold(true) keeps new requests waiting (queued) so
// tests can fill the queue or disconnect while a request is in flight.
//
// Thread-safety: like every EngineService, all methods are thread-safe; one
// internal thread produces the output.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine_service.h"

namespace cellar {

struct FakeEngineOptions {
  int n_ctx = 128;
  std::string reply = "Hello, world!";
  std::chrono::milliseconds token_interval{0};
  int max_queue = 1 << 20;  // held (waiting) requests allowed before RESOURCE_EXHAUSTED
};

class FakeEngineService final : public EngineService {
 public:
  static constexpr TokenId kBos = 256;
  static constexpr TokenId kEos = 257;
  static constexpr int kVocab = 258;

  explicit FakeEngineService(FakeEngineOptions options = {});
  ~FakeEngineService() override;

  const EngineModelInfo& model_info() const override { return info_; }
  Result<std::vector<TokenId>> TokenizeText(std::string_view text) const override;
  Result<std::vector<TokenId>> TokenizeChat(const ChatPrompt& chat) const override;
  Result<RequestHandle> Submit(GenerateRequest request) override;
  void Cancel(RequestId id) override;
  EngineStats Stats() const override;

  // While held, new and waiting requests do not start.
  void Hold(bool hold);
  // Later Submit() calls fail with UNAVAILABLE.
  void SetShuttingDown();

  // The chat text TokenizeChat renders (without BOS).
  static std::string RenderChat(const ChatPrompt& chat);

  // Every request submitted so far, in order.
  std::vector<GenerateRequest> submitted() const;
  // Ids whose Cancel() arrived while they were live.
  std::vector<RequestId> cancelled() const;
  // Requests whose channel is not closed yet.
  int n_live() const;
  // Blocks until n_live() == n (or the timeout passes); returns n_live() == n.
  bool WaitForLive(int n, std::chrono::milliseconds timeout) const;

 private:
  struct Live {
    GenerateRequest request;
    std::shared_ptr<RequestChannel> channel;
    int n_cached = 0;
    int n_emitted = 0;
    bool cancel = false;
    bool started = false;
    int64_t arrival_nanos = 0;
    int64_t first_token_nanos = -1;
  };
  void Run();
  int CachedPrefix(const GenerateRequest& r) const;  // REQUIRES: mu_ held

  FakeEngineOptions options_;
  EngineModelInfo info_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<RequestId, Live> live_;                                 // guarded by mu_
  std::vector<GenerateRequest> submitted_;                         // guarded by mu_
  std::vector<RequestId> cancelled_;                               // guarded by mu_
  std::vector<std::pair<Hash128, std::vector<TokenId>>> history_;  // guarded by mu_
  EngineStats stats_;                                              // guarded by mu_
  RequestId next_id_ = 1;                                          // guarded by mu_
  bool hold_ = false;                                              // guarded by mu_
  bool shutting_down_ = false;                                     // guarded by mu_
  bool stop_ = false;                                              // guarded by mu_
  std::thread thread_;
};

}  // namespace cellar
