// `cellar chat --session NAME` resumes a conversation after the program
// restarts: the messages come back from the session file, the history's KV
// from the store, and only the new turn (plus the tail of the last chunk) is
// prefilled. The replies equal those of one uninterrupted chat (greedy).
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"
#include "cli/cmd_generate_test_util.h"

namespace cellar {
namespace {

using testing::CliRun;
using testing::RunCli;
using testing::ShellQuote;

struct Turn {
  int prompt = 0, reused = 0, prefilled = 0;
};

std::vector<Turn> ParseTurns(const std::string& err) {
  // Lines "[chat] turn N: prompt P tokens (R reused, F prefilled) | ...".
  std::vector<Turn> turns;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    int n = 0;
    Turn t;
    if (std::sscanf(line.c_str(), "[chat] turn %d: prompt %d tokens (%d reused, %d prefilled)", &n,
                    &t.prompt, &t.reused, &t.prefilled) == 4) {
      turns.push_back(t);
    }
  }
  return turns;
}

class ChatSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf");
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "needs ../shared";
  }
  std::string Args(const std::string& extra) const {
    return "chat -m " + ShellQuote(model_.string()) + " -t 1 --temp 0 -n 40 " + extra;
  }
  std::filesystem::path model_;
  testing::TempDir dir_;
};

TEST_F(ChatSessionTest, ResumedSessionPrefillsOnlyTheNewTurn) {
  const std::string store = "--store-dir " + ShellQuote(dir_.path().string());
  const std::string system = "--system " + ShellQuote("You tell short stories about animals.");
  // One uninterrupted chat: the reference replies.
  const CliRun whole = RunCli(Args(system), "Tell me about a cat\nWhat did the dog do\nAnd then\n");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  ASSERT_EQ(ParseTurns(whole.err).size(), 3u) << whole.err;

  // The same chat in three runs of the program.
  const CliRun a = RunCli(Args(system + " --session story " + store), "Tell me about a cat\n");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_TRUE(std::filesystem::exists(dir_.path() / "sessions" / "story.json"));

  const CliRun b = RunCli(Args("--session story " + store), "What did the dog do\n");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("session story: 3 messages"), std::string::npos) << b.err;
  const auto tb = ParseTurns(b.err);
  ASSERT_EQ(tb.size(), 1u) << b.err;
  // The history came from the store in whole 64-token chunks: at most the new
  // turn plus one chunk's worth is prefilled.
  const auto tw = ParseTurns(whole.err);
  ASSERT_EQ(tw.size(), 3u);
  EXPECT_EQ(tb[0].prompt, tw[1].prompt);
  EXPECT_GT(tb[0].reused, 0) << b.err;
  EXPECT_EQ(tb[0].reused % 64, 0);
  EXPECT_LT(tb[0].prefilled, tw[1].prefilled + 64);

  const CliRun c = RunCli(Args("--session story " + store), "And then\n");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  // The three runs printed exactly the uninterrupted chat's replies.
  EXPECT_EQ(a.out + b.out + c.out, whole.out);
  const auto tc = ParseTurns(c.err);
  ASSERT_EQ(tc.size(), 1u);
  EXPECT_GT(tc[0].reused, tb[0].reused);
}

TEST_F(ChatSessionTest, BadSessionNameIsRefused) {
  const CliRun r =
      RunCli(Args("--session ../x --store-dir " + ShellQuote(dir_.path().string())), "Hi\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--session"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cellar
