#include "replay/sse_parser.h"

#include <gtest/gtest.h>

namespace cellar::replay {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& body, size_t piece) {
  SseParser p;
  std::vector<SseEvent> out;
  for (size_t i = 0; i < body.size(); i += piece) {
    EXPECT_TRUE(p.Feed(body.substr(i, piece), &out).ok());
  }
  p.Finish(&out);
  return out;
}

TEST(SseParser, EventsComeOutWholeWhateverTheReadBoundaries) {
  const std::string body =
      ": keep-alive comment\n\n"
      "data: {\"a\":1}\n\n"
      "event: error\r\ndata: first\r\ndata:second\r\n\r\n"
      "id: 7\rdata: cr only\r\r"
      "retry: 100\n\n"  // no data: not dispatched
      "data: [DONE]\n\n";
  for (size_t piece = 1; piece <= body.size(); ++piece) {
    SCOPED_TRACE(piece);
    auto ev = ParseInPieces(body, piece);
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[0].event, "");
    EXPECT_EQ(ev[0].data, "{\"a\":1}");
    EXPECT_EQ(ev[1].event, "error");
    EXPECT_EQ(ev[1].data, "first\nsecond");
    EXPECT_EQ(ev[2].data, "cr only");
    EXPECT_EQ(ev[3].data, "[DONE]");
  }
}

TEST(SseParser, CrLfSplitAcrossPiecesIsOneLineEnd) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.Feed("data: x\r", &out).ok());
  ASSERT_TRUE(p.Feed("\n\r", &out).ok());
  EXPECT_EQ(out.size(), 1u);  // "\r\n" ended the data line, the next "\r" the event
  ASSERT_TRUE(p.Feed("\ndata: y\n\n", &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].data, "y");
}

TEST(SseParser, FinishDispatchesAnEventWithoutItsBlankLine) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.Feed("data: [DONE]", &out).ok());
  EXPECT_TRUE(out.empty());
  p.Finish(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "[DONE]");
}

TEST(SseParser, OnlyOneLeadingSpaceIsStripped) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.Feed("data:  two spaces\ndata\n\n", &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, " two spaces\n");  // a bare "data" line adds an empty line
}

}  // namespace
}  // namespace cellar::replay
