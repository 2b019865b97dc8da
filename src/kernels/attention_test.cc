#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "base/fp16.h"

namespace cellar {
namespace {

// A small pool in the working pool's layout: per block, a K tile then a V tile,
// each [n_kv_heads][block_size][head_dim].
struct FakePool {
  GgmlType type;
  int32_t n_blocks, block_size, n_kv_heads, head_dim;
  std::vector<uint8_t> bytes;

  size_t Elem() const { return type == GgmlType::kF16 ? 2 : 4; }
  size_t TileBytes() const {
    return static_cast<size_t>(n_kv_heads) * block_size * head_dim * Elem();
  }
  PagedKvView View() const {
    PagedKvView v;
    v.type = type;
    v.k = bytes.data();
    v.v = bytes.data() + TileBytes();
    v.block_stride = static_cast<int64_t>(2 * TileBytes());
    v.block_size = block_size;
    v.n_kv_heads = n_kv_heads;
    v.head_dim = head_dim;
    return v;
  }
};

FakePool MakePool(GgmlType type, int32_t n_blocks, int32_t block_size, int32_t n_kv_heads,
                  int32_t head_dim, uint64_t seed) {
  FakePool p{type, n_blocks, block_size, n_kv_heads, head_dim, {}};
  const size_t n = 2 * p.TileBytes() * static_cast<size_t>(n_blocks) / p.Elem();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  p.bytes.resize(n * p.Elem());
  for (size_t i = 0; i < n; ++i) {
    const float f = dist(rng);
    if (type == GgmlType::kF16) {
      const uint16_t h = FloatToFp16(f);
      std::memcpy(p.bytes.data() + 2 * i, &h, 2);
    } else {
      std::memcpy(p.bytes.data() + 4 * i, &f, 4);
    }
  }
  return p;
}

TEST(AttentionTest, EveryIsaMatchesReferenceOverPagedBlocks) {
  struct Shape {
    int32_t block_size, n_kv_heads, head_dim;
  };
  const std::vector<Shape> shapes{{16, 2, 8}, {16, 4, 64}, {5, 3, 17}, {16, 1, 128},
                                  {7, 2, 80}, {1, 2, 33},  {4, 1, 272}};
  for (GgmlType type : {GgmlType::kF16, GgmlType::kF32}) {
    for (const Shape& s : shapes) {
      const int32_t n_blocks = 40;
      const FakePool pool = MakePool(type, n_blocks, s.block_size, s.n_kv_heads, s.head_dim,
                                     static_cast<uint64_t>(s.head_dim * 31 + s.block_size));
      // The sequence's blocks are a shuffled subset of the pool.
      std::vector<int32_t> table(n_blocks);
      std::iota(table.begin(), table.end(), 0);
      std::shuffle(table.begin(), table.end(), std::mt19937(s.head_dim));
      for (int32_t n_group : {1, 2, 3, 4, 5, 8, 9}) {
        for (int32_t n_keys : {1, 2, 15, 16, 17, 38}) {
          if (n_keys > n_blocks * s.block_size) continue;
          std::mt19937_64 rng(static_cast<uint64_t>(n_group * 1000 + n_keys));
          std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
          std::vector<float> q(static_cast<size_t>(n_group * s.head_dim));
          for (auto& x : q) x = dist(rng);
          for (int32_t kv_head = 0; kv_head < s.n_kv_heads; ++kv_head) {
            std::vector<float> want(q.size()), scratch(AttentionScratchFloats(n_group, n_keys));
            AttentionArgs a;
            a.q = q.data();
            a.n_group = n_group;
            a.kv_head = kv_head;
            a.block_table = table.data();
            a.n_keys = n_keys;
            a.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
            a.scratch = scratch.data();
            a.out = want.data();
            PagedAttentionReference(pool.View(), a);
            for (IsaLevel isa : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
              if (!IsaSupported(isa)) continue;
              std::vector<float> got(q.size(), 1e30f);
              a.out = got.data();
              PagedAttentionWithIsa(isa, pool.View(), a);
              for (size_t i = 0; i < got.size(); ++i) {
                // f32 vs double accumulation over <= 272 products and <= 38 keys.
                ASSERT_NEAR(got[i], want[i], 2e-5f)
                    << IsaName(isa) << " type=" << GgmlTypeName(type) << " d=" << s.head_dim
                    << " bs=" << s.block_size << " group=" << n_group << " keys=" << n_keys
                    << " head=" << kv_head << " i=" << i;
              }
            }
          }
        }
      }
    }
  }
}

TEST(AttentionTest, OneKeyReturnsItsValueAndEqualKeysAverageValues) {
  for (GgmlType type : {GgmlType::kF16, GgmlType::kF32}) {
    FakePool pool = MakePool(type, 2, 4, 1, 8, 3);
    const std::vector<int32_t> table{1, 0};
    // Make the K rows of positions 0..2 identical (block 1 slots 0..2).
    const size_t row = 8 * pool.Elem();
    uint8_t* k_block1 = pool.bytes.data() + 2 * pool.TileBytes();
    std::memcpy(k_block1 + row, k_block1, row);
    std::memcpy(k_block1 + 2 * row, k_block1, row);
    std::vector<float> q(8, 0.3f), out(8), scratch(AttentionScratchFloats(1, 3));
    AttentionArgs a;
    a.q = q.data();
    a.block_table = table.data();
    a.scratch = scratch.data();
    a.out = out.data();
    a.scale = 0.5f;
    std::vector<float> v(3 * 8);
    LoadKvRow(type, k_block1 + pool.TileBytes(), v.data(), 24);  // V rows 0..2
    a.n_keys = 1;
    PagedAttention(pool.View(), a);
    for (int i = 0; i < 8; ++i)
      EXPECT_NEAR(out[static_cast<size_t>(i)], v[static_cast<size_t>(i)], 1e-6f);
    a.n_keys = 3;
    PagedAttention(pool.View(), a);
    for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(out[i], (v[i] + v[8 + i] + v[16 + i]) / 3.0f, 1e-5f);
  }
}

TEST(AttentionTest, StoreAndLoadRowsRoundTripWithExactF16Rounding) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
  for (int64_t n : {1, 7, 8, 9, 64, 129}) {
    std::vector<float> src(static_cast<size_t>(n));
    for (auto& x : src) x = dist(rng) * (rng() % 2 ? 1e-6f : 1.0f);
    std::vector<uint16_t> h(src.size());
    StoreKvRow(GgmlType::kF16, src.data(), h.data(), n);
    for (size_t i = 0; i < src.size(); ++i) ASSERT_EQ(h[i], FloatToFp16(src[i])) << src[i];
    std::vector<float> back(src.size());
    LoadKvRow(GgmlType::kF16, h.data(), back.data(), n);
    for (size_t i = 0; i < src.size(); ++i) ASSERT_EQ(back[i], Fp16ToFloat(h[i]));
    std::vector<float> f(src.size());
    StoreKvRow(GgmlType::kF32, src.data(), f.data(), n);
    EXPECT_EQ(f, src);
  }
}

}  // namespace
}  // namespace cellar
