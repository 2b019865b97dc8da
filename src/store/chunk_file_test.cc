#include "store/chunk_file.h"

#include <gtest/gtest.h>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"
#include "store/codec.h"
#include "store/disk_tier.h"
#include "store/store_test_util.h"

namespace cellar {
namespace {

using testing::MakeConversation;
using testing::TinyShape;

const Hash128 kModel{0xabc, 0xdef};

EncodedChunk SampleChunk(Codec codec = Codec::kRaw) {
  auto conv = MakeConversation(TinyShape(), 4, 2, 10);
  return EncodeChunk(conv.chunks[1], TinyShape(), codec);
}

TEST(ChunkFileTest, RoundTripAndExactLayout) {
  const EncodedChunk chunk = SampleChunk();
  const auto bytes = SerializeChunkFile(chunk, TinyShape(), kModel, 1234567);
  // 96 fixed + 4 tokens * 4 + 2 layers * 16 + 4 header CRC, then 2 * 128 bytes.
  ASSERT_EQ(bytes.size(), 148u + 256u);
  EXPECT_EQ(ChunkFileBytes(chunk), bytes.size());
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "CELLARKV");
  EXPECT_EQ(bytes[8], 1);  // version 1, little-endian
  EXPECT_EQ(*PeekChunkHeaderBytes(bytes), 148u);
  auto h = ParseChunkHeader(bytes);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->meta.hash, chunk.meta.hash);
  EXPECT_EQ(h->meta.parent, chunk.meta.parent);
  EXPECT_EQ(h->meta.first_token, 4u);
  EXPECT_EQ(h->meta.tokens, chunk.meta.tokens);
  EXPECT_EQ(h->model, kModel);
  EXPECT_EQ(h->shape, TinyShape());
  EXPECT_EQ(h->codec, Codec::kRaw);
  EXPECT_EQ(h->created_unix_ms, 1234567);
  ASSERT_EQ(h->layers.size(), 2u);
  EXPECT_EQ(h->layers[0].offset, 148u);
  EXPECT_EQ(h->layers[1].offset, 148u + 128u);
  EXPECT_EQ(h->FileBytes(), bytes.size());
  for (int l = 0; l < 2; ++l) {
    const auto& seg = h->layers[static_cast<size_t>(l)];
    EXPECT_TRUE(VerifySegment(seg, {bytes.data() + seg.offset, seg.size}, l).ok());
  }
  EXPECT_TRUE(CheckChunkHeaderMatches(*h, kModel, TinyShape()).ok());
  EXPECT_EQ(CheckChunkHeaderMatches(*h, Hash128{1, 2}, TinyShape()).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckChunkHeaderMatches(*h, kModel, TinyShape(KvType::kF16)).code(),
            StatusCode::kFailedPrecondition);
}

TEST(ChunkFileTest, EveryFlippedHeaderByteIsDetected) {
  const auto bytes = SerializeChunkFile(SampleChunk(), TinyShape(), kModel, 1);
  const uint32_t header_bytes = *PeekChunkHeaderBytes(bytes);
  for (size_t i = 0; i < header_bytes; ++i) {
    auto bad = bytes;
    bad[i] ^= 0x01;
    EXPECT_FALSE(ParseChunkHeader(bad).ok()) << "byte " << i;
  }
}

TEST(ChunkFileTest, EveryFlippedSegmentByteIsDetected) {
  const auto bytes = SerializeChunkFile(SampleChunk(Codec::kInt8Zstd), TinyShape(), kModel, 1);
  auto h = ParseChunkHeader(bytes);
  ASSERT_TRUE(h.ok());
  for (int l = 0; l < 2; ++l) {
    const auto& seg = h->layers[static_cast<size_t>(l)];
    for (uint32_t i = 0; i < seg.size; ++i) {
      auto bad = bytes;
      bad[seg.offset + i] ^= 0x80;
      EXPECT_EQ(VerifySegment(seg, {bad.data() + seg.offset, seg.size}, l).code(),
                StatusCode::kDataLoss);
    }
  }
}

TEST(ChunkFileTest, OtherVersionAndTruncatedHeader) {
  auto bytes = SerializeChunkFile(SampleChunk(), TinyShape(), kModel, 1);
  auto v2 = bytes;
  v2[8] = 2;
  EXPECT_EQ(PeekChunkHeaderBytes(v2).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParseChunkHeader(std::span<const uint8_t>(bytes).first(100)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ParseChunkHeader(std::span<const uint8_t>(bytes).first(50)).status().code(),
            StatusCode::kDataLoss);
}

TEST(ChunkFileTest, FileNames) {
  const Hash128 h{0x0123456789abcdefull, 0xfedcba9876543210ull};
  EXPECT_EQ(ChunkFileName(h), "fedcba98765432100123456789abcdef.kv");
  Hash128 back;
  ASSERT_TRUE(ParseChunkFileName(ChunkFileName(h), &back));
  EXPECT_EQ(back, h);
  EXPECT_FALSE(ParseChunkFileName("fedcba98765432100123456789abcdeF.kv", &back));
  EXPECT_FALSE(ParseChunkFileName("fedcba98765432100123456789abcdef.kv.tmp", &back));
  EXPECT_FALSE(ParseChunkFileName("notes.txt", &back));
}

TEST(DiskTierTest, ScanKeepsGoodFilesAndRemovesBadOnes) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string() + "/d";
  auto tier = DiskTier::Open({dir, TinyShape(), kModel, Env::Default()});
  ASSERT_TRUE(tier.ok());
  auto conv = MakeConversation(TinyShape(), 4, 6, 10);
  std::vector<EncodedChunk> enc;
  for (const auto& c : conv.chunks) {
    enc.push_back(EncodeChunk(c, TinyShape(), Codec::kRaw));
    ASSERT_TRUE((*tier)->Write(enc.back(), 1).ok());
  }
  const auto path = [&](int i) { return (*tier)->PathFor(conv.hashes[static_cast<size_t>(i)]); };
  testing::TruncateFile(path(1), 300);  // torn body
  testing::CorruptByte(path(2), 20);    // header byte
  // Another model's file under this model's directory.
  auto other = SerializeChunkFile(enc[3], TinyShape(), Hash128{7, 7}, 1);
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path(3), other).ok());
  // A file whose name is not its hash.
  std::filesystem::rename(path(4), (*tier)->PathFor(Hash128{1, 1}));
  // Leftovers and strangers.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir + "/x.kv.tmp", other).ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir + "/README", other).ok());
  std::filesystem::remove(dir + "/README.tmp");
  std::filesystem::rename(dir + "/x.kv.tmp", dir + "/y.kv.tmp");
  auto scan = (*tier)->Scan();
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->chunks.size(), 2u);
  std::vector<Hash128> kept = {scan->chunks[0].meta.hash, scan->chunks[1].meta.hash};
  EXPECT_TRUE((kept == std::vector<Hash128>{conv.hashes[0], conv.hashes[5]}) ||
              (kept == std::vector<Hash128>{conv.hashes[5], conv.hashes[0]}));
  EXPECT_EQ(scan->removed_corrupt, 3);   // truncated, bad header, misnamed
  EXPECT_EQ(scan->removed_mismatch, 1);  // other model
  EXPECT_EQ(scan->removed_temporary, 1);
  EXPECT_EQ(scan->ignored, 1);
  EXPECT_FALSE(std::filesystem::exists(path(1)));
  EXPECT_TRUE(std::filesystem::exists(dir + "/README"));
  // A second scan finds exactly the good ones.
  EXPECT_EQ((*tier)->Scan()->chunks.size(), 2u);
}

TEST(DiskTierTest, ReadVerifiesEveryLayer) {
  testing::TempDir tmp;
  testing::FaultEnv env;
  auto tier = DiskTier::Open({tmp.path().string(), TinyShape(), kModel, &env});
  ASSERT_TRUE(tier.ok());
  const EncodedChunk chunk = SampleChunk();
  auto h = (*tier)->Write(chunk, 1);
  ASSERT_TRUE(h.ok());
  auto good = (*tier)->Read(*h);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ((*good)->layers, chunk.layers);
  env.SetFlipByteOnRead(chunk.meta.hash.ToHex(), h->layers[1].offset + 5);
  EXPECT_EQ((*tier)->Read(*h).status().code(), StatusCode::kDataLoss);
  env.ClearFaults();
  testing::TruncateFile((*tier)->PathFor(chunk.meta.hash), h->FileBytes() - 1);
  EXPECT_EQ((*tier)->Read(*h).status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE((*tier)->Remove(chunk.meta.hash).ok());
  EXPECT_EQ((*tier)->Read(*h).status().code(), StatusCode::kNotFound);
}

TEST(DiskTierTest, TornWriteIsCaughtAtScan) {
  testing::TempDir tmp;
  testing::FaultEnv env;
  auto tier = DiskTier::Open({tmp.path().string(), TinyShape(), kModel, &env});
  ASSERT_TRUE(tier.ok());
  env.SetTornWrites(".kv", 200);  // only 200 of the file's bytes reach the disk
  ASSERT_TRUE((*tier)->Write(SampleChunk(), 1).ok());  // and nobody notices now
  env.ClearFaults();
  auto scan = (*tier)->Scan();
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->chunks.size(), 0u);
  EXPECT_EQ(scan->removed_corrupt, 1);
}

TEST(DiskTierTest, WriteRecreatesAVanishedDirectory) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string() + "/store/model";
  auto tier = DiskTier::Open({dir, TinyShape(), kModel, Env::Default()});
  ASSERT_TRUE(tier.ok());
  testing::RemoveDirAll(tmp.path().string() + "/store");
  auto h = (*tier)->Write(SampleChunk(), 1);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE((*tier)->Read(*h).ok());
}

}  // namespace
}  // namespace cellar
