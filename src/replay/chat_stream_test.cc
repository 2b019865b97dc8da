#include "replay/chat_stream.h"

#include <gtest/gtest.h>

namespace cellar::replay {
namespace {

const char kStream[] =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":2,"
    "\"total_tokens\":122,\"prompt_tokens_details\":{\"cached_tokens\":96}}}\n\n"
    "data: [DONE]\n\n";

TEST(ChatStreamReader, TimesTheFirstContentChunkNotTheRoleChunk) {
  const std::string s = kStream;
  const size_t second = s.find("data:", 1);  // start of the first content event
  ChatStreamReader r;
  ASSERT_TRUE(r.Feed(s.substr(0, second), 1.0).ok());
  EXPECT_LT(r.first_token_s(), 0);
  ASSERT_TRUE(r.Feed(s.substr(second, 10), 2.0).ok());  // half an event: nothing yet
  EXPECT_LT(r.first_token_s(), 0);
  ASSERT_TRUE(r.Feed(s.substr(second + 10), 3.0).ok());
  r.Finish(3.5);
  EXPECT_DOUBLE_EQ(r.first_token_s(), 3.0);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(r.content_chunks(), 2);
  EXPECT_EQ(r.output_chars(), 5);
  EXPECT_EQ(r.finish_reason(), "length");
  EXPECT_EQ(r.usage().prompt_tokens, 120);
  EXPECT_EQ(r.usage().completion_tokens, 2);
  EXPECT_EQ(r.usage().cached_tokens, 96);
}

TEST(ChatStreamReader, ByteByByteGivesTheSameResult) {
  const std::string s = kStream;
  ChatStreamReader r;
  for (size_t i = 0; i < s.size(); ++i)
    ASSERT_TRUE(r.Feed(s.substr(i, 1), static_cast<double>(i)).ok());
  r.Finish(1e9);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.content_chunks(), 2);
  EXPECT_EQ(r.usage().cached_tokens, 96);
  // The first content event ends with its blank line: that byte's time.
  const size_t first_content_end = s.find("\n\n", s.find("Hel")) + 1;
  EXPECT_DOUBLE_EQ(r.first_token_s(), static_cast<double>(first_content_end));
}

TEST(ChatStreamReader, ErrorEventMidStream) {
  ChatStreamReader r;
  ASSERT_TRUE(
      r.Feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
             "data: {\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}\n\n"
             "data: [DONE]\n\n",
             1.0)
          .ok());
  EXPECT_EQ(r.error(), "out of memory");
  EXPECT_EQ(r.content_chunks(), 1);
  EXPECT_TRUE(r.done());
}

TEST(ChatStreamReader, UsageWithoutCachedTokensAndBadChunks) {
  ChatStreamReader r;
  ASSERT_TRUE(
      r.Feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n",
             1.0)
          .ok());
  EXPECT_EQ(r.usage().prompt_tokens, 5);
  EXPECT_EQ(r.usage().cached_tokens, -1);
  EXPECT_EQ(r.error(), "");
  ASSERT_TRUE(r.Feed("data: not json\n\n", 2.0).ok());
  EXPECT_NE(r.error().find("not a JSON object"), std::string::npos);
}

TEST(ChatStreamReader, ChunksAfterDoneAreIgnored) {
  ChatStreamReader r;
  ASSERT_TRUE(
      r.Feed("data: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n", 1.0)
          .ok());
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.content_chunks(), 0);
}

TEST(ChatStreamReader, NonStreamedAnswer) {
  ChatStreamReader r;
  r.ReadNonStreamed(
      R"({"choices":[{"message":{"role":"assistant","content":"hi there"},"finish_reason":"stop"}],
          "usage":{"prompt_tokens":9,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}})",
      4.0);
  EXPECT_DOUBLE_EQ(r.first_token_s(), 4.0);
  EXPECT_EQ(r.output_chars(), 8);
  EXPECT_EQ(r.usage().prompt_tokens, 9);
  EXPECT_EQ(r.usage().cached_tokens, 0);
  EXPECT_EQ(r.finish_reason(), "stop");
}

}  // namespace
}  // namespace cellar::replay
