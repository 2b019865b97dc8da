// `cellar chat` end to end on stories260K with stdin piped: a second turn
// prefills only the tokens that are not already in the cache.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "cli/cmd_generate_test_util.h"

namespace cellar {
namespace {

using testing::CliRun;
using testing::RunCli;
using testing::ShellQuote;

struct Turn {
  int prompt = 0, reused = 0, prefilled = 0, generated = 0;
};

std::vector<Turn> ParseTurns(const std::string& err) {
  static const std::regex re(
      R"(\[chat\] turn \d+: prompt (\d+) tokens \((\d+) reused, (\d+) prefilled\) \| TTFT [0-9.]+ ms \| (\d+) tokens)");
  std::vector<Turn> turns;
  for (std::sregex_iterator it(err.begin(), err.end(), re), end; it != end; ++it) {
    turns.push_back(
        {std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4])});
  }
  return turns;
}

class ChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf");
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "needs ../shared";
  }
  std::string Args() const { return "chat -m " + ShellQuote(model_.string()) + " -t 1"; }
  std::filesystem::path model_;
};

TEST_F(ChatTest, SecondTurnPrefillsOnlyNewTokens) {
  const CliRun r = RunCli(Args() + " -n 16", "Hello there\nTell me a story\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto turns = ParseTurns(r.err);
  ASSERT_EQ(turns.size(), 2u) << r.err;
  EXPECT_EQ(turns[0].reused, 0);
  EXPECT_EQ(turns[0].prefilled, turns[0].prompt);
  EXPECT_EQ(turns[0].generated, 16);
  // Turn 2 re-renders the whole conversation: everything up to the end of the first
  // reply is already cached (its prompt and the 15 reply tokens fed back), so only
  // the rest is prefilled.
  EXPECT_EQ(turns[1].reused + turns[1].prefilled, turns[1].prompt);
  EXPECT_GE(turns[1].reused, turns[0].prompt);
  EXPECT_EQ(turns[1].reused, turns[0].prompt + 15) << r.err;
  EXPECT_LT(turns[1].prefilled, turns[1].prompt - turns[0].prompt);
  // Two replies on stdout, one line each.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
}

TEST_F(ChatTest, SystemMessageResetAndEofAreHandled) {
  const CliRun r =
      RunCli(Args() + " -n 4 --system " + ShellQuote("You tell stories."), "Hi\n\n/reset\nHi\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto turns = ParseTurns(r.err);
  ASSERT_EQ(turns.size(), 2u) << r.err;
  EXPECT_NE(r.err.find("conversation reset"), std::string::npos);
  // After /reset the same first message renders to the same tokens: all but the
  // last are still cached.
  EXPECT_EQ(turns[1].prompt, turns[0].prompt);
  EXPECT_EQ(turns[1].reused, turns[0].prompt - 1);
  // Nothing on stdin at all: a clean exit.
  const CliRun empty = RunCli(Args());
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_TRUE(ParseTurns(empty.err).empty());
}

TEST_F(ChatTest, ContextOverflowIsAClearMessage) {
  std::string longline;
  for (int i = 0; i < 40; ++i) longline += "Once upon a time there was a dog. ";
  const CliRun r = RunCli(Args() + " -c 64 -n 8", longline + "\nHi\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("context full"), std::string::npos) << r.err;
  // The conversation goes on without the message that did not fit.
  EXPECT_EQ(ParseTurns(r.err).size(), 1u) << r.err;
}

}  // namespace
}  // namespace cellar
