#include "store/loader.h"

#include <gtest/gtest.h>

#include <map>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"
#include "store/codec.h"
#include "store/store_test_util.h"

namespace cellar {
namespace {

using testing::Conversation;
using testing::FaultEnv;
using testing::MakeConversation;
using testing::TempDir;
using testing::TinyShape;

constexpr int kChunkTokens = 4;
constexpr uint64_t kDramChunk = 256 + 16;
constexpr uint64_t kFileChunk = 96 + 16 + 2 * 16 + 4 + 256;
constexpr size_t kHalf = 64;  // one layer's K (or V) of a chunk: 1 head * 4 tokens * 4 dims * f32

// Records what a load delivers.
class RecordingSink : public LayerSink {
 public:
  void OnLayer(int chunk, int layer, const uint8_t* k, const uint8_t* v) override {
    std::lock_guard<std::mutex> lock(mu_);
    order.emplace_back(chunk, layer);
    std::vector<uint8_t>& d = data[{chunk, layer}];
    d.resize(2 * kHalf);
    std::memcpy(d.data(), k, kHalf);
    std::memcpy(d.data() + kHalf, v, kHalf);
  }
  std::vector<uint8_t> At(int chunk, int layer) {
    std::lock_guard<std::mutex> lock(mu_);
    return data[{chunk, layer}];
  }
  std::mutex mu_;
  std::vector<std::pair<int, int>> order;
  std::map<std::pair<int, int>, std::vector<uint8_t>> data;
};

class LoaderTest : public ::testing::TestWithParam<Loader::Io> {
 protected:
  void OpenStore(uint64_t dram_chunks, Codec dram = Codec::kRaw, Codec disk = Codec::kRaw,
                 Env* env = nullptr) {
    StoreOptions o;
    o.shape = TinyShape();
    o.model = Hash128{1, 2};
    o.chunk_tokens = kChunkTokens;
    o.dram_bytes = dram_chunks * (dram == Codec::kRaw ? kDramChunk : 208);
    o.disk_bytes = 100 * kFileChunk;
    o.dir = tmp_.path().string();
    o.policy = PolicyKind::kLru;
    o.dram_watermark = 0;
    o.dram_codec = dram;
    o.disk_codec = disk;
    o.env = env != nullptr ? env : &env_;
    o.clock = &clock_;
    auto s = TieredStore::Open(o, &metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  std::unique_ptr<Loader> MakeLoader(uint64_t read_buffer = 1 << 20) {
    Loader::Options lo;
    lo.read_buffer_bytes = read_buffer;
    lo.io = GetParam();
    auto l = Loader::Create(store_.get(), &cost_, lo);
    EXPECT_TRUE(l.ok());
    return std::move(*l);
  }
  // Saves the conversation one chunk at a time, one second apart (so LRU
  // demotes the first ones).
  void SaveAll(const Conversation& c) {
    for (size_t i = 0; i < c.chunks.size(); ++i) {
      clock_.AdvanceSeconds(1);
      ASSERT_TRUE(store_->Save(c.chunks[i], "s").ok());
    }
  }
  std::vector<uint8_t> Expected(const RawChunk& raw, int layer, Codec codec) {
    RawChunk r = raw;
    if (codec != Codec::kRaw) r = *DecodeChunk(EncodeChunk(raw, TinyShape(), codec), TinyShape());
    std::vector<uint8_t> out(2 * kHalf);
    std::memcpy(out.data(), r.K(TinyShape(), layer), kHalf);
    std::memcpy(out.data() + kHalf, r.V(TinyShape(), layer), kHalf);
    return out;
  }

  TempDir tmp_;
  FaultEnv env_;
  FakeClock clock_;
  StoreMetrics metrics_;
  CostModel cost_{CostModel::Options{}};
  std::unique_ptr<TieredStore> store_;
};

TEST_P(LoaderTest, DeliversDramAndDiskChunksLayerMajor) {
  OpenStore(2);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 4, 10);
  SaveAll(c);
  auto m = store_->Lookup(c.hashes, c.tokens, 0, "s");
  ASSERT_EQ(m.chunks.size(), 4u);
  EXPECT_EQ(m.chunks[0].tier, Tier::kDisk);
  EXPECT_EQ(m.chunks[1].tier, Tier::kDisk);
  EXPECT_EQ(m.chunks[2].tier, Tier::kDram);
  auto loader = MakeLoader();
  RecordingSink sink;
  auto h = loader->Start(c.hashes, &sink);
  ASSERT_TRUE(h->Wait().ok());
  EXPECT_EQ(h->layers_ready(), 2);
  EXPECT_EQ(sink.order, (std::vector<std::pair<int, int>>{
                            {0, 0}, {1, 0}, {2, 0}, {3, 0}, {0, 1}, {1, 1}, {2, 1}, {3, 1}}));
  for (int i = 0; i < 4; ++i) {
    for (int l = 0; l < 2; ++l) {
      EXPECT_EQ(sink.At(i, l), Expected(c.chunks[static_cast<size_t>(i)], l, Codec::kRaw))
          << "chunk " << i << " layer " << l;
    }
  }
  EXPECT_EQ(metrics_.bytes_read_disk.load(), 2 * 2 * 128);
  EXPECT_EQ(metrics_.bytes_read_dram.load(), 2 * 2 * 128);
  EXPECT_EQ(metrics_.loads_started.load(), 1);
  EXPECT_EQ(metrics_.loads_failed.load(), 0);
}

TEST_P(LoaderTest, RealFilesThroughTheDefaultEnv) {
  // FaultEnv files have no descriptor; here io_uring reads the real files.
  OpenStore(1, Codec::kRaw, Codec::kRaw, Env::Default());
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 10);
  SaveAll(c);
  auto loader = MakeLoader();
  RecordingSink sink;
  ASSERT_TRUE(loader->Start(c.hashes, &sink)->Wait().ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.At(i, 1), Expected(c.chunks[static_cast<size_t>(i)], 1, Codec::kRaw));
  }
  EXPECT_EQ(metrics_.bytes_read_disk.load(), 2 * 2 * 128);
}

TEST_P(LoaderTest, DecodesInt8TiersAndASmallReadBuffer) {
  OpenStore(2, Codec::kInt8, Codec::kInt8Zstd);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 4, 10);
  SaveAll(c);
  auto loader = MakeLoader(/*read_buffer=*/1);  // one segment in flight at a time
  RecordingSink sink;
  auto h = loader->Start(c.hashes, &sink);
  ASSERT_TRUE(h->Wait().ok());
  for (int i = 0; i < 4; ++i) {
    for (int l = 0; l < 2; ++l) {
      EXPECT_EQ(sink.At(i, l), Expected(c.chunks[static_cast<size_t>(i)], l, Codec::kInt8));
    }
  }
}

// A sink that holds layer 1 until released, to observe per-layer readiness.
class GatedSink : public RecordingSink {
 public:
  void OnLayer(int chunk, int layer, const uint8_t* k, const uint8_t* v) override {
    if (layer == 1) {
      std::unique_lock<std::mutex> lock(gate_mu);
      gate_cv.wait(lock, [&] { return open; });
    }
    RecordingSink::OnLayer(chunk, layer, k, v);
  }
  void Open() {
    std::lock_guard<std::mutex> lock(gate_mu);
    open = true;
    gate_cv.notify_all();
  }
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
};

TEST_P(LoaderTest, EachLayerIsSignalledOnItsOwn) {
  OpenStore(10);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 10);
  SaveAll(c);
  auto loader = MakeLoader();
  GatedSink sink;
  auto h = loader->Start(c.hashes, &sink);
  ASSERT_TRUE(h->WaitLayer(0).ok());  // layer 0 is usable while layer 1 is held
  EXPECT_EQ(h->layers_ready(), 1);
  EXPECT_FALSE(h->finished());
  sink.Open();
  ASSERT_TRUE(h->WaitLayer(1).ok());
  ASSERT_TRUE(h->Wait().ok());
}

TEST_P(LoaderTest, CorruptSegmentFailsTheLoadAndIsNeverDelivered) {
  OpenStore(0);  // disk only
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 10);
  SaveAll(c);
  // Flip a byte in chunk 1's layer-1 segment, as read from disk.
  env_.SetFlipByteOnRead(c.hashes[1].ToHex(), 148 + 128 + 7);
  auto loader = MakeLoader();
  RecordingSink sink;
  auto h = loader->Start(c.hashes, &sink);
  EXPECT_TRUE(h->WaitLayer(0).ok());
  EXPECT_EQ(h->WaitLayer(1).code(), StatusCode::kDataLoss);
  EXPECT_EQ(h->Wait().code(), StatusCode::kDataLoss);
  EXPECT_EQ(sink.order, (std::vector<std::pair<int, int>>{{0, 0}, {1, 0}, {2, 0}, {0, 1}}));
  EXPECT_EQ(metrics_.corrupt_chunks_removed.load(), 1);
  EXPECT_EQ(metrics_.loads_failed.load(), 1);
  EXPECT_FALSE(store_->Locate(c.hashes[1]).found());
  EXPECT_FALSE(std::filesystem::exists(store_->disk()->PathFor(c.hashes[1])));
  // The next lookup stops before the bad chunk: the rest is recomputed.
  env_.ClearFaults();
  EXPECT_EQ(store_->Lookup(c.hashes, c.tokens, 0, "s").chunks.size(), 1u);
}

TEST_P(LoaderTest, VanishedDirectoryIsAMissAndTheStoreKeepsWorking) {
  OpenStore(0);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 10);
  SaveAll(c);
  testing::RemoveDirAll(tmp_.path().string());
  auto loader = MakeLoader();
  RecordingSink sink;
  auto h = loader->Start(c.hashes, &sink);
  EXPECT_EQ(h->Wait().code(), StatusCode::kNotFound);
  EXPECT_TRUE(sink.order.empty());
  EXPECT_EQ(metrics_.missing_chunks_removed.load(), 1);
  EXPECT_EQ(store_->Lookup(c.hashes, c.tokens, 0, "s").chunks.size(), 0u);
  // Saving again re-creates the directory; loading works again.
  Conversation d = MakeConversation(TinyShape(), kChunkTokens, 2, 500);
  SaveAll(d);
  RecordingSink sink2;
  ASSERT_TRUE(loader->Start(d.hashes, &sink2)->Wait().ok());
  EXPECT_EQ(sink2.At(1, 1), Expected(d.chunks[1], 1, Codec::kRaw));
}

TEST_P(LoaderTest, SlowDiskIsWaitedOnAndMeasured) {
  OpenStore(0);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 10);
  SaveAll(c);
  env_.SetReadDelay(std::chrono::milliseconds(5));
  auto loader = MakeLoader();
  RecordingSink sink;
  auto h = loader->Start(c.hashes, &sink);
  ASSERT_TRUE(h->WaitLayer(0).ok());
  ASSERT_TRUE(h->Wait().ok());
  EXPECT_GT(h->waited_ns(), 0);
  EXPECT_EQ(metrics_.load_wait_ns.load(), h->waited_ns());
  EXPECT_EQ(sink.At(1, 1), Expected(c.chunks[1], 1, Codec::kRaw));
  // The measured disk bandwidth replaced the starting guess.
  EXPECT_NE(cost_.bandwidth(Tier::kDisk), CostModel::Options{}.disk_bytes_per_s);
}

TEST_P(LoaderTest, ChunkThatLeftTheStoreFailsTheLoad) {
  OpenStore(10);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 10);
  SaveAll(c);
  std::vector<Hash128> chunks = c.hashes;
  chunks.push_back(Hash128{42, 42});
  auto loader = MakeLoader();
  RecordingSink sink;
  EXPECT_EQ(loader->Start(chunks, &sink)->Wait().code(), StatusCode::kNotFound);
  EXPECT_TRUE(sink.order.empty());
}

TEST_P(LoaderTest, CancelStopsTheLoad) {
  OpenStore(10);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 10);
  SaveAll(c);
  auto loader = MakeLoader();
  GatedSink sink;
  auto h = loader->Start(c.hashes, &sink);
  ASSERT_TRUE(h->WaitLayer(0).ok());
  h->Cancel();
  EXPECT_EQ(h->WaitLayer(1).code(), StatusCode::kCancelled);
  sink.Open();
  EXPECT_EQ(h->Wait().code(), StatusCode::kCancelled);
}

INSTANTIATE_TEST_SUITE_P(Io, LoaderTest,
                         ::testing::Values(Loader::Io::kInline, Loader::Io::kUring,
                                           Loader::Io::kThreads),
                         [](const auto& p) {
                           return p.param == Loader::Io::kInline  ? std::string("inline")
                                  : p.param == Loader::Io::kUring ? std::string("uring")
                                                                  : std::string("threads");
                         });

}  // namespace
}  // namespace cellar
