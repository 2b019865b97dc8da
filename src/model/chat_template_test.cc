#include "model/chat_template.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>
#include <vector>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace cellar {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

Json Msgs(std::initializer_list<std::pair<const char*, const char*>> list) {
  Json out = Json::array();
  for (const auto& [role, content] : list) out.push_back({{"role", role}, {"content", content}});
  return out;
}

// --- Golden cases through the public API, with OpenAI-style input ---

// The golden case files hold tool-call arguments as the template saw them (an
// object, or a string for the templates that needed one). A server receives
// OpenAI's JSON strings; turn every object back into a string so that Render has
// to do the conversion (and the fallback) itself.
Json AsOpenAiMessages(Json messages) {
  for (Json& m : messages) {
    if (!m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
    for (Json& call : m["tool_calls"]) {
      Json& args = call["function"]["arguments"];
      if (args.is_object()) args = args.dump();
    }
  }
  return messages;
}

TEST(ChatTemplateGolden, EveryCaseFromOpenAiInput) {
  CELLAR_REQUIRE_SHARED(dir, "golden/templates");
  int total = 0, passed = 0;
  std::string failures;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    const Json file = Json::parse(testing::ReadFileToString(path));
    Result<ChatTemplate> t = ChatTemplate::Parse(file.at("template").get<std::string>());
    ASSERT_TRUE(t.ok()) << path << ": " << t.status().ToString();
    EXPECT_FALSE(t->is_fallback());
    for (const Json& c : file.at("cases")) {
      ++total;
      ChatTemplateInputs in;
      in.messages = AsOpenAiMessages(c.at("messages"));
      in.tools = c.contains("tools") ? c.at("tools") : Json(nullptr);
      in.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
      in.bos_token = file.at("bos_token").get<std::string>();
      in.eos_token = file.at("eos_token").get<std::string>();
      if (c.contains("extra_context")) in.extra_context = c.at("extra_context");
      if (c.contains("date_string")) in.date = c.at("date_string").get<std::string>();
      Result<std::string> out = t->Render(in);
      const std::string name = path.stem().string() + "/" + c.at("name").get<std::string>();
      bool ok;
      if (c.contains("expected_error")) {
        const std::string want = c.at("expected_error").get<std::string>();
        ok = !out.ok() && (c.at("error_type") == "TemplateError"
                               ? out.status().message() == want
                               : out.status().message().find(want) != std::string::npos);
      } else {
        ok = out.ok() && *out == c.at("expected").get<std::string>();
      }
      if (ok) {
        ++passed;
      } else {
        failures += "\n  " + name + ": " + (out.ok() ? *out : out.status().ToString());
      }
    }
  }
  EXPECT_EQ(passed, total) << failures;
  std::printf("golden cases through ChatTemplate (OpenAI-style input): %d/%d\n", passed, total);
}

// --- Behaviour of Render ---

constexpr const char* kEcho =
    "{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% if m.tool_calls %}"
    "{% for c in m.tool_calls %}{{ c.function.arguments is mapping }}|"
    "{{ c.function.arguments | tojson }}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<gen>{% endif %}";

TEST(ChatTemplate, TextPartsAreJoined) {
  ChatTemplate t = ChatTemplate::Parse(kEcho).value();
  ChatTemplateInputs in;
  in.messages = Json::parse(
      R"([{"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"world"}]}])");
  Result<std::string> out = t.Render(in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "[user:Hello world]<gen>");
}

TEST(ChatTemplate, NonTextPartIsRejected) {
  ChatTemplate t = ChatTemplate::Parse(kEcho).value();
  ChatTemplateInputs in;
  in.messages =
      Json::parse(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}])");
  Result<std::string> out = t.Render(in);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "messages[0].content[0]: only text content parts are supported (got 'image_url')");
}

TEST(ChatTemplate, StringArgumentsBecomeObjectsInOrder) {
  ChatTemplate t = ChatTemplate::Parse(kEcho).value();
  ChatTemplateInputs in;
  in.add_generation_prompt = false;
  in.messages = Json::parse(R"([{"role":"assistant","content":null,"tool_calls":[
      {"id":"call00001","type":"function","function":{"name":"f",
       "arguments":"{\"z\": 1, \"a\": [1.5, \"é\"]}"}}]}])");
  Result<std::string> out = t.Render(in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "[assistant:None]True|{\"z\": 1, \"a\": [1.5, \"é\"]}");
}

TEST(ChatTemplate, InvalidJsonArgumentsStayStrings) {
  ChatTemplate t = ChatTemplate::Parse(kEcho).value();
  ChatTemplateInputs in;
  in.add_generation_prompt = false;
  in.messages = Json::parse(R"([{"role":"assistant","content":"","tool_calls":[
      {"type":"function","function":{"name":"f","arguments":"{not json"}}]}])");
  Result<std::string> out = t.Render(in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "[assistant:]False|\"{not json\"");
}

TEST(ChatTemplate, ArgumentsFallBackToStringsWhenTheTemplateConcatenates) {
  // Like DeepSeek R1: `arguments` is concatenated to a string.
  ChatTemplate t = ChatTemplate::Parse(
                       "{% for m in messages %}{% for c in m.tool_calls %}"
                       "{{ 'args=' + c.function.arguments }}{% endfor %}{% endfor %}")
                       .value();
  ChatTemplateInputs in;
  in.messages = Json::parse(R"([{"role":"assistant","content":"","tool_calls":[
      {"type":"function","function":{"name":"f","arguments":"{\"x\": 1}"}}]}])");
  Result<std::string> out = t.Render(in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "args={\"x\": 1}");
}

TEST(ChatTemplate, RaiseExceptionIsNotRetriedAndKeepsItsMessage) {
  ChatTemplate t = ChatTemplate::Parse(
                       "{% if messages[0].role != 'user' %}"
                       "{{ raise_exception('Conversation must start with user') }}{% endif %}ok")
                       .value();
  ChatTemplateInputs in;
  in.messages = Msgs({{"assistant", "x"}});
  Result<std::string> out = t.Render(in);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "Conversation must start with user");
}

TEST(ChatTemplate, VariablesMatchTransformers) {
  ChatTemplate t = ChatTemplate::Parse(
                       "{{ bos_token }}|{{ eos_token }}|{{ tools is none }}|{{ documents is none }}"
                       "|{{ add_generation_prompt }}|{{ enable_thinking }}"
                       "|{{ tools | length if tools is not none else 'no tools' }}")
                       .value();
  ChatTemplateInputs in;
  in.messages = Msgs({{"user", "hi"}});
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  in.extra_context = {{"enable_thinking", false}};
  EXPECT_EQ(t.Render(in).value(), "<s>|</s>|True|True|True|False|no tools");
  in.tools = Json::array({{{"type", "function"}}});
  in.add_generation_prompt = false;
  EXPECT_EQ(t.Render(in).value(), "<s>|</s>|False|True|False|False|1");
}

TEST(ChatTemplate, ExtraContextMayNotReplaceCoreVariables) {
  ChatTemplate t = ChatTemplate::Parse("x").value();
  ChatTemplateInputs in;
  in.messages = Msgs({{"user", "hi"}});
  in.extra_context = {{"messages", Json::array()}};
  Result<std::string> out = t.Render(in);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "extra_context may not set 'messages'");
  in.extra_context = {{"bos_token", "<B>"}};
  ChatTemplate b = ChatTemplate::Parse("{{ bos_token }}").value();
  EXPECT_EQ(b.Render(in).value(), "<B>");
}

TEST(ChatTemplate, DateDrivesStrftimeNow) {
  ChatTemplate t = ChatTemplate::Parse("{{ strftime_now('%d %b %Y, %A, day %j') }}").value();
  ChatTemplateInputs in;
  in.messages = Msgs({{"user", "hi"}});
  in.date = "2024-02-29";
  EXPECT_EQ(t.Render(in).value(), "29 Feb 2024, Thursday, day 060");
  in.date = "2024-02-30";
  EXPECT_FALSE(t.Render(in).ok());
  in.date = "24-2-3";
  EXPECT_FALSE(t.Render(in).ok());
}

TEST(ChatTemplate, LimitsStopRunawayTemplates) {
  ChatTemplate t = ChatTemplate::Parse(
                       "{% for i in range(100000) %}{% for j in range(100000) %}x"
                       "{% endfor %}{% endfor %}")
                       .value();
  ChatTemplateInputs in;
  in.messages = Msgs({{"user", "hi"}});
  jinja::RenderLimits limits;
  limits.max_steps = 100000;
  Result<std::string> out = t.Render(in, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

TEST(ChatTemplate, SyntaxErrorNamesLineAndColumn) {
  Result<ChatTemplate> t =
      ChatTemplate::Parse("line one\n{% for m in messages %}\n{{ m.x | nosuch }}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "template syntax error at line 3, column 10: No filter named 'nosuch'.");
}

TEST(ChatTemplate, ChatmlFallback) {
  ChatTemplate t = ChatTemplate::Chatml();
  EXPECT_TRUE(t.is_fallback());
  ChatTemplateInputs in;
  in.messages = Json::parse(R"([{"role":"system","content":"S"},{"role":"user","content":"U"},
      {"role":"assistant","content":null,"tool_calls":[{"type":"function",
       "function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"R"}])");
  EXPECT_EQ(t.Render(in).value(),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
            "<|im_start|>assistant\n<|im_end|>\n<|im_start|>tool\nR<|im_end|>\n"
            "<|im_start|>assistant\n");
  in.add_generation_prompt = false;
  in.messages = Msgs({{"user", "U"}});
  EXPECT_EQ(t.Render(in).value(), "<|im_start|>user\nU<|im_end|>\n");
}

TEST(ChatTemplate, ConcurrentRendersAgree) {
  ChatTemplate t = ChatTemplate::Parse(
                       "{% set ns = namespace(n=0) %}{% for m in messages %}"
                       "{% set ns.n = ns.n + 1 %}{{ ns.n }}:{{ m.content | upper }};{% endfor %}")
                       .value();
  ChatTemplateInputs in;
  in.messages = Msgs({{"user", "a"}, {"assistant", "b"}, {"user", "c"}});
  const std::string want = t.Render(in).value();
  EXPECT_EQ(want, "1:A;2:B;3:C;");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 200; ++i) {
        Result<std::string> out = t.Render(in);
        if (!out.ok() || *out != want) ++mismatches[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(mismatches[k], 0) << "thread " << k;
}

TEST(ValidateMessages, AcceptsOpenAiConversations) {
  EXPECT_TRUE(ValidateMessages(Json::parse(R"([
      {"role":"system","content":"s"},{"role":"developer","content":"d"},
      {"role":"user","content":[{"type":"text","text":"t"}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"r"},
      {"role":"assistant","content":"done"}])"))
                  .ok());
}

TEST(ValidateMessages, NamesTheFirstProblem) {
  auto msg = [](const char* json) { return ValidateMessages(Json::parse(json)).message(); };
  EXPECT_EQ(msg("{}"), "messages must be an array");
  EXPECT_EQ(msg("[]"), "messages must not be empty");
  EXPECT_EQ(msg("[1]"), "messages[0] must be an object");
  EXPECT_EQ(msg(R"([{"content":"x"}])"), "messages[0].role must be a string");
  EXPECT_EQ(msg(R"([{"role":"robot","content":"x"}])"),
            "messages[0].role must be one of system, user, assistant, tool, developer (got "
            "'robot')");
  EXPECT_EQ(msg(R"([{"role":"user"}])"), "messages[0].content is required for role 'user'");
  EXPECT_EQ(msg(R"([{"role":"user","content":5}])"),
            "messages[0].content must be a string, null or a list of text parts");
  EXPECT_EQ(msg(R"([{"role":"user","content":[{"type":"image_url"}]}])"),
            "messages[0].content[0]: only text content parts are supported (got 'image_url')");
  EXPECT_EQ(msg(R"([{"role":"user","content":"x","tool_calls":[]}])"),
            "messages[0].tool_calls is only allowed for role 'assistant'");
  EXPECT_EQ(msg(R"([{"role":"assistant","content":null,"tool_calls":[{"function":{}}]}])"),
            "messages[0].tool_calls[0].function.name must be a string");
  EXPECT_EQ(msg(R"([{"role":"tool","content":"x","tool_call_id":3}])"),
            "messages[0].tool_call_id must be a string");
}

// --- GGUF ---

Result<std::unique_ptr<GgufFile>> GgufWith(std::vector<std::pair<std::string, std::string>> kv,
                                           std::vector<uint8_t>* storage) {
  GgufWriter w;
  for (const auto& [k, v] : kv) w.SetString(k, v);
  const std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "hi"};
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  w.SetUint32("tokenizer.ggml.bos_token_id", 1);
  w.SetUint32("tokenizer.ggml.eos_token_id", 2);
  CELLAR_ASSIGN_OR_RETURN(*storage, w.WriteToBytes());
  return GgufFile::Parse(*storage);
}

TEST(ChatTemplateGguf, PicksToolUseVariantOnlyWhenAsked) {
  std::vector<uint8_t> bytes;
  auto file = GgufWith(
      {{"tokenizer.chat_template", "default"}, {"tokenizer.chat_template.tool_use", "tools"}},
      &bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(HasToolUseTemplate(**file));
  EXPECT_EQ(ChatTemplate::FromGguf(**file).value().source(), "default");
  EXPECT_EQ(ChatTemplate::FromGguf(**file, true).value().source(), "tools");
  const ChatTokenTexts texts = ChatTokenTextsFromGguf(**file).value();
  EXPECT_EQ(texts.bos_token, "<s>");
  EXPECT_EQ(texts.eos_token, "</s>");
}

TEST(ChatTemplateGguf, NoTemplateFallsBackToChatml) {
  std::vector<uint8_t> bytes;
  auto file = GgufWith({}, &bytes);
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(HasToolUseTemplate(**file));
  ChatTemplate t = ChatTemplate::FromGguf(**file, true).value();
  EXPECT_TRUE(t.is_fallback());
  EXPECT_EQ(t.source(), ChatTemplate::Chatml().source());
}

TEST(ChatTemplateGguf, BrokenTemplateIsAnError) {
  std::vector<uint8_t> bytes;
  auto file = GgufWith({{"tokenizer.chat_template", "{% if %}"}}, &bytes);
  ASSERT_TRUE(file.ok());
  Result<ChatTemplate> t = ChatTemplate::FromGguf(**file);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("tokenizer.chat_template: template syntax error at line 1"),
            std::string::npos)
      << t.status().message();
}

TEST(ChatTemplateGguf, VocabFilesRenderTheirTemplates) {
  CELLAR_REQUIRE_SHARED(vocab, "vocab/ggml-vocab-llama-bpe.gguf");
  int with_template = 0;
  for (const char* name : {"ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf",
                           "ggml-vocab-phi-3.gguf", "ggml-vocab-gpt-2.gguf"}) {
    auto file = GgufFile::Open(testing::SharedPath(std::string("vocab/") + name).string());
    ASSERT_TRUE(file.ok()) << name << ": " << file.status().ToString();
    Result<ChatTemplate> t = ChatTemplate::FromGguf(**file);
    ASSERT_TRUE(t.ok()) << name << ": " << t.status().ToString();
    const ChatTokenTexts texts = ChatTokenTextsFromGguf(**file).value();
    ChatTemplateInputs in;
    in.messages = Msgs({{"system", "Be brief."}, {"user", "Hi"}});
    in.bos_token = texts.bos_token;
    in.eos_token = texts.eos_token;
    in.date = "2026-11-23";
    Result<std::string> out = t->Render(in);
    ASSERT_TRUE(out.ok()) << name << ": " << out.status().ToString();
    EXPECT_NE(out->find("Hi"), std::string::npos) << name << ": " << *out;
    if (!t->is_fallback()) ++with_template;
  }
  EXPECT_EQ(with_template, 3);  // gpt-2 has no template and falls back
}

TEST(ChatTemplateGguf, LlamaBpeVocabRendersLikeLlama3) {
  CELLAR_REQUIRE_SHARED(vocab, "vocab/ggml-vocab-llama-bpe.gguf");
  auto file = GgufFile::Open(vocab.string());
  ASSERT_TRUE(file.ok());
  ChatTemplate t = ChatTemplate::FromGguf(**file).value();
  const ChatTokenTexts texts = ChatTokenTextsFromGguf(**file).value();
  EXPECT_EQ(texts.bos_token, "<|begin_of_text|>");
  ChatTemplateInputs in;
  in.messages = Msgs({{"user", "Hi"}});
  in.bos_token = texts.bos_token;
  in.eos_token = texts.eos_token;
  in.date = "2026-11-23";
  const std::string out = t.Render(in).value();
  EXPECT_EQ(out.rfind("<|begin_of_text|><|start_header_id|>", 0), 0u) << out;
  EXPECT_NE(out.find("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"), std::string::npos)
      << out;
  EXPECT_TRUE(out.ends_with("<|start_header_id|>assistant<|end_header_id|>\n\n")) << out;
}

}  // namespace
}  // namespace cellar
