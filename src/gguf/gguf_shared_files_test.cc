// Reads every model and vocab file in ../shared and pins facts documented in their
// READMEs (tensor counts and types, tokenizer sizes). Skips without ../shared.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "base/testing/shared_data.h"
#include "gguf/gguf_copy.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace cellar {
namespace {

std::map<std::string, int> TypeCounts(const GgufFile& f) {
  std::map<std::string, int> out;
  for (const GgufTensorInfo& t : f.tensors()) ++out[std::string(GgmlTypeName(t.type))];
  return out;
}

TEST(GgufSharedFilesTest, Stories260K) {
  CELLAR_REQUIRE_SHARED(path, "models/stories260K.gguf");
  auto file = GgufFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.architecture(), "llama");
  EXPECT_EQ(*f.GetUint("llama.block_count"), 5u);
  EXPECT_EQ(*f.GetUint("llama.embedding_length"), 64u);
  EXPECT_EQ(*f.GetUint("llama.attention.head_count"), 8u);
  EXPECT_EQ(*f.GetUint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(*f.GetUint("llama.context_length"), 2048u);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.GetFloat("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(*f.GetString("tokenizer.ggml.model"), "llama");
  auto tokens = f.GetStringArrayView("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 512u);
  EXPECT_EQ((*tokens)[0], "<unk>");
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[2], "</s>");
  EXPECT_EQ(f.GetFloatArray("tokenizer.ggml.scores")->size(), 512u);
  EXPECT_EQ(f.GetIntArray("tokenizer.ggml.token_type")->at(1), 3);
  EXPECT_EQ(*f.GetUint("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*f.GetUint("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(f.tensors().size(), 48u);
  const GgufTensorInfo* emb = f.FindTensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(emb->type, GgmlType::kF32);
  EXPECT_EQ(emb->n_bytes, 64 * 512 * 4);
}

struct TinyCase {
  const char* file;
  std::map<std::string, int> types;
  const char* token_embd;
  const char* output;
};

TEST(GgufSharedFilesTest, TinyModelsMatchTheirReadme) {
  const std::vector<TinyCase> cases = {
      {"tiny-llama-BF16.gguf", {{"bf16", 16}, {"f32", 5}}, "bf16", "bf16"},
      {"tiny-llama-F16.gguf", {{"f16", 16}, {"f32", 5}}, "f16", "f16"},
      {"tiny-llama-F32.gguf", {{"f32", 21}}, "f32", "f32"},
      {"tiny-llama-Q4_0.gguf", {{"f32", 5}, {"q4_0", 15}, {"q6_K", 1}}, "q4_0", "q6_K"},
      {"tiny-llama-Q4_K_M.gguf", {{"f32", 5}, {"q4_K", 13}, {"q6_K", 3}}, "q4_K", "q6_K"},
      {"tiny-llama-Q5_K_M.gguf", {{"f32", 5}, {"q5_K", 13}, {"q6_K", 3}}, "q5_K", "q6_K"},
      {"tiny-llama-Q6_K.gguf", {{"f32", 5}, {"q6_K", 16}}, "q6_K", "q6_K"},
      {"tiny-llama-Q8_0.gguf", {{"f32", 5}, {"q8_0", 16}}, "q8_0", "q8_0"},
      {"tiny-qwen2-F32.gguf", {{"f32", 27}}, "f32", "f32"},
      {"tiny-qwen2-Q8_0.gguf", {{"f32", 11}, {"q8_0", 16}}, "q8_0", "q8_0"},
  };
  CELLAR_REQUIRE_SHARED(dir, "models/tiny");
  for (const TinyCase& c : cases) {
    SCOPED_TRACE(c.file);
    auto file = GgufFile::Open((dir / c.file).string());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const GgufFile& f = **file;
    EXPECT_EQ(TypeCounts(f), c.types);
    EXPECT_EQ(GgmlTypeName(f.FindTensor("token_embd.weight")->type), c.token_embd);
    EXPECT_EQ(GgmlTypeName(f.FindTensor("output.weight")->type), c.output);
    EXPECT_EQ(*f.GetUint(f.ArchKey("block_count")), 2u);
    EXPECT_EQ(*f.GetUint(f.ArchKey("embedding_length")), 256u);
    EXPECT_EQ(*f.GetUint(f.ArchKey("context_length")), 4096u);
    EXPECT_EQ(f.GetStringArrayView("tokenizer.ggml.tokens")->size(), 512u);
    // Every tensor's data lies inside the file, after the header, in order.
    for (const GgufTensorInfo& t : f.tensors()) {
      EXPECT_EQ(t.data.data(), f.bytes().data() + f.data_offset() + t.offset);
      EXPECT_EQ(t.data.size(), static_cast<size_t>(t.n_bytes));
    }
  }
}

TEST(GgufSharedFilesTest, EveryVocabFileParses) {
  CELLAR_REQUIRE_SHARED(dir, "vocab");
  int n_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++n_files;
    auto file = GgufFile::Open(entry.path().string());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const GgufFile& f = **file;
    EXPECT_FALSE(f.architecture().empty());
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_TRUE(f.GetString("tokenizer.ggml.model").ok());
    auto tokens = f.GetStringArrayView("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    EXPECT_GT(tokens->size(), 1000u);
    if (f.Has("tokenizer.ggml.scores")) {
      EXPECT_EQ(f.GetFloatArray("tokenizer.ggml.scores")->size(), tokens->size());
    }
    if (f.Has("tokenizer.ggml.token_type")) {
      EXPECT_EQ(f.GetIntArray("tokenizer.ggml.token_type")->size(), tokens->size());
    }
  }
  EXPECT_EQ(n_files, 14);
}

// Copying every key and tensor into a writer reproduces each shared file byte for
// byte: the writer's layout is the one gguf-py and llama.cpp write.
TEST(GgufSharedFilesTest, WriterReproducesEverySharedFile) {
  CELLAR_REQUIRE_SHARED(models, "models");
  std::vector<std::filesystem::path> paths;
  for (const char* sub : {"models", "models/tiny", "vocab"}) {
    for (const auto& e : std::filesystem::directory_iterator(testing::SharedPath(sub))) {
      if (e.path().extension() == ".gguf") paths.push_back(e.path());
    }
  }
  ASSERT_EQ(paths.size(), 25u);
  for (const auto& p : paths) {
    SCOPED_TRACE(p.string());
    auto file = GgufFile::Open(p.string());
    ASSERT_TRUE(file.ok());
    GgufWriter w(GgufWriterOptions{.version = (*file)->version()});
    ASSERT_TRUE(CopyGgufContents(**file, w, GgufCopyOptions{.copy_tensors = true}).ok());
    auto out = w.WriteToBytes();
    ASSERT_TRUE(out.ok());
    std::span<const uint8_t> orig = (*file)->bytes();
    ASSERT_EQ(out->size(), orig.size());
    EXPECT_TRUE(std::equal(out->begin(), out->end(), orig.begin()));
  }
}

}  // namespace
}  // namespace cellar
