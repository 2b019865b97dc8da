// kernels_bench: paged attention of one token (one KV head's GQA group) over a
// history of n_keys positions, at TinyLlama-1.1B's shape (8 query heads per KV
// head, head_dim 64, 16-token f16 blocks). Counter: keys/s.
//   kernels_bench --benchmark_filter='attention/.*'
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/attention.h"

namespace cellar {
namespace {

void BM_Attention(benchmark::State& state) {
  const int32_t n_keys = static_cast<int32_t>(state.range(0));
  constexpr int32_t kBlock = 16, kHeads = 4, kDim = 64, kGroup = 8;
  const int32_t n_blocks = (n_keys + kBlock - 1) / kBlock;
  const int64_t block_stride = 2LL * kHeads * kBlock * kDim * 2;  // K and V tiles, f16
  std::vector<uint8_t> pool(static_cast<size_t>(block_stride * n_blocks));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(kDim));
  for (int64_t off = 0; off + kDim * 2 <= static_cast<int64_t>(pool.size()); off += kDim * 2) {
    for (auto& x : row) x = dist(rng);
    StoreKvRow(GgmlType::kF16, row.data(), pool.data() + off, kDim);
  }
  PagedKvView kv;
  kv.type = GgmlType::kF16;
  kv.k = pool.data();
  kv.v = pool.data() + block_stride / 2;
  kv.block_stride = block_stride;
  kv.block_size = kBlock;
  kv.n_kv_heads = kHeads;
  kv.head_dim = kDim;
  std::vector<int32_t> table(static_cast<size_t>(n_blocks));
  std::iota(table.begin(), table.end(), 0);
  std::vector<float> q(static_cast<size_t>(kGroup * kDim)), out(q.size());
  for (auto& x : q) x = dist(rng);
  std::vector<float> scratch(AttentionScratchFloats(kGroup, n_keys));
  AttentionArgs a;
  a.q = q.data();
  a.n_group = kGroup;
  a.kv_head = 1;
  a.block_table = table.data();
  a.n_keys = n_keys;
  a.scale = 1.0f / std::sqrt(static_cast<float>(kDim));
  a.scratch = scratch.data();
  a.out = out.data();
  for (auto _ : state) {
    PagedAttention(kv, a);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["keys/s"] = benchmark::Counter(static_cast<double>(n_keys),
                                                benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Attention)->Name("attention/f16_group8_d64")->Arg(128)->Arg(512)->Arg(1024);

}  // namespace
}  // namespace cellar
