// `cellar generate` end to end on stories260K: greedy ids equal llama.cpp's golden
// continuation, stop strings, seeded sampling, errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cmd_generate_test_util.h"

namespace cellar {
namespace {

using testing::CliRun;
using testing::RunCli;
using testing::ShellQuote;

struct Golden {
  std::string text;
  std::vector<int32_t> ids;
  std::string greedy_text;
};

Golden LoadPrompt(const std::filesystem::path& path, const std::string& id) {
  const auto j = nlohmann::json::parse(testing::ReadFileToString(path));
  for (const auto& p : j.at("prompts")) {
    if (p.at("id") == id) {
      return {p.at("text").get<std::string>(), p.at("greedy").at("ids").get<std::vector<int32_t>>(),
              p.at("greedy").at("text").get<std::string>()};
    }
  }
  return {};
}

// The ids on the "ids:" line, and the text before it (without the newline the
// command prints after the generated text).
void Parse(const std::string& out, std::string* text, std::vector<int32_t>* ids) {
  const size_t pos = out.rfind("\nids:");
  ASSERT_NE(pos, std::string::npos) << out;
  *text = out.substr(0, pos);
  std::istringstream ss(out.substr(pos + 5));
  int32_t id;
  while (ss >> id) ids->push_back(id);
}

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf");
    golden_ = testing::SharedPath("golden/stories260K_golden.json");
    if (!std::filesystem::exists(model_) || !std::filesystem::exists(golden_)) {
      GTEST_SKIP() << "needs ../shared";
    }
  }
  std::string Args(const std::string& prompt) const {
    return "generate -m " + ShellQuote(model_.string()) + " -p " + ShellQuote(prompt);
  }
  std::filesystem::path model_, golden_;
};

TEST_F(GenerateTest, GreedyIdsAndTextEqualGolden) {
  const Golden g = LoadPrompt(golden_, "short");
  ASSERT_EQ(g.ids.size(), 64u);
  // One thread: thread-count agreement is tested on the forward pass itself, and
  // a second thread only slows this down on an oversubscribed test machine.
  const CliRun r = RunCli(Args(g.text) + " -n 64 --temp 0 --ids -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text;
  std::vector<int32_t> ids;
  Parse(r.out, &text, &ids);
  EXPECT_EQ(ids, g.ids);
  EXPECT_EQ(text, g.greedy_text);
  EXPECT_NE(r.err.find("generated 64 tokens"), std::string::npos) << r.err;
}

TEST_F(GenerateTest, LongPromptWithF32KvEqualsGolden) {
  const Golden g = LoadPrompt(golden_, "long_story");
  const CliRun r = RunCli(Args(g.text) + " -n 64 --kv-type f32 --ids -t 1 -b 100");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text;
  std::vector<int32_t> ids;
  Parse(r.out, &text, &ids);
  EXPECT_EQ(ids, g.ids);
}

TEST_F(GenerateTest, StopStringEndsTheOutputBeforeIt) {
  const Golden g = LoadPrompt(golden_, "short");  // ", there was a little girl named Lily. ..."
  const CliRun r = RunCli(Args(g.text) + " -n 64 --ids -t 1 --stop Lily");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text;
  std::vector<int32_t> ids;
  Parse(r.out, &text, &ids);
  EXPECT_EQ(text, ", there was a little girl named ");
  EXPECT_LT(ids.size(), 20u);
  EXPECT_NE(r.err.find("finish: stop"), std::string::npos) << r.err;
}

TEST_F(GenerateTest, SeededSamplingIsReproducible) {
  const std::string args = Args("Once upon a time") +
                           " -n 24 --ids -t 1 --temp 0.9 --top-k 40 --top-p 0.95 --min-p 0.02 "
                           "--repeat-penalty 1.1";
  const CliRun a = RunCli(args + " --seed 7"), b = RunCli(args + " --seed 7"),
               c = RunCli(args + " --seed 8");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
}

TEST_F(GenerateTest, ContextFullStopsWithAMessage) {
  const CliRun r = RunCli(Args("Once upon a time") + " -n 64 -c 20 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("context of 20 tokens is full"), std::string::npos) << r.err;
}

TEST_F(GenerateTest, BadInputsFailCleanly) {
  CliRun r = RunCli("generate -m /nonexistent.gguf -p hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cellar generate:"), std::string::npos) << r.err;
  r = RunCli(Args("hi") + " --top-p 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cellar
