#include "kv/kv_storage.h"

#include <gtest/gtest.h>

#include <set>

namespace cellar {
namespace {

TEST(KvStorageTest, TilesAreDisjointAndSized) {
  KvLayout layout{.n_layers = 3,
                  .n_kv_heads = 2,
                  .head_dim = 8,
                  .block_size = 4,
                  .n_blocks = 5,
                  .type = KvType::kF16};
  EXPECT_EQ(layout.TileElems(), 2u * 4u * 8u);
  EXPECT_EQ(layout.TileBytes(), 128u);
  EXPECT_EQ(layout.BlockBytes(), 2u * 128u * 3u);
  EXPECT_EQ(layout.BytesPerToken(), 2u * 3u * 2u * 8u * 2u);
  EXPECT_EQ(layout.BlocksForBytes(layout.BlockBytes() * 7 + 1), 7);
  auto s = KvStorage::Create(layout);
  ASSERT_TRUE(s.ok());
  std::set<const void*> tiles;
  for (int l = 0; l < 3; ++l) {
    for (int b = 0; b < 5; ++b) {
      tiles.insert((*s)->K(l, b));
      tiles.insert((*s)->V(l, b));
      // Adjacent tiles are TileBytes apart: no overlap.
      EXPECT_EQ(
          static_cast<const uint8_t*>((*s)->V(l, b)) - static_cast<const uint8_t*>((*s)->K(l, b)),
          static_cast<ptrdiff_t>(layout.TileBytes()));
    }
  }
  EXPECT_EQ(tiles.size(), 30u);
}

TEST(KvStorageTest, RejectsEmptyLayout) {
  KvLayout layout;
  EXPECT_EQ(KvStorage::Create(layout).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cellar
