// Test helpers for the store on a real engine: a LocalEngineService with a
// KvStore in a temporary folder, greedy turns with logprobs, and comparison
// with a full recompute.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine_service_local.h"
#include "engine/kv_store.h"

namespace cellar::testing {

// The store outlives the engine: members are destroyed engine first.
struct StoreEngine {
  std::unique_ptr<KvStore> store;
  std::unique_ptr<LocalEngineService> engine;

  StoreEngine() = default;
  StoreEngine(StoreEngine&&) = default;
  StoreEngine& operator=(StoreEngine&& o) noexcept {
    Shutdown();
    store = std::move(o.store);
    engine = std::move(o.engine);
    return *this;
  }
  ~StoreEngine() { Shutdown(); }
  // Stops the engine, then closes the store (pending saves stored, DRAM persisted).
  void Shutdown() {
    if (engine) engine->Stop();
    engine.reset();
    if (store) store->Close();
    store.reset();
  }
  uint64_t Hits(const std::string& tier) const {
    const EngineStats s = engine->Stats();
    auto it = s.hit_tokens_by_tier.find(tier);
    return it == s.hit_tokens_by_tier.end() ? 0 : it->second;
  }
};

inline KvStoreOptions TestStoreOptions(const std::string& dir) {
  KvStoreOptions o;
  o.store.dir = dir;
  o.store.dram_bytes = 64ull << 20;
  o.store.disk_bytes = 256ull << 20;
  o.store.chunk_tokens = 32;
  o.worker.idle_interval_seconds = 0.05;
  return o;
}

// An engine on `model` (one compute thread); with a store when `store` is set.
inline StoreEngine MakeStoreEngine(const std::string& model, LocalEngineOptions eo,
                                   std::optional<KvStoreOptions> store) {
  StoreEngine se;
  eo.model_path = model;
  if (eo.n_threads == 0) eo.n_threads = 1;
  if (store) eo.extension = KvStoreFactory(*store, &se.store);
  auto e = LocalEngineService::Create(eo);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (e.ok()) se.engine = std::move(*e);
  return se;
}

struct TurnResult {
  std::vector<TokenId> tokens;
  std::vector<float> logprobs;  // of each chosen token
  RequestSummary summary;
};

inline TurnResult RunGreedy(LocalEngineService& engine, std::vector<TokenId> prompt, int max_tokens,
                            std::optional<std::string> session = std::nullopt, int n_keep = -1) {
  using namespace std::chrono_literals;
  GenerateRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  r.stop_at_eog = false;
  r.logprobs.enabled = true;
  r.session_id = std::move(session);
  r.n_keep = n_keep;
  TurnResult out;
  auto h = engine.Submit(std::move(r));
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (!h.ok()) return out;
  RequestEvents ev;
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!h->channel().Take(100ms, &ev)) continue;
    for (TokenOutput& t : ev.tokens) {
      out.tokens.push_back(t.token);
      out.logprobs.push_back(t.logprobs ? t.logprobs->chosen.logprob : NAN);
    }
    if (ev.summary) {
      out.summary = std::move(*ev.summary);
      return out;
    }
  }
  ADD_FAILURE() << "no summary within 300 s";
  return out;
}

// Same greedy tokens, and each chosen token's log-probability within `tol`.
inline void ExpectSameTurn(const TurnResult& got, const TurnResult& want, float tol,
                           const std::string& what) {
  EXPECT_EQ(got.tokens, want.tokens) << what;
  ASSERT_EQ(got.logprobs.size(), want.logprobs.size()) << what;
  float worst = 0;
  for (size_t i = 0; i < got.logprobs.size(); ++i) {
    worst = std::max(worst, std::fabs(got.logprobs[i] - want.logprobs[i]));
  }
  EXPECT_LE(worst, tol) << what << ": largest log-probability difference";
  ::testing::Test::RecordProperty(what + "_max_logprob_diff", std::to_string(worst));
  std::printf("%s: largest log-probability difference %.5f\n", what.c_str(), worst);
}

}  // namespace cellar::testing
