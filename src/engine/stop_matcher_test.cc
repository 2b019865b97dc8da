#include "engine/stop_matcher.h"

#include <gtest/gtest.h>

namespace cellar {
namespace {

TEST(StopMatcherTest, MatchesAcrossPiecesAndHoldsBackPossibleStarts) {
  StopMatcher m({"<|end|>"});
  auto o = m.Push("Hel");
  EXPECT_EQ(o.text, "Hel");
  o = m.Push("lo<|");
  EXPECT_EQ(o.text, "lo");
  EXPECT_EQ(m.held_back(), 2u);
  o = m.Push("end");
  EXPECT_EQ(o.text, "");
  EXPECT_FALSE(o.stopped);
  o = m.Push("|> more");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "");
  EXPECT_EQ(o.stop, "<|end|>");
  EXPECT_TRUE(m.Push("anything").text.empty());
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopMatcherTest, ReleasesHeldTextWhenItDiverges) {
  StopMatcher m({"abc"});
  EXPECT_EQ(m.Push("xa").text, "x");
  EXPECT_EQ(m.Push("b").text, "");
  EXPECT_EQ(m.Push("d").text, "abd");
  EXPECT_EQ(m.Push("ab").text, "");
  EXPECT_EQ(m.Flush(), "ab");
}

TEST(StopMatcherTest, EarliestStopWinsAndTextBeforeItIsKept) {
  StopMatcher m({"world", "lo w", ""});
  const auto o = m.Push("hello world");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "hel");
  EXPECT_EQ(o.stop, "lo w");
}

TEST(StopMatcherTest, StopInsideOnePieceWithTextAfter) {
  StopMatcher m({"\n\n"});
  EXPECT_EQ(m.Push("one\n").text, "one");
  const auto o = m.Push("\ntwo");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "");
}

TEST(StopMatcherTest, NoStopsPassesEverythingThrough) {
  StopMatcher m({});
  EXPECT_EQ(m.Push("abc").text, "abc");
  EXPECT_EQ(m.held_back(), 0u);
}

TEST(StopMatcherTest, HoldsLongestPossiblePrefixOverSeveralStops) {
  StopMatcher m({"xyz", "yzw"});
  // "axy": "xy" is a prefix of "xyz", "y" of "yzw": the longer is held.
  EXPECT_EQ(m.Push("axy").text, "a");
  EXPECT_EQ(m.held_back(), 2u);
  const auto o = m.Push("zw");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.stop, "xyz");
  EXPECT_EQ(o.text, "");
}

}  // namespace
}  // namespace cellar
