#include "server/server_metrics.h"

#include <gtest/gtest.h>

namespace cellar {
namespace {

TEST(Histogram, CumulativeBuckets) {
  Histogram h({0.25, 1.0});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  std::string out;
  h.Render("x", &out);
  EXPECT_EQ(out,
            "x_bucket{le=\"0.25\"} 2\n"
            "x_bucket{le=\"1\"} 3\n"
            "x_bucket{le=\"+Inf\"} 4\n"
            "x_sum 7.875\n"
            "x_count 4\n");
}

TEST(ServerMetrics, RendersCountersAndEngineGauges) {
  ServerMetrics m;
  m.OnResponse("/v1/chat/completions", 200);
  m.OnResponse("/v1/chat/completions", 200);
  m.OnResponse("/v1/completions", 400);
  m.OnResponse("/nope", 404);
  RequestSummary s;
  s.finish_reason = FinishReason::kLength;
  s.n_prompt_tokens = 10;
  s.n_cached_tokens = 8;
  s.n_completion_tokens = 5;
  s.arrival_nanos = 1'000'000'000;
  s.first_token_nanos = 1'020'000'000;
  s.finish_nanos = 1'100'000'000;
  m.OnRequestFinished(s);
  m.OnInterTokenLatency(0.003);
  EngineStats e;
  e.n_waiting = 2;
  e.n_running = 3;
  e.n_blocks_total = 100;
  e.n_blocks_used = 7;
  e.n_blocks_cached = 9;
  e.hit_tokens_by_tier["pool"] = 8;
  e.n_miss_tokens = 2;
  const std::string text = m.Render(e);
  for (const char* line : {
           "cellar_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n",
           "cellar_requests_total{endpoint=\"/v1/completions\",status=\"400\"} 1\n",
           "cellar_requests_total{endpoint=\"other\",status=\"404\"} 1\n",
           "cellar_requests_finished_total{reason=\"length\"} 1\n",
           "cellar_prompt_tokens_total 10\n",
           "cellar_cached_tokens_total 8\n",
           "cellar_generated_tokens_total 5\n",
           "cellar_time_to_first_token_seconds_bucket{le=\"0.025\"} 1\n",
           "cellar_time_to_first_token_seconds_bucket{le=\"0.01\"} 0\n",
           "cellar_time_to_first_token_seconds_count 1\n",
           "cellar_inter_token_latency_seconds_bucket{le=\"0.005\"} 1\n",
           "cellar_request_duration_seconds_count 1\n",
           "cellar_queue_length 2\n",
           "cellar_running_requests 3\n",
           "cellar_pool_blocks_total 100\n",
           "cellar_pool_blocks_used 7\n",
           "cellar_pool_blocks_cached 9\n",
           "cellar_store_hit_tokens_total{tier=\"pool\"} 8\n",
           "cellar_store_miss_tokens_total 2\n",
           "# TYPE cellar_time_to_first_token_seconds histogram\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

}  // namespace
}  // namespace cellar
