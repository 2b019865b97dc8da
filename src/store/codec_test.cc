#include "store/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "base/fp16.h"

namespace cellar {
namespace {

float Elem(const uint8_t* p, KvType t, size_t i) {
  if (t == KvType::kF32) {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * i, 2);
  return Fp16ToFloat(h);
}

// A chunk of random KV with a few outlier key channels (like real keys).
RawChunk RandomChunk(const KvShape& s, int n_tokens, uint32_t seed) {
  RawChunk c;
  c.meta.tokens.resize(static_cast<size_t>(n_tokens));
  for (int i = 0; i < n_tokens; ++i) c.meta.tokens[static_cast<size_t>(i)] = i * 7 + 1;
  c.data.resize(s.RawBytes(n_tokens));
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const size_t n = c.data.size() / KvTypeBytes(s.type);
  for (size_t i = 0; i < n; ++i) {
    float x = nd(rng);
    if (i % static_cast<size_t>(s.head_dim) == 3) x = x * 20.0f + 15.0f;  // outlier channel
    if (s.type == KvType::kF32) {
      std::memcpy(c.data.data() + 4 * i, &x, 4);
    } else {
      const uint16_t h = FloatToFp16(x);
      std::memcpy(c.data.data() + 2 * i, &h, 2);
    }
  }
  return c;
}

class CodecTest : public ::testing::TestWithParam<KvType> {};

TEST_P(CodecTest, RawRoundTripIsExact) {
  const KvShape s{3, 2, 8, GetParam()};
  const RawChunk raw = RandomChunk(s, 16, 1);
  for (Codec c : {Codec::kRaw, Codec::kRawZstd}) {
    const EncodedChunk enc = EncodeChunk(raw, s, c);
    ASSERT_EQ(enc.layers.size(), 3u);
    auto back = DecodeChunk(enc, s);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->data, raw.data) << CodecName(c);
    EXPECT_EQ(back->meta.tokens, raw.meta.tokens);
  }
}

TEST_P(CodecTest, Int8ErrorWithinHalfAStepPerGroup) {
  const KvShape s{2, 3, 16, GetParam()};
  const int T = 32, H = s.n_kv_heads, D = s.head_dim;
  const RawChunk raw = RandomChunk(s, T, 2);
  const EncodedChunk enc = EncodeChunk(raw, s, Codec::kInt8);
  EXPECT_EQ(enc.layers[0].size(), PlainSegmentBytes(Codec::kInt8, s, T));
  auto back = DecodeChunk(enc, s);
  ASSERT_TRUE(back.ok());
  const KvType t = s.type;
  // f16 output adds its own rounding: half an ulp, 2^-11 relative.
  auto out_round = [t](float x) { return t == KvType::kF16 ? std::fabs(x) * 0x1p-11f : 0.0f; };
  double max_err_k = 0, max_err_v = 0;
  for (int l = 0; l < s.n_layers; ++l) {
    const uint8_t* k = raw.K(s, l);
    const uint8_t* k2 = back->K(s, l);
    for (int h = 0; h < H; ++h) {
      for (int d = 0; d < D; ++d) {
        float mn = INFINITY, mx = -INFINITY;
        for (int i = 0; i < T; ++i) {
          const float x = Elem(k, t, (static_cast<size_t>(h) * T + i) * D + d);
          mn = std::min(mn, x);
          mx = std::max(mx, x);
        }
        const float half_step = (mx - mn) / 255.0f / 2.0f;
        for (int i = 0; i < T; ++i) {
          const size_t idx = (static_cast<size_t>(h) * T + i) * D + d;
          const float x = Elem(k, t, idx), y = Elem(k2, t, idx);
          ASSERT_LE(std::fabs(x - y), half_step * 1.001f + out_round(x) + 1e-6f)
              << "K layer " << l << " head " << h << " dim " << d << " token " << i;
          max_err_k = std::max(max_err_k, static_cast<double>(std::fabs(x - y)));
        }
      }
    }
    const uint8_t* v = raw.V(s, l);
    const uint8_t* v2 = back->V(s, l);
    for (int g = 0; g < H * T; ++g) {
      float mn = INFINITY, mx = -INFINITY;
      for (int d = 0; d < D; ++d) {
        const float x = Elem(v, t, static_cast<size_t>(g) * D + d);
        mn = std::min(mn, x);
        mx = std::max(mx, x);
      }
      const float half_step = (mx - mn) / 255.0f / 2.0f;
      for (int d = 0; d < D; ++d) {
        const size_t idx = static_cast<size_t>(g) * D + d;
        const float x = Elem(v, t, idx), y = Elem(v2, t, idx);
        ASSERT_LE(std::fabs(x - y), half_step * 1.001f + out_round(x) + 1e-6f)
            << "V layer " << l << " group " << g << " dim " << d;
        max_err_v = std::max(max_err_v, static_cast<double>(std::fabs(x - y)));
      }
    }
  }
  // The quantization really happened (not a raw copy).
  EXPECT_GT(max_err_k, 0.0);
  EXPECT_GT(max_err_v, 0.0);
}

TEST_P(CodecTest, Int8ZstdDecodesLikeInt8AndTranscodesLosslessly) {
  const KvShape s{2, 2, 8, GetParam()};
  const RawChunk raw = RandomChunk(s, 16, 3);
  auto int8 = std::make_shared<const EncodedChunk>(EncodeChunk(raw, s, Codec::kInt8));
  const EncodedChunk z = EncodeChunk(raw, s, Codec::kInt8Zstd);
  EXPECT_EQ(DecodeChunk(z, s)->data, DecodeChunk(*int8, s)->data);
  auto zz = Transcode(int8, s, Codec::kInt8Zstd);
  ASSERT_TRUE(zz.ok());
  EXPECT_EQ((*zz)->codec, Codec::kInt8Zstd);
  auto back = Transcode(*zz, s, Codec::kInt8);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)->layers, int8->layers);  // bit-identical: quantized once only
  auto same = Transcode(int8, s, Codec::kInt8);
  EXPECT_EQ(same->get(), int8.get());
  // int8 -> raw gives the dequantized values; raw -> int8 again re-quantizes
  // those, which is exact (they already sit on the grid) up to output rounding.
  auto as_raw = Transcode(int8, s, Codec::kRaw);
  ASSERT_TRUE(as_raw.ok());
  EXPECT_EQ(DecodeChunk(**as_raw, s)->data, DecodeChunk(*int8, s)->data);
}

INSTANTIATE_TEST_SUITE_P(Types, CodecTest, ::testing::Values(KvType::kF16, KvType::kF32),
                         [](const auto& p) { return std::string(KvTypeName(p.param)); });

TEST(CodecTest, MalformedSegmentsAreDataLoss) {
  const KvShape s{1, 2, 8, KvType::kF16};
  const RawChunk raw = RandomChunk(s, 16, 4);
  std::vector<uint8_t> k(s.HalfLayerBytes(16)), v(k.size());
  for (Codec c : {Codec::kRaw, Codec::kInt8, Codec::kRawZstd, Codec::kInt8Zstd}) {
    auto seg = EncodeLayer(c, s, 16, raw.K(s, 0), raw.V(s, 0));
    ASSERT_TRUE(DecodeLayer(c, s, 16, seg, k.data(), v.data()).ok());
    auto short_seg = seg;
    short_seg.pop_back();
    EXPECT_EQ(DecodeLayer(c, s, 16, short_seg, k.data(), v.data()).code(), StatusCode::kDataLoss)
        << CodecName(c);
  }
}

TEST(CodecTest, Int8SizeIsOneBytePerElementPlusScaleTables) {
  const KvShape s{4, 4, 64, KvType::kF16};
  const int T = 64;
  const RawChunk raw = RandomChunk(s, T, 5);
  const size_t tokens = T * sizeof(int32_t);
  const size_t raw_bytes = EncodeChunk(raw, s, Codec::kRaw).Bytes();
  EXPECT_EQ(raw_bytes, tokens + 4u * (2 * 4 * 64 * 64 * 2));
  // Per layer: 2*H*T*D codes, K min+scale per (h, d), V min+scale per (h, t), f32.
  const size_t int8_bytes = EncodeChunk(raw, s, Codec::kInt8).Bytes();
  EXPECT_EQ(int8_bytes, tokens + 4u * (2 * 4 * 64 * 64 + 8 * 4 * 64 + 8 * 4 * 64));
}

TEST(CodecTest, Names) {
  for (Codec c : {Codec::kRaw, Codec::kInt8, Codec::kRawZstd, Codec::kInt8Zstd}) {
    EXPECT_EQ(*ParseCodec(CodecName(c)), c);
  }
  EXPECT_FALSE(ParseCodec("int4").ok());
}

}  // namespace
}  // namespace cellar
