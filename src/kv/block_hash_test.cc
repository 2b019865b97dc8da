#include "kv/block_hash.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace cellar {
namespace {

const BlockHashContext kCtx{Hash128{0x0102030405060708ull, 0x1112131415161718ull},
                            Hash128{0x2122232425262728ull, 0x3132333435363738ull}};

TEST(BlockHashTest, HashesTheDocumentedByteLayout) {
  const std::vector<TokenId> tokens = {1, 2, 300, -1};
  const Hash128 parent{0xa1a2a3a4a5a6a7a8ull, 0xb1b2b3b4b5b6b7b8ull};
  // The bytes of docs/KV_POOL.md / block_hash.h, written out by hand.
  std::vector<uint8_t> bytes = {'C', 'L', 'K', 'V', 'B', 'H', '0', '1'};
  auto put64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put64(parent.lo);
  put64(parent.hi);
  put64(kCtx.model_fingerprint.lo);
  put64(kCtx.model_fingerprint.hi);
  put64(kCtx.tenant_salt.lo);
  put64(kCtx.tenant_salt.hi);
  for (uint8_t b : {4, 0, 0, 0}) bytes.push_back(b);
  for (uint8_t b : {1, 0, 0, 0, 2, 0, 0, 0, 0x2c, 1, 0, 0, 0xff, 0xff, 0xff, 0xff}) {
    bytes.push_back(b);
  }
  ASSERT_EQ(bytes.size(), 60u + 16u);
  EXPECT_EQ(HashBlock(parent, tokens, kCtx), Xxh3_128(bytes, 0));

  const std::string salt_bytes = "CLTENANT01alice";
  EXPECT_EQ(MakeTenantSalt("alice"),
            Xxh3_128({reinterpret_cast<const uint8_t*>(salt_bytes.data()), salt_bytes.size()}, 0));
}

TEST(BlockHashTest, KnownValuesAreStable) {
  // Pinned values: a change here renames every chunk in every store. Only change
  // them together with the version tag in the layout.
  const std::vector<TokenId> tokens = {1, 2, 3, 4};
  EXPECT_EQ(HashBlock(kRootBlockHash, tokens, kCtx).ToHex(), "bebc757db9ae1a5a271129a261555332");
  EXPECT_EQ(MakeTenantSalt("").ToHex(), "23ea6820dc88d2b4733ef48696feeee1");
  EXPECT_EQ(MakeTenantSalt("alice").ToHex(), "b0c37e0a4a59befa5eca465c18c77377");
}

TEST(BlockHashTest, EveryInputChangesTheHash) {
  const std::vector<TokenId> tokens = {5, 6, 7, 8};
  const Hash128 base = HashBlock(kRootBlockHash, tokens, kCtx);
  // Same tokens under a different parent.
  EXPECT_NE(HashBlock(Hash128{1, 0}, tokens, kCtx), base);
  // Different tenant salt.
  BlockHashContext other_tenant = kCtx;
  other_tenant.tenant_salt = MakeTenantSalt("bob");
  EXPECT_NE(HashBlock(kRootBlockHash, tokens, other_tenant), base);
  // Different model.
  BlockHashContext other_model = kCtx;
  other_model.model_fingerprint.hi ^= 1;
  EXPECT_NE(HashBlock(kRootBlockHash, tokens, other_model), base);
  // Token order and count matter.
  EXPECT_NE(HashBlock(kRootBlockHash, std::vector<TokenId>{5, 6, 8, 7}, kCtx), base);
  EXPECT_NE(HashBlock(kRootBlockHash, std::vector<TokenId>{5, 6, 7}, kCtx), base);
  // And nothing else does: same inputs, same hash.
  EXPECT_EQ(HashBlock(kRootBlockHash, std::vector<TokenId>{5, 6, 7, 8}, kCtx), base);
  EXPECT_NE(MakeTenantSalt("alice"), MakeTenantSalt("bob"));
}

TEST(BlockHashTest, ChainsFullBlocksOnly) {
  std::vector<TokenId> tokens;
  for (int i = 0; i < 11; ++i) tokens.push_back(100 + i);
  const std::vector<Hash128> hashes = HashFullBlocks(tokens, 4, kCtx);
  ASSERT_EQ(hashes.size(), 2u);  // 11 tokens = 2 full blocks of 4 + 3 left over
  const std::span<const TokenId> all(tokens);
  const Hash128 h0 = HashBlock(kRootBlockHash, all.subspan(0, 4), kCtx);
  const Hash128 h1 = HashBlock(h0, all.subspan(4, 4), kCtx);
  EXPECT_EQ(hashes[0], h0);
  EXPECT_EQ(hashes[1], h1);
  // The second block's hash depends on the first block's tokens.
  std::vector<TokenId> changed = tokens;
  changed[0] = 0;
  const std::vector<Hash128> changed_hashes = HashFullBlocks(changed, 4, kCtx);
  EXPECT_NE(changed_hashes[0], h0);
  EXPECT_NE(changed_hashes[1], h1);

  // Incremental extension gives the same chain.
  std::vector<Hash128> incremental;
  ExtendBlockHashes(all.first(5), 4, kCtx, &incremental);
  EXPECT_EQ(incremental.size(), 1u);
  ExtendBlockHashes(all, 4, kCtx, &incremental);
  EXPECT_EQ(incremental, hashes);
}

}  // namespace
}  // namespace cellar
