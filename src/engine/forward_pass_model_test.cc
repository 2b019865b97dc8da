// The forward pass against llama.cpp's golden outputs (../shared/golden) on the
// real stories260K model and on the random-weight tiny models of every weight
// type. Tolerances are derived from the spreads those READMEs measured for
// llama.cpp itself (see the constants below and docs/ENGINE.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "base/thread_pool.h"
#include "engine/golden_test_util.h"
#include "engine/local_session.h"
#include "model/model.h"

namespace cellar {
namespace {

using testing::GoldenPrompt;
using testing::GreedyRun;
using testing::LoadGolden;
using testing::MaxAbsDiff;

// Checks one prompt: full last-position logits within `tol`, the top-k ids in the
// golden order wherever neighbours are more than 2 * tol apart, and the greedy ids
// up to the first golden step whose top-2 margin is below 2 * tol (where a
// difference of tol on each logit could legitimately swap the two).
void ExpectMatches(const std::string& what, const GoldenPrompt& g, const GreedyRun& r, double tol,
                   size_t top_k) {
  const double diff = MaxAbsDiff(r.prompt_logits, g.full);
  EXPECT_LE(diff, tol) << what << ": max |logit - golden| over the vocabulary";
  for (size_t i = 0; i < top_k && i < g.top.size(); ++i) {
    const auto [id, logit] = g.top[i];
    EXPECT_NEAR(r.prompt_logits[static_cast<size_t>(id)], logit, tol) << what << " top " << i;
    if (i + 1 < g.top.size() && g.top[i].second - g.top[i + 1].second > 2 * tol) {
      EXPECT_GT(r.prompt_logits[static_cast<size_t>(id)],
                r.prompt_logits[static_cast<size_t>(g.top[i + 1].first)])
          << what << " order of top " << i;
    }
  }
  size_t checked = 0;
  while (checked < g.greedy_ids.size() && g.greedy_margins[checked] >= 2 * tol) ++checked;
  ASSERT_GE(r.ids.size(), checked);
  for (size_t i = 0; i < checked; ++i) {
    ASSERT_EQ(r.ids[i], g.greedy_ids[i]) << what << " greedy step " << i << " of " << checked;
  }
  std::printf("  %-40s max|dlogit| %.3g (tol %.3g), greedy ids equal for %zu/%zu checked steps\n",
              what.c_str(), diff, tol, checked, g.greedy_ids.size());
}

std::unique_ptr<LocalSession> NewSession(const Model& m, ThreadPool* pool, KvType kv) {
  LocalSessionOptions o;
  o.n_ctx = 1024;  // as the golden runs
  o.kv_type = kv;
  auto s = LocalSession::Create(m, pool, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// stories260K (F32 weights). llama.cpp's own batch-vs-token-by-token spread is
// <= 6.7e-6 on logits of magnitude ~15; our kernels sum in another order (we
// measured <= 1.2e-5). 5e-5 is ~7x llama.cpp's spread and 200x below the smallest
// golden top-2 margin (0.0104), so every golden greedy id is checked.
constexpr double kStoriesTol = 5e-5;

TEST(ForwardPassModelTest, Stories260KMatchesGoldenWithF32Kv) {
  CELLAR_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  auto model = Model::Load(model_path.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ThreadPool pool(1);
  for (const auto& g : LoadGolden(golden_path)) {
    auto s = NewSession(**model, &pool, KvType::kF32);
    const GreedyRun r = testing::RunGreedy(*s, g.prompt_ids, static_cast<int>(g.greedy_ids.size()));
    ASSERT_EQ(r.ids.size(), g.greedy_ids.size());
    EXPECT_EQ(r.ids, g.greedy_ids) << g.id;  // all 64 tokens: every margin >= 0.0104
    ExpectMatches("stories260K " + g.id, g, r, kStoriesTol, 10);
  }
}

// F16 KV against the F32-KV golden: llama.cpp's own F16-KV run differs from it by
// kv_f16_max_diff (recorded per prompt, 0.0013..0.016). Ours rounds the same K/V
// to f16 but not Q (llama.cpp also rounds Q and the softmax weights to f16), so
// we allow that spread twice plus the F32 tolerance.
TEST(ForwardPassModelTest, Stories260KMatchesGoldenWithF16Kv) {
  CELLAR_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  auto model = Model::Load(model_path.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ThreadPool pool(1);
  for (const auto& g : LoadGolden(golden_path)) {
    auto s = NewSession(**model, &pool, KvType::kF16);
    const GreedyRun r = testing::RunGreedy(*s, g.prompt_ids, static_cast<int>(g.greedy_ids.size()));
    ExpectMatches("stories260K f16-KV " + g.id, g, r, kStoriesTol + 2 * g.kv_f16_max_diff, 10);
  }
}

// Tiny random-weight models: tolerance per file, from ../shared/golden/tiny/README.md.
//  - F32 (llama, qwen2): llama.cpp's token-by-token spread is 3.6e-7 on logits ~1;
//    we measured <= 1.1e-6; 1e-5 allows float summation order only.
//  - F16: llama.cpp's spread 2.4e-4 (activations rounded to f16 on one path);
//    2x that = 4.8e-4 (we measured <= 3.4e-4).
//  - BF16: spread 1.6e-3; 2x = 3.2e-3 (measured <= 1.9e-3).
//  - Quantized: llama.cpp quantizes activations to Q8_0/Q8_K, so any tiny
//    perturbation flips some int8 roundings; its own F16-KV-vs-F32-KV spread
//    shows that effect (Q8_0 0.0109, Q4_0 0.0135, K-quants 0.017, qwen2 Q8_0
//    0.0132). We allow 2x the largest spread of the file type; every such
//    tolerance stays well below that format's distance from F32 except Q8_0's.
//    (We measured Q8_0 1.2e-7, Q4_0 0.013, Q4_K_M 0.011, Q5_K_M 0.012,
//    Q6_K 0.014, qwen2 Q8_0 0.007.)
// With F16 KV, add 2x the file's recorded F16-KV spread (as for stories260K).
const std::map<std::string, double>& TinyTolerances() {
  static const std::map<std::string, double> t{
      {"tiny-llama-F32", 1e-5},     {"tiny-llama-F16", 4.8e-4}, {"tiny-llama-BF16", 3.2e-3},
      {"tiny-llama-Q8_0", 0.022},   {"tiny-llama-Q4_0", 0.027}, {"tiny-llama-Q4_K_M", 0.034},
      {"tiny-llama-Q5_K_M", 0.034}, {"tiny-llama-Q6_K", 0.034}, {"tiny-qwen2-F32", 1e-5},
      {"tiny-qwen2-Q8_0", 0.026}};
  return t;
}

class TinyModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyModelTest, MatchesGolden) {
  const std::string name = GetParam();
  CELLAR_REQUIRE_SHARED(model_path, "models/tiny/" + name + ".gguf");
  CELLAR_REQUIRE_SHARED(golden_path, "golden/tiny/" + name + ".json");
  auto model = Model::Load(model_path.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const double tol = TinyTolerances().at(name);
  ThreadPool pool(1);
  for (const auto& g : LoadGolden(golden_path)) {
    for (KvType kv : {KvType::kF32, KvType::kF16}) {
      auto s = NewSession(**model, &pool, kv);
      const GreedyRun r =
          testing::RunGreedy(*s, g.prompt_ids, static_cast<int>(g.greedy_ids.size()));
      const double t = kv == KvType::kF32 ? tol : tol + 2 * g.kv_f16_max_diff;
      ExpectMatches(name + " " + g.id + " kv " + std::string(KvTypeName(kv)), g, r, t, 20);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Files, TinyModelTest,
                         ::testing::Values("tiny-llama-F32", "tiny-llama-F16", "tiny-llama-BF16",
                                           "tiny-llama-Q8_0", "tiny-llama-Q4_0",
                                           "tiny-llama-Q4_K_M", "tiny-llama-Q5_K_M",
                                           "tiny-llama-Q6_K", "tiny-qwen2-F32", "tiny-qwen2-Q8_0"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (auto& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace cellar
