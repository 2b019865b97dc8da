// `cellar info` end to end: runs the built binary on stories260K and on a file the
// test writes, checking the text and --json outputs and the exit code on bad files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace cellar {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string output;
};

// Runs `cellar <args>`; `redirect` is appended to the shell command (e.g. "2>&1").
RunResult RunCellar(const std::string& args, const std::string& redirect = "2>/dev/null") {
  const std::string cmd = std::string(CELLAR_BINARY) + " " + args + " " + redirect;
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Quote(const std::string& path) { return "'" + path + "'"; }

TEST(InfoTest, Stories260KJson) {
  CELLAR_REQUIRE_SHARED(path, "models/stories260K.gguf");
  RunResult r = RunCellar("info --json -m " + Quote(path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["context_length"], 2048);
  EXPECT_EQ(j["hyperparameters"]["llama.block_count"], 5);
  EXPECT_EQ(j["hyperparameters"]["llama.attention.head_count_kv"], 4);
  EXPECT_EQ(j["hyperparameters"].size(), 8u);
  EXPECT_EQ(j["tensors"]["count"], 48);
  EXPECT_EQ(j["tensors"]["parameters"], 292800);
  EXPECT_EQ(j["tensors"]["bytes"], 1171200);
  ASSERT_EQ(j["tensors"]["by_type"].size(), 1u);
  EXPECT_EQ(j["tensors"]["by_type"][0]["type"], "f32");
  EXPECT_EQ(j["vocab"]["model"], "llama");
  EXPECT_EQ(j["vocab"]["size"], 512);
  EXPECT_EQ(j["special_tokens"]["bos"]["id"], 1);
  EXPECT_EQ(j["special_tokens"]["bos"]["text"], "<s>");
  EXPECT_EQ(j["special_tokens"]["eos"]["text"], "</s>");
  EXPECT_EQ(j["special_tokens"]["unk"]["text"], "<unk>");
  EXPECT_TRUE(j["special_tokens"]["pad"]["text"].is_null());
  EXPECT_TRUE(j["file_type"].is_null());
  EXPECT_EQ(j["chat_template"]["present"], false);
}

TEST(InfoTest, Stories260KText) {
  CELLAR_REQUIRE_SHARED(path, "models/stories260K.gguf");
  RunResult r = RunCellar("info -m " + Quote(path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* line : {
           "architecture:    llama\n",
           "context length:  2048\n",
           "  llama.block_count                            5\n",
           "tensors:         48, 1171200 bytes, 292800 parameters\n",
           "vocabulary:      llama (pre: -), 512 tokens, 0 merges\n",
           "  bos            1  \"<s>\"\n",
           "chat template:   absent\n",
       }) {
    EXPECT_NE(r.output.find(line), std::string::npos) << "missing: " << line << "\n" << r.output;
  }
}

class InfoWrittenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GgufWriter w;
    w.SetString("general.architecture", "toy");
    w.SetString("general.name", "toy model");
    w.SetUint32("general.file_type", 15);
    w.SetUint32("toy.context_length", 777);
    w.SetUint32("toy.block_count", 3);
    w.SetFloat32("toy.rope.freq_base", 10000.0f);
    const std::vector<int32_t> per_layer{1, 2, 3};
    w.SetInt32Array("toy.per_layer", per_layer);
    w.SetString("tokenizer.ggml.model", "gpt2");
    w.SetString("tokenizer.ggml.pre", "toy-pre");
    const std::vector<std::string> tokens{"a", "b", "<|eot|>", "<s>"};
    w.SetStringArray("tokenizer.ggml.tokens", tokens);
    const std::vector<std::string> merges{"a b"};
    w.SetStringArray("tokenizer.ggml.merges", merges);
    w.SetUint32("tokenizer.ggml.bos_token_id", 3);
    w.SetInt32("tokenizer.ggml.eot_token_id", 2);
    w.SetUint32("tokenizer.ggml.padding_token_id", 9);  // outside the vocabulary
    w.SetBool("tokenizer.ggml.add_bos_token", true);
    w.SetString("tokenizer.ggml.add_eos_token", "yes");  // wrong type -> warning
    w.SetString("tokenizer.chat_template", std::string(1234, 'x'));
    const std::vector<uint8_t> f32(4 * 256 * 2), q4k(144 * 4);
    ASSERT_TRUE(w.AddTensor("w1", GgmlType::kF32, {256, 2}, f32).ok());
    ASSERT_TRUE(w.AddTensor("w2", GgmlType::kQ4_K, {512, 2}, q4k).ok());
    path_ = (dir_.path() / "toy.gguf").string();
    ASSERT_TRUE(w.WriteToFile(path_).ok());
  }
  testing::TempDir dir_;
  std::string path_;
};

TEST_F(InfoWrittenFileTest, Json) {
  RunResult r = RunCellar("info -m " + Quote(path_) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["architecture"], "toy");
  EXPECT_EQ(j["name"], "toy model");
  EXPECT_EQ(j["file_type"]["id"], 15);
  EXPECT_EQ(j["file_type"]["name"], "MOSTLY_Q4_K_M");
  EXPECT_EQ(j["context_length"], 777);
  EXPECT_EQ(j["hyperparameters"].size(), 4u);
  EXPECT_EQ(j["hyperparameters"]["toy.rope.freq_base"], 10000.0);
  EXPECT_EQ(j["hyperparameters"]["toy.per_layer"], nlohmann::json::array({1, 2, 3}));
  EXPECT_EQ(j["tensors"]["count"], 2);
  EXPECT_EQ(j["tensors"]["parameters"], 512 + 1024);
  EXPECT_EQ(j["tensors"]["bytes"], 2048 + 576);
  ASSERT_EQ(j["tensors"]["by_type"].size(), 2u);
  EXPECT_EQ(j["tensors"]["by_type"][1]["type"], "q4_K");
  EXPECT_EQ(j["tensors"]["by_type"][1]["bytes"], 576);
  EXPECT_EQ(j["vocab"]["model"], "gpt2");
  EXPECT_EQ(j["vocab"]["pre"], "toy-pre");
  EXPECT_EQ(j["vocab"]["size"], 4);
  EXPECT_EQ(j["vocab"]["merges"], 1);
  EXPECT_EQ(j["special_tokens"]["bos"]["text"], "<s>");
  EXPECT_EQ(j["special_tokens"]["eot"]["id"], 2);
  EXPECT_EQ(j["special_tokens"]["eot"]["text"], "<|eot|>");
  EXPECT_TRUE(j["special_tokens"]["pad"]["text"].is_null());
  EXPECT_FALSE(j["special_tokens"].contains("eos"));
  EXPECT_EQ(j["add_bos_token"], true);
  EXPECT_TRUE(j["add_eos_token"].is_null());
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["warnings"][0], "key 'tokenizer.ggml.add_eos_token': expected a bool, got string");
  EXPECT_EQ(j["chat_template"]["present"], true);
  EXPECT_EQ(j["chat_template"]["length"], 1234);
}

TEST_F(InfoWrittenFileTest, Text) {
  RunResult r = RunCellar("info -m " + Quote(path_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* line : {
           "file type:       MOSTLY_Q4_K_M (15)\n",
           "  toy.per_layer                                [int32 x 3: 1, 2, 3]\n",
           "tensors:         2, 2624 bytes, 1536 parameters\n",
           "  q4_K          1 tensors           1024 elements            576 bytes\n",
           "vocabulary:      gpt2 (pre: toy-pre), 4 tokens, 1 merges\n",
           "  eot            2  \"<|eot|>\"\n",
           "  pad            9  (not in vocabulary)\n",
           "add_bos_token:   true\n",
           "chat template:   present (1234 bytes)\n",
           "warning:         key 'tokenizer.ggml.add_eos_token': expected a bool, got string\n",
       }) {
    EXPECT_NE(r.output.find(line), std::string::npos) << "missing: " << line << "\n" << r.output;
  }
}

// Every model and vocab file in ../shared: --json parses and agrees with the reader.
TEST(InfoTest, EverySharedFile) {
  CELLAR_REQUIRE_SHARED(models, "models");
  int n_files = 0;
  for (const char* sub : {"models", "models/tiny", "vocab"}) {
    for (const auto& e : std::filesystem::directory_iterator(testing::SharedPath(sub))) {
      if (e.path().extension() != ".gguf") continue;
      SCOPED_TRACE(e.path().string());
      ++n_files;
      RunResult r = RunCellar("info --json -m " + Quote(e.path().string()));
      ASSERT_EQ(r.exit_code, 0) << r.output;
      const nlohmann::json j = nlohmann::json::parse(r.output);
      auto file = GgufFile::Open(e.path().string());
      ASSERT_TRUE(file.ok());
      EXPECT_EQ(j["architecture"], (*file)->architecture());
      EXPECT_EQ(j["tensors"]["count"], (*file)->tensors().size());
      EXPECT_EQ(j["vocab"]["size"], (*file)->GetStringArrayView("tokenizer.ggml.tokens")->size());
      EXPECT_TRUE(j["warnings"].empty()) << j["warnings"];
    }
  }
  EXPECT_EQ(n_files, 25);
}

TEST(InfoTest, BadFilesExitNonZeroWithTheError) {
  testing::TempDir dir;
  const std::string bad = (dir.path() / "bad.gguf").string();
  FILE* f = std::fopen(bad.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("GGUF\x01", f);
  std::fclose(f);
  RunResult r = RunCellar("info -m " + Quote(bad), "2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("truncated: version needs 4 bytes at offset 4"), std::string::npos)
      << r.output;
  RunResult missing = RunCellar("info -m " + Quote((dir.path() / "none.gguf").string()), "2>&1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("NOT_FOUND"), std::string::npos) << missing.output;
  RunResult no_arg = RunCellar("info", "2>&1");
  EXPECT_NE(no_arg.exit_code, 0);
}

}  // namespace
}  // namespace cellar
