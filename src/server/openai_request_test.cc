#include "server/openai_request.h"

#include <gtest/gtest.h>

namespace cellar {
namespace {

ParsedApiRequest ParseOk(ApiEndpoint ep, const std::string& body) {
  ParsedApiRequest p;
  auto e = ParseApiRequest(ep, body, 42, &p);
  EXPECT_FALSE(e.has_value()) << body << " -> " << (e ? e->ToJson() : "");
  return p;
}

ApiError ParseErr(ApiEndpoint ep, const std::string& body) {
  ParsedApiRequest p;
  auto e = ParseApiRequest(ep, body, 42, &p);
  EXPECT_TRUE(e.has_value()) << body;
  return e.value_or(ApiError{});
}

constexpr ApiEndpoint kChat = ApiEndpoint::kChatCompletions;
constexpr ApiEndpoint kText = ApiEndpoint::kCompletions;

TEST(OpenAiRequest, ChatDefaultsAndFields) {
  ParsedApiRequest p =
      ParseOk(kChat, R"({"model": "m", "messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_EQ(p.model, "m");
  EXPECT_FALSE(p.stream);
  EXPECT_FALSE(p.max_tokens_given);
  EXPECT_EQ(p.generate.max_tokens, 0);
  EXPECT_FLOAT_EQ(p.generate.sampling.temperature, 1.0f);
  EXPECT_EQ(p.generate.sampling.seed, 42u);  // the random seed when none is given
  EXPECT_TRUE(p.generate.stop_at_eog);
  ASSERT_EQ(p.chat.messages.size(), 1u);
  EXPECT_EQ(p.chat.messages[0]["role"], "user");
  EXPECT_EQ(p.chat.messages[0]["content"], "hi");
  EXPECT_TRUE(p.chat.tools.is_null());

  p = ParseOk(
      kChat,
      R"({"messages": [{"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                                       {"role": "user", "content": "x"}],
      "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 7,
      "max_completion_tokens": 9, "temperature": 0, "top_p": 0.5, "top_k": 3, "min_p": 0.1,
      "seed": -1, "stop": ["a", "b"], "presence_penalty": 0.5, "frequency_penalty": -0.5,
      "n": 1, "user": "u", "ignore_eos": true, "logprobs": true, "top_logprobs": 3, "session_id": "conv-1",
      "tools": [{"type": "function", "function": {"name": "f"}}]})");
  EXPECT_TRUE(p.stream);
  EXPECT_TRUE(p.include_usage);
  EXPECT_TRUE(p.max_tokens_given);
  EXPECT_EQ(p.generate.max_tokens, 9);  // max_completion_tokens wins
  EXPECT_EQ(p.chat.messages[0]["role"], "system");
  EXPECT_EQ(p.chat.messages[0]["content"], "ab");
  const SamplingParams& s = p.generate.sampling;
  EXPECT_FLOAT_EQ(s.temperature, 0.0f);
  EXPECT_FLOAT_EQ(s.top_p, 0.5f);
  EXPECT_EQ(s.top_k, 3);
  EXPECT_FLOAT_EQ(s.min_p, 0.1f);
  EXPECT_EQ(s.seed, ~uint64_t{0});
  EXPECT_FLOAT_EQ(s.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(s.frequency_penalty, -0.5f);
  EXPECT_EQ(p.generate.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.user, "u");
  EXPECT_FALSE(p.generate.stop_at_eog);
  EXPECT_TRUE(p.generate.logprobs.enabled);
  EXPECT_EQ(p.generate.logprobs.n_top, 3);
  ASSERT_TRUE(p.generate.session_id.has_value());
  EXPECT_EQ(*p.generate.session_id, "conv-1");
  ASSERT_TRUE(p.chat.tools.is_array());
  EXPECT_EQ(p.chat.tools[0]["function"]["name"], "f");

  p = ParseOk(kChat, R"({"messages": [{"role": "user", "content": "x"}], "stop": "END"})");
  EXPECT_EQ(p.generate.stop, (std::vector<std::string>{"END"}));
}

TEST(OpenAiRequest, AssistantToolCallArgumentsBecomeObjects) {
  ParsedApiRequest p = ParseOk(kChat, R"({"messages": [
      {"role": "user", "content": "weather?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
          "function": {"name": "get", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]})");
  const auto& m = p.chat.messages[1];
  EXPECT_TRUE(m["content"].is_null());
  ASSERT_TRUE(m["tool_calls"][0]["function"]["arguments"].is_object());
  EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"]["city"], "Paris");
  EXPECT_EQ(p.chat.messages[2]["tool_call_id"], "c1");

  ApiError e = ParseErr(kChat, R"({"messages": [{"role": "assistant", "tool_calls": [{"function":
      {"name": "get", "arguments": "{not json"}}]}]})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[0].tool_calls[0].function.arguments");
  EXPECT_EQ(e.code, "invalid_value");
}

TEST(OpenAiRequest, ChatErrors) {
  struct Case {
    const char* body;
    const char* param;  // nullptr: none
    const char* code;
  };
  const Case cases[] = {
      {R"({"messages": [)", nullptr, "invalid_json"},
      {R"([1, 2])", nullptr, "invalid_type"},
      {R"({})", "messages", "missing_required_parameter"},
      {R"({"messages": []})", "messages", "invalid_value"},
      {R"({"messages": "hi"})", "messages", "invalid_type"},
      {R"({"messages": [{"role": "wizard", "content": "x"}]})", "messages[0].role",
       "invalid_value"},
      {R"({"messages": [{"content": "x"}]})", "messages[0].role", "invalid_type"},
      {R"({"messages": [{"role": "user"}]})", "messages[0].content", "missing_required_parameter"},
      {R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content", "invalid_type"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
       "messages[0].content[0].type", "unsupported_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", "temperature",
       "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})", "temperature",
       "invalid_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})", "max_tokens",
       "invalid_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})", "max_tokens",
       "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})", "stream",
       "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", "n", "unsupported_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "stop": [1]})", "stop", "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})", "top_logprobs",
       "invalid_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21})",
       "top_logprobs", "invalid_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "session_id": 7})", "session_id",
       "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": {}})", "tools", "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "model": 1})", "model", "invalid_type"},
      {R"({"messages": [{"role": "user", "content": "x"}], "top_p": 0})", "top_p", "invalid_value"},
      {R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})",
       "response_format", "unsupported_value"},
  };
  for (const Case& c : cases) {
    ApiError e = ParseErr(kChat, c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.type, "invalid_request_error") << c.body;
    EXPECT_EQ(e.code, std::optional<std::string>(c.code)) << c.body;
    if (c.param == nullptr) {
      EXPECT_FALSE(e.param.has_value()) << c.body;
    } else {
      EXPECT_EQ(e.param, std::optional<std::string>(c.param)) << c.body;
    }
  }
}

TEST(OpenAiRequest, CompletionPrompts) {
  ParsedApiRequest p = ParseOk(kText, R"({"prompt": "Once upon"})");
  ASSERT_TRUE(p.prompt_text.has_value());
  EXPECT_EQ(*p.prompt_text, "Once upon");
  EXPECT_EQ(p.generate.max_tokens, kDefaultCompletionsMaxTokens);
  EXPECT_FALSE(p.generate.logprobs.enabled);

  p = ParseOk(kText, R"({"prompt": ["Once"], "max_tokens": 3, "logprobs": 2})");
  EXPECT_EQ(*p.prompt_text, "Once");
  EXPECT_EQ(p.generate.max_tokens, 3);
  EXPECT_TRUE(p.generate.logprobs.enabled);
  EXPECT_EQ(p.generate.logprobs.n_top, 2);

  p = ParseOk(kText, R"({"prompt": [1, 2, 3]})");
  ASSERT_TRUE(p.prompt_tokens.has_value());
  EXPECT_EQ(*p.prompt_tokens, (std::vector<TokenId>{1, 2, 3}));
  p = ParseOk(kText, R"({"prompt": [[4, 5]]})");
  EXPECT_EQ(*p.prompt_tokens, (std::vector<TokenId>{4, 5}));
}

TEST(OpenAiRequest, CompletionErrors) {
  EXPECT_EQ(ParseErr(kText, R"({})").code, "missing_required_parameter");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": 5})").code, "invalid_type");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": ["a", "b"]})").code, "unsupported_value");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": [1, "a"]})").code, "invalid_type");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": []})").code, "invalid_value");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": [-1]})").code, "invalid_value");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": "x", "echo": true})").code, "unsupported_value");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": "x", "logprobs": 6})").code, "invalid_value");
  EXPECT_EQ(ParseErr(kText, R"({"prompt": "x", "best_of": 2})").param, "best_of");
}

}  // namespace
}  // namespace cellar
