// store_bench: codec throughput and layer-wise load throughput (DRAM, disk via
// io_uring, disk via reader threads). Disk numbers come from a temporary
// directory and mostly measure the page cache unless the files are cold.
//
//   build/release/src/store/store_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "base/fp16.h"
#include "store/codec.h"
#include "store/loader.h"
#include "store/tiered_store.h"

namespace cellar {
namespace {

// Llama-2-7B-like: 32 layers, 32 KV heads of 128; one chunk of 64 tokens is 32 MiB in f16.
const KvShape kShape7B{32, 32, 128, KvType::kF16};
// TinyLlama-1.1B-like: 22 layers, 4 KV heads of 64 (GQA).
const KvShape kShapeTiny{22, 4, 64, KvType::kF16};
constexpr int kTokens = 64;

RawChunk RandomChunk(const KvShape& s, uint64_t seed) {
  RawChunk c;
  c.meta.tokens.resize(kTokens);
  for (int i = 0; i < kTokens; ++i) c.meta.tokens[static_cast<size_t>(i)] = i;
  c.meta.hash = Hash128{seed, seed * 7 + 1};
  c.data.resize(s.RawBytes(kTokens));
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> nd(0.f, 1.f);
  auto* h = reinterpret_cast<uint16_t*>(c.data.data());
  for (size_t i = 0; i < c.data.size() / 2; ++i) h[i] = FloatToFp16(nd(rng));
  return c;
}

const KvShape& ShapeArg(int64_t a) { return a == 0 ? kShapeTiny : kShape7B; }

void BM_Encode(benchmark::State& state) {
  const KvShape& s = ShapeArg(state.range(0));
  const Codec codec = static_cast<Codec>(state.range(1));
  const RawChunk raw = RandomChunk(s, 1);
  size_t out = 0;
  for (auto _ : state) {
    EncodedChunk e = EncodeChunk(raw, s, codec);
    out = e.Bytes();
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.data.size()));
  state.counters["ratio"] = static_cast<double>(out) / static_cast<double>(raw.data.size());
  state.SetLabel(std::string(CodecName(codec)));
}

void BM_Decode(benchmark::State& state) {
  const KvShape& s = ShapeArg(state.range(0));
  const Codec codec = static_cast<Codec>(state.range(1));
  const RawChunk raw = RandomChunk(s, 1);
  const EncodedChunk e = EncodeChunk(raw, s, codec);
  std::vector<uint8_t> k(s.HalfLayerBytes(kTokens)), v(k.size());
  for (auto _ : state) {
    for (int l = 0; l < s.n_layers; ++l) {
      Status st =
          DecodeLayer(codec, s, kTokens, e.layers[static_cast<size_t>(l)], k.data(), v.data());
      benchmark::DoNotOptimize(st);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.data.size()));
  state.SetLabel(std::string(CodecName(codec)));
}

class NullSink : public LayerSink {
 public:
  void OnLayer(int, int, const uint8_t* k, const uint8_t*) override { benchmark::DoNotOptimize(k); }
};

// Loads 8 chunks (512 tokens) layer by layer. range(1): 0 = DRAM, 1 = disk (io_uring), 2 = disk
// (reader threads), 3 = disk (inline pread on the loader thread).
void BM_Load(benchmark::State& state) {
  const KvShape& s = ShapeArg(state.range(0));
  const int where = static_cast<int>(state.range(1));
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("cellar-store-bench-" + std::to_string(getpid())))
          .string();
  StoreMetrics metrics;
  StoreOptions o;
  o.shape = s;
  o.chunk_tokens = kTokens;
  o.dram_bytes = where == 0 ? (8ull << 30) : 0;
  o.disk_bytes = where == 0 ? 0 : (8ull << 30);
  o.dir = dir;
  auto store = TieredStore::Open(o, &metrics);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  std::vector<Hash128> chunks;
  uint64_t bytes = 0;
  for (int i = 0; i < 8; ++i) {
    RawChunk c = RandomChunk(s, static_cast<uint64_t>(i) + 100);
    c.meta.first_token = static_cast<uint32_t>(i * kTokens);
    chunks.push_back(c.meta.hash);
    bytes += c.data.size();
    if (!(*store)->Save(std::move(c), "").ok()) {
      state.SkipWithError("save failed");
      return;
    }
  }
  Loader::Options lo;
  lo.io = where == 1 ? Loader::Io::kUring : where == 2 ? Loader::Io::kThreads : Loader::Io::kInline;
  auto l = Loader::Create(store->get(), nullptr, lo);
  std::unique_ptr<Loader> loader = std::move(*l);
  NullSink sink;
  for (auto _ : state) {
    Status st = loader->Start(chunks, &sink)->Wait();
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(where == 0   ? "dram"
                 : where == 1 ? "disk-io_uring"
                 : where == 2 ? "disk-threads"
                              : "disk-inline");
  loader.reset();
  store->reset();
  std::filesystem::remove_all(dir);
}

void CodecArgs(benchmark::internal::Benchmark* b) {
  for (int shape : {0, 1}) {
    for (int c : {0, 1, 3}) b->Args({shape, c});
  }
}

BENCHMARK(BM_Encode)->Apply(CodecArgs)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->Apply(CodecArgs)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Load)
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace cellar

BENCHMARK_MAIN();
