#include "replay/workload.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/testing/shared_data.h"
#include "replay/sharegpt.h"
#include "replay/synthetic.h"

namespace cellar::replay {
namespace {

TEST(ShareGpt, KeepsAlternatingConversationsAndCountsTheRest) {
  const char* json = R"([
    {"id": "ok", "conversations": [
      {"from": "human", "value": "q1"}, {"from": "gpt", "value": "a1"},
      {"from": "human", "value": "q2"}, {"from": "gpt", "value": "a2"}]},
    {"id": "sys", "conversations": [
      {"from": "system", "value": "be brief"}, {"from": "human", "value": "q"},
      {"from": "gpt", "value": "a"}, {"from": "human", "value": "last, unanswered"}]},
    {"id": "lead", "conversations": [
      {"from": "gpt", "value": "orphan answer"}, {"from": "human", "value": "q"},
      {"from": "gpt", "value": "a"}]},
    {"id": "twice", "conversations": [
      {"from": "human", "value": "q"}, {"from": "human", "value": "q again"}]},
    {"id": "blank", "conversations": [
      {"from": "human", "value": "  \n"}, {"from": "gpt", "value": "a"}]},
    {"id": "who", "conversations": [{"from": "robot", "value": "x"}]},
    {"id": "late_sys", "conversations": [
      {"from": "human", "value": "q"}, {"from": "system", "value": "s"}]},
    {"id": "only_gpt", "conversations": [{"from": "gpt", "value": "a"}]},
    {"id": "empty", "conversations": []},
    {"id": "bad", "conversations": "nope"},
    {"id": 7, "conversations": [{"from": "human", "value": 3}]},
    42
  ])";
  auto w = ParseShareGpt(json);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->conversations.size(), 3u);

  const Conversation& a = w->conversations[0];
  EXPECT_EQ(a.id, "ok");
  EXPECT_EQ(a.system, "");
  ASSERT_EQ(a.turns.size(), 2u);
  EXPECT_EQ(a.turns[1].user, "q2");
  EXPECT_EQ(a.turns[1].assistant, "a2");

  const Conversation& b = w->conversations[1];
  EXPECT_EQ(b.system, "be brief");
  ASSERT_EQ(b.turns.size(), 2u);
  EXPECT_EQ(b.turns[1].user, "last, unanswered");
  EXPECT_EQ(b.turns[1].assistant, "");

  const Conversation& c = w->conversations[2];
  EXPECT_EQ(c.id, "lead");
  ASSERT_EQ(c.turns.size(), 1u);
  EXPECT_EQ(c.turns[0].user, "q");

  EXPECT_EQ(w->adjusted.at("leading_assistant_trimmed"), 1);
  EXPECT_EQ(w->skipped.at("not_alternating"), 1);
  EXPECT_EQ(w->skipped.at("empty_message"), 1);
  EXPECT_EQ(w->skipped.at("unknown_role"), 1);
  EXPECT_EQ(w->skipped.at("misplaced_system"), 1);
  EXPECT_EQ(w->skipped.at("no_user_turn"), 2);  // only_gpt, empty
  EXPECT_EQ(w->skipped.at("malformed"), 3);     // bad, id 7 (value not a string), 42
  EXPECT_EQ(w->TotalTurns(), 5);
}

TEST(ShareGpt, RejectsTextThatIsNotAJsonArray) {
  EXPECT_FALSE(ParseShareGpt("{\"id\": 1}").ok());
  EXPECT_FALSE(ParseShareGpt("[{").ok());
  EXPECT_FALSE(LoadShareGpt("/nonexistent/file.json").ok());
}

TEST(ShareGpt, LoadsTheSharedSample) {
  CELLAR_REQUIRE_SHARED(path, "data/sharegpt92k_sample1000.json");
  auto w = LoadShareGpt(path.string());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  int64_t skipped = 0;
  for (const auto& [reason, n] : w->skipped) skipped += n;
  EXPECT_EQ(static_cast<int64_t>(w->conversations.size()) + skipped, 1000);
  // Counts cross-checked with an independent script over the same file: 987 kept,
  // 327 of them opened with an assistant message; 9 have no user message left after
  // trimming, 4 contain an empty message.
  EXPECT_EQ(w->conversations.size(), 987u);
  EXPECT_EQ(w->adjusted.at("leading_assistant_trimmed"), 327);
  EXPECT_EQ(w->skipped.at("no_user_turn"), 9);
  EXPECT_EQ(w->skipped.at("empty_message"), 4);
  EXPECT_EQ(w->conversations[0].id, "03iMgaN_89");
}

Conversation ThreeTurns() {
  Conversation c;
  c.id = "c";
  c.system = "S";
  c.turns = {{"u1", "a1"}, {"u2", "a2"}, {"u3", ""}};
  return c;
}

TEST(MessagesForTurn, SystemThenRecordedHistoryThenNewUserMessage) {
  const Conversation c = ThreeTurns();
  auto m0 = MessagesForTurn(c, 0);
  ASSERT_EQ(m0.size(), 2u);
  EXPECT_EQ(m0[0].role, "system");
  EXPECT_EQ(m0[1].content, "u1");
  auto m2 = MessagesForTurn(c, 2);
  ASSERT_EQ(m2.size(), 6u);
  const char* roles[] = {"system", "user", "assistant", "user", "assistant", "user"};
  const char* texts[] = {"S", "u1", "a1", "u2", "a2", "u3"};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(m2[i].role, roles[i]);
    EXPECT_EQ(m2[i].content, texts[i]);
  }
  EXPECT_EQ(PromptChars(c, 2), 11);
  Conversation no_sys = c;
  no_sys.system.clear();
  EXPECT_EQ(MessagesForTurn(no_sys, 0).size(), 1u);
}

TEST(ApplyFilter, TruncatesCutsDropsShufflesAndTakes) {
  Workload w;
  for (int i = 0; i < 6; ++i) {
    Conversation c = ThreeTurns();
    c.id = "c" + std::to_string(i);
    c.system = i == 0 ? "own" : "";
    w.conversations.push_back(c);
  }
  w.conversations[5].turns.resize(1);

  WorkloadFilter f;
  f.default_system = "shared";
  f.max_turns = 2;
  f.min_turns = 2;
  Workload a = ApplyFilter(w, f);
  ASSERT_EQ(a.conversations.size(), 5u);
  EXPECT_EQ(a.skipped.at("too_few_turns"), 1);
  EXPECT_EQ(a.adjusted.at("cut_max_turns"), 5);
  EXPECT_EQ(a.conversations[0].system, "own");
  EXPECT_EQ(a.conversations[1].system, "shared");
  for (const auto& c : a.conversations) EXPECT_EQ(c.turns.size(), 2u);

  // Prompt chars: c0 ("own") 5, 9, 13; c1..c4 ("shared") 8, 12, 16; c5 8.
  WorkloadFilter g;
  g.default_system = "shared";
  g.max_prompt_chars = 11;
  Workload b = ApplyFilter(w, g);
  EXPECT_EQ(b.adjusted.at("cut_prompt_too_long"), 5);
  ASSERT_EQ(b.conversations.size(), 6u);
  EXPECT_EQ(b.conversations[0].turns.size(), 2u);
  for (size_t i = 1; i < 6; ++i) EXPECT_EQ(b.conversations[i].turns.size(), 1u);

  WorkloadFilter t;  // 1 token * 6 chars: only c0's first turn (5 chars) fits
  t.default_system = "shared";
  t.max_prompt_tokens = 1;
  t.chars_per_token = 6;
  Workload tt = ApplyFilter(w, t);
  EXPECT_EQ(tt.skipped.at("prompt_too_long"), 5);
  ASSERT_EQ(tt.conversations.size(), 1u);
  EXPECT_EQ(tt.conversations[0].id, "c0");
  EXPECT_EQ(tt.conversations[0].turns.size(), 1u);

  WorkloadFilter s;
  s.shuffle = true;
  s.seed = 5;
  s.max_conversations = 4;
  Workload c1 = ApplyFilter(w, s);
  Workload c2 = ApplyFilter(w, s);
  ASSERT_EQ(c1.conversations.size(), 4u);
  std::string order1, order2;
  for (const auto& c : c1.conversations) order1 += c.id;
  for (const auto& c : c2.conversations) order2 += c.id;
  EXPECT_EQ(order1, order2);
  EXPECT_NE(order1, "c0c1c2c3");
}

TEST(Synthetic, SeededShapeAndSharedSystemPrompt) {
  SyntheticOptions o;
  o.n_conversations = 50;
  o.min_turns = 2;
  o.max_turns = 5;
  o.system_words = 30;
  o.seed = 9;
  Workload a = GenerateSynthetic(o);
  Workload b = GenerateSynthetic(o);
  ASSERT_EQ(a.conversations.size(), 50u);
  for (size_t i = 0; i < a.conversations.size(); ++i) {
    const Conversation& c = a.conversations[i];
    EXPECT_EQ(c.id, "syn-" + std::to_string(i));
    EXPECT_EQ(c.system, a.conversations[0].system);
    EXPECT_GE(c.turns.size(), 2u);
    EXPECT_LE(c.turns.size(), 5u);
    for (size_t k = 0; k < c.turns.size(); ++k) {
      EXPECT_EQ(c.turns[k].user.rfind("[" + c.id + " turn " + std::to_string(k + 1) + "] ", 0), 0u);
      EXPECT_FALSE(c.turns[k].assistant.empty());
      EXPECT_EQ(c.turns[k].user, b.conversations[i].turns[k].user);
    }
  }
  int words = 1;
  for (char ch : a.conversations[0].system) words += ch == ' ';
  EXPECT_EQ(words, 30);
  o.seed = 10;
  EXPECT_NE(GenerateSynthetic(o).conversations[0].turns[0].user, a.conversations[0].turns[0].user);
}

TEST(Synthetic, LengthsFollowTheLognormalMedian) {
  SyntheticOptions o;
  o.n_conversations = 400;
  o.min_turns = o.max_turns = 5;
  o.user_words_median = 40;
  o.assistant_words_median = 120;
  Workload w = GenerateSynthetic(o);
  std::vector<double> user_words;
  for (const auto& c : w.conversations) {
    for (const auto& t : c.turns) {
      int n = 1;
      for (char ch : t.assistant) n += ch == ' ';
      user_words.push_back(n);
    }
  }
  std::sort(user_words.begin(), user_words.end());
  // Median of 2000 lognormal draws with median 120, sigma 0.6: within 10%.
  EXPECT_NEAR(user_words[user_words.size() / 2], 120, 12);
}

}  // namespace
}  // namespace cellar::replay
