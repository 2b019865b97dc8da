#include "replay/kv_sizing.h"

#include <gtest/gtest.h>

namespace cellar::replay {
namespace {

TEST(KvShape, ParsesAndComputesBytesPerToken) {
  auto s = ParseKvShape("5,4,8");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->BytesPerToken(), 2 * 5 * 4 * 8 * 2);  // stories260K, f16: 640
  auto l = ParseKvShape("32,8,128,2");               // Llama-3-8B, f16: 128 KiB
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->BytesPerToken(), 131072);
  EXPECT_FALSE(ParseKvShape("5,4").ok());
  EXPECT_FALSE(ParseKvShape("5,4,8,2,1").ok());
  EXPECT_FALSE(ParseKvShape("5,,8").ok());
  EXPECT_FALSE(ParseKvShape("5,4,0").ok());
  EXPECT_FALSE(ParseKvShape("5,4,8,").ok());
}

TEST(Sizes, FormatAndParse) {
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(1000), "1000");
  EXPECT_EQ(FormatSize(1024), "1K");
  EXPECT_EQ(FormatSize(3 << 20), "3M");
  EXPECT_EQ(FormatSize((3 << 20) + 1), "4M");  // rounded up
  EXPECT_EQ(FormatSize(int64_t{5} << 30), "5G");
  EXPECT_EQ(*ParseSize("512M"), int64_t{512} << 20);
  EXPECT_EQ(*ParseSize("2g"), int64_t{2} << 30);
  EXPECT_EQ(*ParseSize("64KiB"), 64 << 10);
  EXPECT_EQ(*ParseSize("1TB"), int64_t{1} << 40);
  EXPECT_EQ(*ParseSize("123"), 123);
  EXPECT_FALSE(ParseSize("12X").ok());
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("-1M").ok());
  EXPECT_FALSE(ParseSize("99999999999T").ok());
}

TEST(EstimateWorkloadKv, LastPromptPlusGeneratedTokensPerTurn) {
  Workload w;
  Conversation a;
  a.system = "ssss";                                   // 4 chars
  a.turns = {{"uuuu", "aaaaaaaa"}, {"uuuuuuuu", ""}};  // last prompt: 4+4+8+8 = 24 chars
  Conversation b;
  b.turns = {{"uuuuuuuuuuuu", "a"}};  // 12 chars
  w.conversations = {a, b};
  // chars_per_token 4, max_tokens 10: a = 6 + 2*10 = 26 tokens, b = 3 + 10 = 13.
  WorkloadKv kv = EstimateWorkloadKv(w, 100, 4.0, 10);
  EXPECT_EQ(kv.n_conversations, 2);
  EXPECT_DOUBLE_EQ(kv.total_tokens, 39);
  EXPECT_DOUBLE_EQ(kv.max_conversation_tokens, 26);
  EXPECT_DOUBLE_EQ(kv.mean_conversation_tokens, 19.5);
  EXPECT_EQ(kv.total_bytes, 3900);
  EXPECT_EQ(kv.max_conversation_bytes, 2600);
}

TEST(SuggestTierSizes, DramHoldsAFractionDiskHoldsEverything) {
  WorkloadKv kv;
  kv.total_bytes = int64_t{400} << 20;           // 400 MiB
  kv.max_conversation_bytes = int64_t{2} << 20;  // 2 MiB
  TierSizes t = SuggestTierSizes(kv, 4, 0.25);
  EXPECT_EQ(t.kv_mem, int64_t{10} << 20);  // 1.25 * 4 running * 2 MiB
  EXPECT_EQ(SuggestTierSizes(kv, 2, 0.25).kv_mem, int64_t{5} << 20);
  EXPECT_EQ(t.store_dram, int64_t{100} << 20);
  EXPECT_EQ(t.store_disk, int64_t{800} << 20);
  EXPECT_LT(t.store_dram, kv.total_bytes);  // the paper's regime: DRAM cannot hold it all
  const std::string text = DescribeSizing(kv, t);
  EXPECT_NE(text.find("--kv-mem 10M --store-dram 100M --store-disk 800M"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("warning"), std::string::npos);
  kv.max_conversation_bytes = int64_t{100} << 20;
  EXPECT_NE(DescribeSizing(kv, SuggestTierSizes(kv, 4, 0.25)).find("warning"), std::string::npos);
}

}  // namespace
}  // namespace cellar::replay
