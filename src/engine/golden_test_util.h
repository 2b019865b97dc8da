// Test helpers: llama.cpp golden outputs (../shared/golden, see its README) and a
// greedy runner over LocalSession, shared by the engine's model tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"
#include "engine/local_session.h"
#include "engine/sampling.h"

namespace cellar::testing {

struct GoldenPrompt {
  std::string id;
  std::string text;
  std::vector<int32_t> prompt_ids;
  std::vector<std::pair<int32_t, float>> top;  // last_logits_top
  std::vector<float> full;                     // last_logits_full
  std::vector<int32_t> greedy_ids;
  std::vector<float> greedy_margins;  // steps[i].margin
  double tokenwise_max_diff = 0;
  double kv_f16_max_diff = 0;
};

inline std::vector<GoldenPrompt> LoadGolden(const std::filesystem::path& path) {
  const auto j = nlohmann::json::parse(ReadFileToString(path));
  std::vector<GoldenPrompt> out;
  for (const auto& p : j.at("prompts")) {
    GoldenPrompt g;
    g.id = p.at("id").get<std::string>();
    g.text = p.at("text").get<std::string>();
    g.prompt_ids = p.at("prompt_token_ids").get<std::vector<int32_t>>();
    for (const auto& t : p.at("last_logits_top"))
      g.top.emplace_back(t[0].get<int32_t>(), t[1].get<float>());
    g.full = p.at("last_logits_full").get<std::vector<float>>();
    g.greedy_ids = p.at("greedy").at("ids").get<std::vector<int32_t>>();
    for (const auto& s : p.at("greedy").at("steps"))
      g.greedy_margins.push_back(s.at("margin").get<float>());
    g.tokenwise_max_diff = p.at("tokenwise").at("max_abs_diff_vs_batch").get<double>();
    g.kv_f16_max_diff = p.at("kv_f16_batch").at("max_abs_diff_vs_batch").get<double>();
    out.push_back(std::move(g));
  }
  return out;
}

inline double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return a.size() == b.size() ? m : 1e30;
}

struct GreedyRun {
  std::vector<float> prompt_logits;  // logits at the last prompt position
  std::vector<int32_t> ids;          // greedy continuation
};

// Feeds the prompt in one go, then greedily generates n_gen tokens one at a time.
inline GreedyRun RunGreedy(LocalSession& s, const std::vector<int32_t>& prompt, int n_gen) {
  GreedyRun r;
  auto logits = s.Feed(prompt);
  EXPECT_TRUE(logits.ok()) << logits.status().ToString();
  if (!logits.ok()) return r;
  r.prompt_logits.assign(logits->begin(), logits->end());
  std::vector<float> cur = r.prompt_logits;
  for (int i = 0; i < n_gen; ++i) {
    const int32_t id = ArgMax(cur);
    r.ids.push_back(id);
    if (i + 1 == n_gen) break;
    const int32_t one[1] = {id};
    auto next = s.Feed(one);
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok()) break;
    cur.assign(next->begin(), next->end());
  }
  return r;
}

}  // namespace cellar::testing
