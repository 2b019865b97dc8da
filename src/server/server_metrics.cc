#include "server/server_metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace cellar {
namespace {

std::string FormatValue(double v) { return fmt::format("{}", v); }

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Sample(std::string* out, std::string_view name, uint64_t value) {
  fmt::format_to(std::back_inserter(*out), "{} {}\n", name, value);
}

std::string_view EndpointLabel(std::string_view path) {
  for (std::string_view known :
       {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"}) {
    if (path == known) return known;
  }
  return "other";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                       bounds_.begin());
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::Render(std::string_view name, std::string* out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"{}\"}} {}\n", name,
                   FormatValue(bounds_[i]), cumulative);
  }
  cumulative += counts_.back();
  fmt::format_to(std::back_inserter(*out), "{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  fmt::format_to(std::back_inserter(*out), "{}_sum {}\n{}_count {}\n", name, FormatValue(sum_),
                 name, count_);
}

ServerMetrics::ServerMetrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      duration_({0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void ServerMetrics::OnResponse(std::string_view path, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++responses_[{std::string(EndpointLabel(path)), status}];
}

void ServerMetrics::OnRequestFinished(const RequestSummary& s) {
  std::lock_guard<std::mutex> lock(mu_);
  ++finished_[std::string(FinishReasonName(s.finish_reason))];
  prompt_tokens_ += static_cast<uint64_t>(s.n_prompt_tokens);
  cached_tokens_ += static_cast<uint64_t>(s.n_cached_tokens);
  generated_tokens_ += static_cast<uint64_t>(s.n_completion_tokens);
  if (s.first_token_nanos >= 0) ttft_.Observe(s.ttft_seconds());
  duration_.Observe(static_cast<double>(s.finish_nanos - s.arrival_nanos) * 1e-9);
}

void ServerMetrics::OnInterTokenLatency(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  itl_.Observe(seconds);
}

std::string ServerMetrics::Render(const EngineStats& e) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  Header(&out, "cellar_requests_total", "counter",
         "HTTP responses sent, by endpoint and status code.");
  for (const auto& [key, n] : responses_) {
    fmt::format_to(std::back_inserter(out),
                   "cellar_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first,
                   key.second, n);
  }
  Header(&out, "cellar_requests_finished_total", "counter",
         "Generations ended, by reason (stop, length, cancelled, error).");
  for (const auto& [reason, n] : finished_) {
    fmt::format_to(std::back_inserter(out), "cellar_requests_finished_total{{reason=\"{}\"}} {}\n",
                   reason, n);
  }
  Header(&out, "cellar_prompt_tokens_total", "counter", "Prompt tokens of finished generations.");
  Sample(&out, "cellar_prompt_tokens_total", prompt_tokens_);
  Header(&out, "cellar_cached_tokens_total", "counter",
         "Prompt tokens of finished generations whose KV was reused (usage cached_tokens).");
  Sample(&out, "cellar_cached_tokens_total", cached_tokens_);
  Header(&out, "cellar_generated_tokens_total", "counter",
         "Completion tokens of finished generations.");
  Sample(&out, "cellar_generated_tokens_total", generated_tokens_);
  Header(&out, "cellar_time_to_first_token_seconds", "histogram",
         "From submission to the first generated token.");
  ttft_.Render("cellar_time_to_first_token_seconds", &out);
  Header(&out, "cellar_inter_token_latency_seconds", "histogram",
         "Between consecutive generated tokens of one request.");
  itl_.Render("cellar_inter_token_latency_seconds", &out);
  Header(&out, "cellar_request_duration_seconds", "histogram",
         "From submission to the end of a generation.");
  duration_.Render("cellar_request_duration_seconds", &out);

  Header(&out, "cellar_queue_length", "gauge", "Requests waiting for admission.");
  Sample(&out, "cellar_queue_length", static_cast<uint64_t>(e.n_waiting));
  Header(&out, "cellar_running_requests", "gauge", "Requests holding KV pool blocks.");
  Sample(&out, "cellar_running_requests", static_cast<uint64_t>(e.n_running));
  Header(&out, "cellar_pool_blocks_total", "gauge", "Blocks in the KV pool.");
  Sample(&out, "cellar_pool_blocks_total", static_cast<uint64_t>(e.n_blocks_total));
  Header(&out, "cellar_pool_blocks_used", "gauge",
         "KV pool blocks referenced by running requests.");
  Sample(&out, "cellar_pool_blocks_used", static_cast<uint64_t>(e.n_blocks_used));
  Header(&out, "cellar_pool_blocks_cached", "gauge",
         "KV pool blocks holding reusable (hashed) KV, in use or free.");
  Sample(&out, "cellar_pool_blocks_cached", static_cast<uint64_t>(e.n_blocks_cached));
  Header(&out, "cellar_engine_steps_total", "counter", "Engine steps (forward passes).");
  Sample(&out, "cellar_engine_steps_total", e.n_steps);
  Header(&out, "cellar_preemptions_total", "counter", "Requests preempted (recomputed later).");
  Sample(&out, "cellar_preemptions_total", e.n_preemptions);
  Header(&out, "cellar_computed_tokens_total", "counter",
         "Tokens run through the forward pass (prefill and decode).");
  Sample(&out, "cellar_computed_tokens_total", e.n_computed_tokens);
  Header(&out, "cellar_store_hit_tokens_total", "counter",
         "Prompt tokens whose KV was reused instead of computed, by tier.");
  for (const auto& [tier, n] : e.hit_tokens_by_tier) {
    fmt::format_to(std::back_inserter(out), "cellar_store_hit_tokens_total{{tier=\"{}\"}} {}\n",
                   tier, n);
  }
  Header(&out, "cellar_store_miss_tokens_total", "counter",
         "Prompt tokens that had to be computed (prefilled).");
  Sample(&out, "cellar_store_miss_tokens_total", e.n_miss_tokens);
  return out;
}

}  // namespace cellar
