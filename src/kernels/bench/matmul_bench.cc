// kernels_bench: MatMul throughput per weight type at TinyLlama-1.1B shapes,
// GEMV (1 token, decode) and GEMM (512 tokens, prefill), 1 and 2 threads.
// Counters: GFLOPS = 2 * rows * cols * tokens / s; WeightGB/s = weight bytes / s.
// CELLAR_ISA=scalar|avx2|avx512 picks the level (see kernels/cpu_features.h).
//   kernels_bench --benchmark_filter='q8_0/.*' --benchmark_min_time=1s
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"

namespace cellar {
namespace {

struct Weights {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

const Weights& GetWeights(GgmlType type, int64_t rows, int64_t cols) {
  static std::map<std::tuple<int, int64_t, int64_t>, std::unique_ptr<Weights>> cache;
  auto key = std::make_tuple(static_cast<int>(type), rows, cols);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto wt = std::make_unique<Weights>();
  const int64_t row_bytes = *GgmlRowBytes(type, cols);
  wt->bytes.resize(static_cast<size_t>(row_bytes * rows));
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = normal(rng);
    QuantizeRow(type, row.data(), wt->bytes.data() + r * row_bytes, cols).IgnoreError();
  }
  wt->w = WeightMatrix{type, rows, cols, wt->bytes.data()};
  return *cache.emplace(key, std::move(wt)).first->second;
}

ThreadPool& Pool(int n) {
  static ThreadPool p1(1), p2(2);
  return n == 1 ? p1 : p2;
}

void BM_MatMul(benchmark::State& state, GgmlType type) {
  const int64_t rows = state.range(0), cols = state.range(1), n_tokens = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const Weights& wt = GetWeights(type, rows, cols);
  std::vector<float> x(static_cast<size_t>(n_tokens * cols)),
      y(static_cast<size_t>(n_tokens * rows));
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  ThreadPool& pool = Pool(threads);
  for (auto _ : state) {
    MatMul(wt.w, x.data(), cols, n_tokens, y.data(), rows, pool);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(rows) * cols * n_tokens;
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["WeightGB/s"] = benchmark::Counter(static_cast<double>(wt.bytes.size()) * 1e-9,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

void Register() {
  const GgmlType types[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ8_0,
                            GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};
  const int64_t shapes[][2] = {{2048, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
  for (GgmlType t : types) {
    for (int64_t tokens : {1, 512}) {
      const std::string name = std::string(GgmlTypeName(t)) + (tokens == 1 ? "/gemv" : "/gemm");
      auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_MatMul, t);
      b->ArgNames({"rows", "cols", "tokens", "threads"})
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      for (const auto& s : shapes) {
        for (int threads : {1, 2}) b->Args({s[0], s[1], tokens, threads});
      }
    }
  }
}

}  // namespace
}  // namespace cellar

int main(int argc, char** argv) {
  cellar::Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
