// `cellar make-model`: runs the binary on small custom shapes and reads the
// files back: tensor names, shapes and types (llama-quantize's mixes and
// fallbacks), metadata, the copied tokenizer, weight statistics, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "kernels/dequantize.h"

namespace cellar {
namespace {

int RunCellar(const std::string& args) {
  const std::string cmd = std::string(CELLAR_BINARY) + " " + args + " > /dev/null 2>&1";
  return std::system(cmd.c_str());
}

std::map<std::string, GgmlType> TypesByName(const GgufFile& f) {
  std::map<std::string, GgmlType> m;
  for (const auto& t : f.tensors()) m[t.name] = t.type;
  return m;
}

TEST(MakeModelTest, LlamaQ4KMMixAndMetadata) {
  CELLAR_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
  testing::TempDir dir;
  const std::string out = (dir.path() / "m.gguf").string();
  ASSERT_EQ(RunCellar("make-model --shape custom --layers 8 --embd 256 --heads 8 --kv-heads 2 "
                      "--head-dim 32 --ff 512 --ctx 1024 --rope-theta 5000 --rms-eps 1e-6 "
                      "--type q4_k_m --seed 7 --vocab " +
                      vocab.string() + " -o " + out),
            0);
  auto f = GgufFile::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const GgufFile& g = **f;
  EXPECT_EQ(g.architecture(), "llama");
  EXPECT_EQ(*g.GetUint("llama.block_count"), 8u);
  EXPECT_EQ(*g.GetUint("llama.embedding_length"), 256u);
  EXPECT_EQ(*g.GetUint("llama.feed_forward_length"), 512u);
  EXPECT_EQ(*g.GetUint("llama.attention.head_count"), 8u);
  EXPECT_EQ(*g.GetUint("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(*g.GetUint("llama.rope.dimension_count"), 32u);
  EXPECT_EQ(*g.GetUint("llama.context_length"), 1024u);
  EXPECT_EQ(*g.GetUint("llama.vocab_size"), 512u);
  EXPECT_FLOAT_EQ(static_cast<float>(*g.GetFloat("llama.rope.freq_base")), 5000.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(*g.GetFloat("llama.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(*g.GetUint("general.file_type"), 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_EQ(*g.GetUint("general.quantization_version"), 2u);

  // Tokenizer copied key by key.
  auto v = GgufFile::Open(vocab.string());
  ASSERT_TRUE(v.ok());
  int n_tok_keys = 0;
  for (const auto& [key, value] : (*v)->metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    ++n_tok_keys;
    ASSERT_TRUE(g.Has(key)) << key;
  }
  EXPECT_GT(n_tok_keys, 3);
  EXPECT_EQ(*g.GetStringArray("tokenizer.ggml.tokens"),
            *(*v)->GetStringArray("tokenizer.ggml.tokens"));
  EXPECT_EQ(*g.GetUint("tokenizer.ggml.bos_token_id"),
            *(*v)->GetUint("tokenizer.ggml.bos_token_id"));

  // 1 + 8 * 9 + 2 tensors; use_more_bits(i, 8) is true for blocks 0, 3, 6, 7.
  EXPECT_EQ(g.tensors().size(), 75u);
  const auto types = TypesByName(g);
  EXPECT_EQ(types.at("token_embd.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(types.at("output.weight"), GgmlType::kQ6_K);
  EXPECT_EQ(types.at("output_norm.weight"), GgmlType::kF32);
  for (int l = 0; l < 8; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const bool more = l == 0 || l == 3 || l == 6 || l == 7;
    const GgmlType expect_vd = more ? GgmlType::kQ6_K : GgmlType::kQ4_K;
    EXPECT_EQ(types.at(p + "attn_v.weight"), expect_vd) << l;
    EXPECT_EQ(types.at(p + "ffn_down.weight"), expect_vd) << l;
    for (const char* n : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) {
      EXPECT_EQ(types.at(p + n + ".weight"), GgmlType::kQ4_K) << p << n;
    }
    EXPECT_EQ(types.at(p + "attn_norm.weight"), GgmlType::kF32);
    EXPECT_EQ(types.at(p + "ffn_norm.weight"), GgmlType::kF32);
  }
  const GgufTensorInfo* q = g.FindTensor("blk.2.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dims, (std::vector<int64_t>{256, 256}));
  EXPECT_EQ(g.FindTensor("blk.2.attn_k.weight")->dims, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(g.FindTensor("blk.2.ffn_down.weight")->dims, (std::vector<int64_t>{512, 256}));
  EXPECT_EQ(g.FindTensor("output.weight")->dims, (std::vector<int64_t>{256, 512}));

  // Norms are exactly 1; weights have mean ~0 and std ~0.02.
  const GgufTensorInfo* norm = g.FindTensor("blk.5.ffn_norm.weight");
  std::vector<float> nv(256);
  ASSERT_TRUE(DequantizeRow(GgmlType::kF32, norm->data.data(), nv.data(), 256).ok());
  for (float x : nv) ASSERT_EQ(x, 1.0f);
  const GgufTensorInfo* up = g.FindTensor("blk.1.ffn_up.weight");
  std::vector<float> w(static_cast<size_t>(up->n_elements));
  ASSERT_TRUE(DequantizeRow(up->type, up->data.data(), w.data(), up->n_elements).ok());
  double s = 0, s2 = 0;
  for (float x : w) {
    s += x;
    s2 += static_cast<double>(x) * x;
  }
  const double mean = s / w.size(), sd = std::sqrt(s2 / w.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.0005);
  EXPECT_NEAR(sd, 0.02, 0.001);
}

TEST(MakeModelTest, Qwen2FallbacksTiedAndBiases) {
  CELLAR_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
  testing::TempDir dir;
  const std::string out = (dir.path() / "q.gguf").string();
  // 128-wide rows are not a multiple of 256: Q4_K -> Q5_0, Q6_K -> Q8_0.
  ASSERT_EQ(RunCellar("make-model --arch qwen2 --layers 2 --embd 128 --heads 4 --kv-heads 2 "
                      "--head-dim 32 --ff 256 --qkv-bias --tied --type q4_k_m --vocab " +
                      vocab.string() + " -o " + out),
            0);
  auto f = GgufFile::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const GgufFile& g = **f;
  EXPECT_EQ(g.architecture(), "qwen2");
  EXPECT_EQ(*g.GetUint("qwen2.block_count"), 2u);
  const auto types = TypesByName(g);
  EXPECT_EQ(types.count("output.weight"), 0u);
  EXPECT_EQ(types.at("token_embd.weight"), GgmlType::kQ8_0);  // output rule, 128 % 256 != 0
  EXPECT_EQ(types.at("blk.0.attn_q.weight"), GgmlType::kQ5_0);
  EXPECT_EQ(types.at("blk.0.attn_q.bias"), GgmlType::kF32);
  EXPECT_EQ(types.at("blk.0.attn_k.bias"), GgmlType::kF32);
  EXPECT_EQ(types.at("blk.1.attn_v.bias"), GgmlType::kF32);
  // use_more_bits(i, 2): block 1 only (i >= 7 * 2 / 8).
  EXPECT_EQ(types.at("blk.0.attn_v.weight"), GgmlType::kQ5_0);
  EXPECT_EQ(types.at("blk.1.attn_v.weight"), GgmlType::kQ8_0);
  EXPECT_EQ(types.at("blk.0.ffn_down.weight"), GgmlType::kQ4_K);  // 256-wide rows
  EXPECT_EQ(types.at("blk.1.ffn_down.weight"), GgmlType::kQ6_K);
  EXPECT_EQ(g.FindTensor("blk.0.attn_q.bias")->dims, (std::vector<int64_t>{128}));
}

TEST(MakeModelTest, SeededAndDeterministicAcrossThreadCounts) {
  CELLAR_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
  testing::TempDir dir;
  const std::string base =
      "make-model --layers 1 --embd 64 --heads 2 --kv-heads 1 --head-dim 32 "
      "--ff 128 --type q8_0 --vocab " +
      vocab.string();
  const std::string a = (dir.path() / "a.gguf").string(), b = (dir.path() / "b.gguf").string(),
                    c = (dir.path() / "c.gguf").string();
  ASSERT_EQ(RunCellar(base + " --seed 3 --threads 1 -o " + a), 0);
  ASSERT_EQ(RunCellar(base + " --seed 3 --threads 2 -o " + b), 0);
  ASSERT_EQ(RunCellar(base + " --seed 4 -o " + c), 0);
  const std::string fa = testing::ReadFileToString(a), fb = testing::ReadFileToString(b),
                    fc = testing::ReadFileToString(c);
  ASSERT_FALSE(fa.empty());
  EXPECT_EQ(fa, fb);
  EXPECT_NE(fa, fc);
  EXPECT_EQ(fa.size(), fc.size());
}

TEST(MakeModelTest, RejectsBadArguments) {
  CELLAR_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
  testing::TempDir dir;
  const std::string out = (dir.path() / "x.gguf").string();
  // The TinyLlama shape has 32000 tokens; this vocabulary has 512.
  EXPECT_NE(RunCellar("make-model --shape tinyllama-1.1b --vocab " + vocab.string() + " -o " + out),
            0);
  EXPECT_NE(RunCellar("make-model --type q3_k --vocab " + vocab.string() + " -o " + out), 0);
  EXPECT_NE(RunCellar("make-model --shape gpt5 --vocab " + vocab.string() + " -o " + out), 0);
  EXPECT_NE(RunCellar("make-model --heads 3 --kv-heads 2 --vocab " + vocab.string() + " -o " + out),
            0);
  EXPECT_NE(RunCellar("make-model --vocab /nonexistent.gguf -o " + out), 0);
}

}  // namespace
}  // namespace cellar
