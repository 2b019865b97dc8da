#include "store/cost_model.h"

#include <gtest/gtest.h>

namespace cellar {
namespace {

using Kind = CostModel::Decision::Kind;

TieredStore::MatchedChunk Chunk(Tier tier, uint64_t bytes, int tokens = 100) {
  TieredStore::MatchedChunk c;
  c.tier = tier;
  c.bytes = bytes;
  c.n_tokens = tokens;
  return c;
}

CostModel Model(double dram_bw, double disk_bw, double tps) {
  CostModel::Options o;
  o.dram_bytes_per_s = dram_bw;
  o.disk_bytes_per_s = disk_bw;
  o.prefill_tokens_per_s = tps;
  return CostModel(o);
}

TEST(CostModelTest, CpuLikeLoadingWins) {
  // 100 tokens/s prefill, 1 GB/s disk: loading 4 x 1 MB beats recomputing 400 tokens.
  CostModel m = Model(10e9, 1e9, 100);
  std::vector<TieredStore::MatchedChunk> p = {
      Chunk(Tier::kDram, 1000000), Chunk(Tier::kDisk, 1000000), Chunk(Tier::kDisk, 1000000),
      Chunk(Tier::kDisk, 1000000)};
  auto d = m.Decide(p, 10, 10);
  EXPECT_EQ(d.kind, Kind::kLoadAll);
  EXPECT_EQ(d.load_chunks, 4);
  EXPECT_EQ(d.load_tokens, 400);
  EXPECT_EQ(d.recompute_tokens, 0);
  // T = max(L, C) + min(L, C)/layers: L = 1e-4 + 3e-3, C = 10/100.
  EXPECT_NEAR(d.est_seconds, 0.1 + 0.0031 / 10, 1e-12);
  EXPECT_NEAR(d.est_recompute_all_seconds, 4.1, 1e-12);
}

TEST(CostModelTest, GpuLikeSlowDiskRecomputes) {
  // The research example: an H100 prefills 2048 tokens in 65 ms (31508 tok/s);
  // 1 GiB of KV on a 1.5 GB/s disk takes ~700 ms.
  CostModel m = Model(20e9, 1.5e9, 2048 / 0.065);
  std::vector<TieredStore::MatchedChunk> p;
  for (int i = 0; i < 8; ++i) p.push_back(Chunk(Tier::kDisk, (1u << 30) / 8, 256));
  auto d = m.Decide(p, 32, 32);
  EXPECT_EQ(d.kind, Kind::kRecomputeAll);
  EXPECT_EQ(d.load_chunks, 0);
  EXPECT_EQ(d.recompute_tokens, 2048);
}

TEST(CostModelTest, SplitLoadsTheDramHeadAndRecomputesTheDiskTail) {
  // DRAM is fast, disk slow, prefill in between: load the DRAM chunks, recompute the rest.
  CostModel m = Model(1e10, 1e6, 1000);
  std::vector<TieredStore::MatchedChunk> p = {
      Chunk(Tier::kDram, 1000000), Chunk(Tier::kDram, 1000000), Chunk(Tier::kDisk, 1000000),
      Chunk(Tier::kDisk, 1000000)};
  auto d = m.Decide(p, 100, 10);
  // k=2: L = 2e-4, C = (200 + 100)/1000 = 0.3 -> 0.3 + 2e-5; k=4 costs >= 2 s.
  EXPECT_EQ(d.kind, Kind::kSplit);
  EXPECT_EQ(d.load_chunks, 2);
  EXPECT_EQ(d.load_tokens, 200);
  EXPECT_EQ(d.recompute_tokens, 200);
  EXPECT_NEAR(d.est_seconds, 0.3 + 2e-4 / 10, 1e-12);
}

TEST(CostModelTest, TiesPreferLoading) {
  // Loading and recomputing one chunk cost exactly the same: load.
  CostModel m = Model(1e9, 1e9, 100);
  std::vector<TieredStore::MatchedChunk> p = {Chunk(Tier::kDram, 1000000000, 100)};
  auto d = m.Decide(p, 0, 1);  // L = 1 s, C = 1 s either way
  EXPECT_EQ(d.kind, Kind::kLoadAll);
}

TEST(CostModelTest, EwmaFollowsMeasurements) {
  CostModel::Options o;
  o.disk_bytes_per_s = 1000;
  o.prefill_tokens_per_s = 10;
  o.ewma_alpha = 0.5;
  CostModel m(o);
  m.ObserveTransfer(Tier::kDisk, 3000, 1.0);  // 3000 B/s
  EXPECT_DOUBLE_EQ(m.bandwidth(Tier::kDisk), 2000);
  m.ObserveTransfer(Tier::kDisk, 3000, 1.0);
  EXPECT_DOUBLE_EQ(m.bandwidth(Tier::kDisk), 2500);
  m.ObserveTransfer(Tier::kDisk, 0, 1.0);  // ignored
  m.ObserveTransfer(Tier::kDisk, 10, 0.0);
  EXPECT_DOUBLE_EQ(m.bandwidth(Tier::kDisk), 2500);
  m.ObservePrefill(30, 1.0);
  EXPECT_DOUBLE_EQ(m.prefill_tokens_per_s(), 20);
}

TEST(CostModelTest, CountsDecisions) {
  StoreMetrics metrics;
  CostModel::Decision d;
  d.kind = Kind::kSplit;
  d.load_tokens = 64;
  d.recompute_tokens = 128;
  CostModel::Count(d, &metrics);
  d.kind = Kind::kLoadAll;
  CostModel::Count(d, &metrics);
  EXPECT_EQ(metrics.decisions_split.load(), 1);
  EXPECT_EQ(metrics.decisions_load.load(), 1);
  EXPECT_EQ(metrics.decisions_recompute.load(), 0);
  EXPECT_EQ(metrics.decision_tokens_loaded.load(), 128);
  EXPECT_EQ(metrics.decision_tokens_recomputed.load(), 256);
}

}  // namespace
}  // namespace cellar
