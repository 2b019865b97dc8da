#include "replay/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cellar::replay {
namespace {

TEST(ParsePrometheusText, NamesLabelsValuesAndComments) {
  const char* text =
      "# HELP cellar_store_hit_tokens_total Prompt tokens reused.\n"
      "# TYPE cellar_store_hit_tokens_total counter\n"
      "cellar_store_hit_tokens_total{tier=\"dram\",model=\"a\"} 1200\n"
      "cellar_store_hit_tokens_total{ tier = \"disk\" , } 3e2 1700000000000\n"
      "cellar_store_miss_tokens_total 500\r\n"
      "\n"
      "odd_label{path=\"C:\\\\x\\\"y\\n\"} +Inf\n"
      "neg -1.5\n";
  auto r = ParsePrometheusText(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].name, "cellar_store_hit_tokens_total");
  EXPECT_EQ((*r)[0].labels.at("tier"), "dram");
  EXPECT_EQ((*r)[0].labels.at("model"), "a");
  EXPECT_DOUBLE_EQ((*r)[0].value, 1200);
  EXPECT_EQ((*r)[1].labels.at("tier"), "disk");
  EXPECT_DOUBLE_EQ((*r)[1].value, 300);
  EXPECT_DOUBLE_EQ((*r)[2].value, 500);
  EXPECT_EQ((*r)[3].labels.at("path"), "C:\\x\"y\n");
  EXPECT_TRUE(std::isinf((*r)[3].value));
  EXPECT_DOUBLE_EQ((*r)[4].value, -1.5);
}

TEST(ParsePrometheusText, MalformedLinesAreErrorsWithTheirNumber) {
  auto a = ParsePrometheusText("ok 1\nbad{tier=\"x} 2\n");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParsePrometheusText("x notanumber\n").ok());
  EXPECT_FALSE(ParsePrometheusText("9x 1\n").ok());
}

TEST(TierCounts, DiffAndHitRates) {
  auto before = ParsePrometheusText(
      "cellar_store_hit_tokens_total{tier=\"pool\"} 100\n"
      "cellar_store_hit_tokens_total{tier=\"dram\"} 50\n"
      "cellar_store_miss_tokens_total 1000\n");
  auto after = ParsePrometheusText(
      "cellar_store_hit_tokens_total{tier=\"pool\"} 400\n"
      "cellar_store_hit_tokens_total{tier=\"dram\",model=\"m\"} 450\n"
      "cellar_store_hit_tokens_total{tier=\"dram\",model=\"n\"} 100\n"
      "cellar_store_hit_tokens_total{tier=\"disk\"} 200\n"
      "cellar_store_miss_tokens_total 1500\n");
  ASSERT_TRUE(before.ok() && after.ok());
  auto b = ExtractTierCounts(*before);
  auto a = ExtractTierCounts(*after);
  ASSERT_TRUE(a && b);
  TierCounts d = DiffTierCounts(*a, *b);
  EXPECT_DOUBLE_EQ(d.hit_tokens.at("pool"), 300);
  EXPECT_DOUBLE_EQ(d.hit_tokens.at("dram"), 500);
  EXPECT_DOUBLE_EQ(d.hit_tokens.at("disk"), 200);
  EXPECT_DOUBLE_EQ(d.miss_tokens, 500);
  EXPECT_DOUBLE_EQ(d.TotalTokens(), 1500);
  EXPECT_DOUBLE_EQ(d.HitRate("dram"), 500.0 / 1500);
  EXPECT_DOUBLE_EQ(d.HitRate("remote"), 0.0);
  EXPECT_DOUBLE_EQ(d.TotalHitRate(), 1000.0 / 1500);

  auto other = ParsePrometheusText("http_requests_total 3\n");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(ExtractTierCounts(*other).has_value());
  EXPECT_TRUE(std::isnan(TierCounts{}.HitRate("pool")));
}

}  // namespace
}  // namespace cellar::replay
