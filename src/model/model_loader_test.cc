#include "model/model_loader.h"

#include <gtest/gtest.h>

#include "model/model.h"
#include "model/model_loader_test_util.h"

namespace cellar {
namespace {

using testing::BuildTestModel;
using testing::TestModelSpec;

// Keeps the bytes alive as long as the model that views them.
struct Loaded {
  std::vector<uint8_t> bytes;
  Result<std::unique_ptr<Model>> model = Internal("not loaded");
};

std::unique_ptr<Loaded> Load(const TestModelSpec& spec) {
  auto l = std::make_unique<Loaded>();
  l->bytes = BuildTestModel(spec);
  auto file = GgufFile::Parse(l->bytes);
  if (!file.ok()) {
    l->model = file.status();
    return l;
  }
  l->model = Model::FromGguf(std::move(file).value());
  return l;
}

TEST(ModelLoaderTest, LoadsLlamaWithEveryHyperparameterFromMetadata) {
  TestModelSpec spec;
  auto l = Load(spec);
  ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
  const ModelHParams& hp = (*l->model)->hparams();
  EXPECT_EQ(hp.arch, "llama");
  EXPECT_EQ(hp.n_vocab, 64);
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_layer, 2);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.head_dim, 16);
  EXPECT_EQ(hp.n_ff, 96);
  EXPECT_EQ(hp.n_ctx_train, 256);
  EXPECT_FLOAT_EQ(hp.rms_eps, 1e-5f);
  EXPECT_EQ(hp.rope.style, RopeStyle::kNormal);
  EXPECT_EQ(hp.rope.n_rot, 16);
  EXPECT_FLOAT_EQ(hp.rope.freq_base, 10000.0f);
  EXPECT_FLOAT_EQ(hp.rope.freq_scale, 1.0f);
  EXPECT_EQ(hp.rope.ext_factor, 0.0f);
  const ModelWeights& w = (*l->model)->weights();
  EXPECT_FALSE(w.tied_output);
  ASSERT_EQ(w.layers.size(), 2u);
  EXPECT_EQ(w.layers[1].wq.rows, 64);
  EXPECT_EQ(w.layers[1].wk.rows, 32);
  EXPECT_EQ(w.layers[1].ffn_down.cols, 96);
  EXPECT_EQ(w.layers[0].bq, nullptr);
}

TEST(ModelLoaderTest, HeadDimComesFromKeyLength) {
  TestModelSpec spec;
  spec.key_length = 24;  // != n_embd / n_head = 16
  auto l = Load(spec);
  ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
  EXPECT_EQ((*l->model)->hparams().head_dim, 24);
  EXPECT_EQ((*l->model)->hparams().rope.n_rot, 24);
  EXPECT_EQ((*l->model)->weights().layers[0].wq.rows, 4 * 24);
}

TEST(ModelLoaderTest, Qwen2UsesNeoxRopeAndRequiresQkvBiases) {
  TestModelSpec spec;
  spec.arch = "qwen2";
  spec.qkv_bias = true;
  auto l = Load(spec);
  ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
  EXPECT_EQ((*l->model)->hparams().rope.style, RopeStyle::kNeox);
  EXPECT_NE((*l->model)->weights().layers[1].bv, nullptr);

  spec.skip_tensors = {"blk.1.attn_k.bias"};
  l = Load(spec);
  ASSERT_FALSE(l->model.ok());
  EXPECT_EQ(l->model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(l->model.status().message().find("blk.1.attn_k.bias"), std::string::npos);
}

TEST(ModelLoaderTest, TiedEmbeddingsUseTokenEmbd) {
  TestModelSpec spec;
  spec.tied = true;
  auto l = Load(spec);
  ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
  const ModelWeights& w = (*l->model)->weights();
  EXPECT_TRUE(w.tied_output);
  EXPECT_EQ(w.output.data, w.token_embd.data);
  EXPECT_EQ(w.output.rows, 64);
}

TEST(ModelLoaderTest, RopeFreqsAndScalingAreBound) {
  TestModelSpec spec;
  spec.rope_freqs = true;
  spec.rope_scaling = "yarn";
  spec.rope_scaling_factor = 4.0f;
  auto l = Load(spec);
  ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
  const ModelHParams& hp = (*l->model)->hparams();
  EXPECT_NE(hp.rope.freq_factors, nullptr);
  EXPECT_EQ(hp.rope.freq_factors, (*l->model)->weights().rope_freqs);
  EXPECT_EQ(hp.rope_scaling, RopeScaling::kYarn);
  EXPECT_FLOAT_EQ(hp.rope.freq_scale, 0.25f);
  EXPECT_EQ(hp.rope.ext_factor, 1.0f);
  EXPECT_EQ(hp.rope.n_ctx_orig, 256);

  spec.rope_scaling = "longrope";
  l = Load(spec);
  ASSERT_FALSE(l->model.ok());
  EXPECT_EQ(l->model.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(l->model.status().message().find("longrope"), std::string::npos);

  spec.rope_scaling = "none";  // factor ignored
  l = Load(spec);
  ASSERT_TRUE(l->model.ok());
  EXPECT_FLOAT_EQ((*l->model)->hparams().rope.freq_scale, 1.0f);
}

TEST(ModelLoaderTest, UnsupportedArchitectureIsNamed) {
  TestModelSpec spec;
  spec.arch = "gpt2";
  auto l = Load(spec);
  ASSERT_FALSE(l->model.ok());
  EXPECT_EQ(l->model.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(l->model.status().message().find("'gpt2'"), std::string::npos);
  EXPECT_NE(l->model.status().message().find("llama, qwen2"), std::string::npos);
  EXPECT_FALSE(FindArchitecture("phi3").ok());
  EXPECT_EQ(SupportedArchitectures().size(), 2u);
}

TEST(ModelLoaderTest, MissingTensorIsNamed) {
  TestModelSpec spec;
  spec.skip_tensors = {"blk.1.ffn_up.weight"};
  auto l = Load(spec);
  ASSERT_FALSE(l->model.ok());
  EXPECT_EQ(l->model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(l->model.status().message().find("blk.1.ffn_up.weight"), std::string::npos);
  spec.skip_tensors = {"output_norm.weight"};
  l = Load(spec);
  EXPECT_NE(l->model.status().message().find("output_norm.weight"), std::string::npos);
}

TEST(ModelLoaderTest, MisShapedTensorIsNamedWithBothShapes) {
  for (const char* name :
       {"blk.0.attn_k.weight", "token_embd.weight", "blk.1.ffn_norm.weight", "output.weight"}) {
    TestModelSpec spec;
    spec.bad_shape_tensor = name;
    auto l = Load(spec);
    ASSERT_FALSE(l->model.ok()) << name;
    EXPECT_EQ(l->model.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(l->model.status().message().find(name), std::string::npos)
        << l->model.status().ToString();
    EXPECT_NE(l->model.status().message().find("expected"), std::string::npos);
  }
}

TEST(ModelLoaderTest, InconsistentHeadsAreRejected) {
  TestModelSpec spec;
  spec.n_head = 4;
  spec.n_head_kv = 3;
  auto l = Load(spec);
  ASSERT_FALSE(l->model.ok());
  EXPECT_NE(l->model.status().message().find("head_count"), std::string::npos)
      << l->model.status().ToString();
}

TEST(ModelLoaderTest, DescribesModelLikeLlamaBench) {
  TestModelSpec spec;
  spec.matrix_type = GgmlType::kQ8_0;
  auto l = Load(spec);
  ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
  EXPECT_EQ((*l->model)->Describe(), "llama 70K Q8_0");
  EXPECT_GT((*l->model)->n_bytes(), 0);
}

}  // namespace
}  // namespace cellar
