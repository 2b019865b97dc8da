#include "replay/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cellar::replay {
namespace {

TEST(Percentile, LinearInterpolationBetweenClosestRanks) {
  const std::vector<double> x = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(Percentile(x, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(Percentile(x, 0.5), 2.5);    // h = 1.5
  EXPECT_DOUBLE_EQ(Percentile(x, 0.9), 3.7);    // h = 2.7
  EXPECT_DOUBLE_EQ(Percentile(x, 0.99), 3.97);  // h = 2.97
  EXPECT_DOUBLE_EQ(Percentile(x, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(Percentile({7.0}, 0.9), 7.0);
}

TEST(Describe, SortsAndSummarizes) {
  Distribution d = Describe({10, 0, 30, 20, 40});  // sorted: 0 10 20 30 40
  EXPECT_EQ(d.n, 5);
  EXPECT_DOUBLE_EQ(d.mean, 20);
  EXPECT_DOUBLE_EQ(d.p50, 20);
  EXPECT_DOUBLE_EQ(d.p90, 36);    // h = 3.6
  EXPECT_DOUBLE_EQ(d.p99, 39.6);  // h = 3.96
  EXPECT_DOUBLE_EQ(d.min, 0);
  EXPECT_DOUBLE_EQ(d.max, 40);
  Distribution empty = Describe({});
  EXPECT_EQ(empty.n, 0);
  EXPECT_TRUE(std::isnan(empty.mean));
}

RequestRecord Rec(int turn, double t_send, double ttft, double e2e, int64_t prompt, int64_t cached,
                  int64_t completion) {
  RequestRecord r;
  r.turn = turn;
  r.t_send = t_send;
  r.ttft_s = ttft;
  r.e2e_s = e2e;
  r.http_status = 200;
  r.prompt_tokens = prompt;
  r.cached_tokens = cached;
  r.completion_tokens = completion;
  if (completion > 1) r.tpot_s = (e2e - ttft) / static_cast<double>(completion - 1);
  return r;
}

TEST(Summarize, HandMadeRun) {
  std::vector<RequestRecord> recs = {
      Rec(1, 1.0, 0.10, 0.50, 100, 0, 5),    // 1
      Rec(1, 1.5, 0.30, 0.70, 300, 0, 5),    // 1
      Rec(2, 2.0, 0.05, 0.45, 400, 300, 5),  // 2
      Rec(3, 3.0, 0.02, 0.42, 500, 450, 5),  // 3
      Rec(5, 4.0, 0.04, 0.44, 600, 500, 5),  // 4-7
      Rec(9, 5.0, 0.09, 1.00, 700, 600, 5),  // 8+
  };
  RequestRecord warm = Rec(1, 0.0, 9.0, 9.5, 1000, 0, 5);
  warm.warmup = true;
  RequestRecord err = Rec(2, 2.5, -1, 0.1, -1, -1, -1);
  err.http_status = 500;
  err.error = "HTTP 500: boom";
  RequestRecord cancelled = Rec(4, 5.5, -1, 0.2, -1, -1, -1);
  cancelled.cancelled = true;
  cancelled.error = "cancelled";
  recs.push_back(warm);
  recs.push_back(err);
  recs.push_back(cancelled);

  RunSummary s = Summarize(recs);
  EXPECT_EQ(s.n_records, 9);
  EXPECT_EQ(s.n_warmup, 1);
  EXPECT_EQ(s.n_errors, 1);
  EXPECT_EQ(s.errors.at("HTTP 500: boom"), 1);
  EXPECT_EQ(s.n_cancelled, 1);
  EXPECT_EQ(s.n_measured, 6);
  EXPECT_EQ(s.n_no_token, 0);

  // TTFT sorted: .02 .04 .05 .09 .10 .30
  EXPECT_EQ(s.ttft_s.n, 6);
  EXPECT_DOUBLE_EQ(s.ttft_s.mean, 0.60 / 6);
  EXPECT_DOUBLE_EQ(s.ttft_s.p50, 0.07);                  // h = 2.5
  EXPECT_NEAR(s.ttft_s.p90, 0.20, 1e-12);                // h = 4.5: .10 + .5 * .20
  EXPECT_NEAR(s.ttft_s.p99, 0.10 + 0.95 * 0.20, 1e-12);  // h = 4.95

  ASSERT_EQ(s.ttft_by_turn_s.size(), 5u);
  EXPECT_EQ(s.ttft_by_turn_s[0].n, 2);
  EXPECT_DOUBLE_EQ(s.ttft_by_turn_s[0].mean, 0.20);
  EXPECT_EQ(s.ttft_by_turn_s[1].n, 1);
  EXPECT_DOUBLE_EQ(s.ttft_by_turn_s[1].mean, 0.05);
  EXPECT_DOUBLE_EQ(s.ttft_by_turn_s[2].mean, 0.02);
  EXPECT_DOUBLE_EQ(s.ttft_by_turn_s[3].mean, 0.04);
  EXPECT_DOUBLE_EQ(s.ttft_by_turn_s[4].mean, 0.09);

  EXPECT_EQ(s.prompt_tokens, 2600);
  EXPECT_EQ(s.cached_tokens, 1850);
  EXPECT_DOUBLE_EQ(s.cached_share, 1850.0 / 2600.0);
  EXPECT_DOUBLE_EQ(s.prefill_tokens_per_s, 2600.0 / 0.60);
  EXPECT_EQ(s.completion_tokens, 30);
  // Window: first measured send 1.0 to last end 5.0 + 1.0.
  EXPECT_DOUBLE_EQ(s.window_s, 5.0);
  EXPECT_DOUBLE_EQ(s.requests_per_s, 6 / 5.0);
  EXPECT_DOUBLE_EQ(s.output_tokens_per_s, 30 / 5.0);
  EXPECT_EQ(s.tpot_s.n, 6);
  EXPECT_DOUBLE_EQ(s.tpot_s.min, 0.40 / 4);
}

TEST(Summarize, NoUsageLeavesCacheNumbersUnknown) {
  RequestRecord r = Rec(1, 0, 0.1, 0.2, -1, -1, -1);
  RunSummary s = Summarize({r});
  EXPECT_EQ(s.n_measured, 1);
  EXPECT_EQ(s.n_with_usage, 0);
  EXPECT_TRUE(std::isnan(s.cached_share));
  EXPECT_TRUE(std::isnan(s.prefill_tokens_per_s));
}

}  // namespace
}  // namespace cellar::replay
