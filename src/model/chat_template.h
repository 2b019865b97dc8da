// ChatTemplate: turns OpenAI-style chat messages into the model's prompt text by
// rendering the model's own Jinja chat template (tokenizer.chat_template in the
// GGUF) exactly as Hugging Face transformers' apply_chat_template does. A file
// without a template gets a documented ChatML fallback (docs/TEMPLATES.md).
//
// Parse once; Render is const and thread-safe (many request threads may render
// with one ChatTemplate concurrently). Copies share the parsed template.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "jinja/template.h"

namespace cellar {

class GgufFile;

struct ChatTemplateInputs {
  // [{"role": "user", "content": "..."}, ...]. Content may be a string, null, or a
  // list of {"type": "text", "text": ...} parts (joined into one string). Assistant
  // tool_calls may carry OpenAI's string `arguments`: they are parsed into JSON
  // objects before rendering, as transformers expects (see Render).
  nlohmann::ordered_json messages;
  nlohmann::ordered_json tools;  // OpenAI tool definitions; null = none
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  // Extra top-level template variables (enable_thinking, reasoning_effort, ...). May
  // override bos_token/eos_token but not messages/tools/documents/add_generation_prompt.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
  // "YYYY-MM-DD": the day strftime_now() sees (at midnight); default: now (local).
  std::optional<std::string> date;
};

class ChatTemplate {
 public:
  // Parses a Jinja chat template; syntax errors name line and column.
  static Result<ChatTemplate> Parse(std::string source);
  // The ChatML fallback (<|im_start|>role\ncontent<|im_end|>\n ...).
  static ChatTemplate Chatml();
  // The template of a GGUF file: tokenizer.chat_template.tool_use when want_tool_use
  // and the file has one, else tokenizer.chat_template; ChatML (with a log line)
  // when the file has neither. A template that does not parse is an error.
  static Result<ChatTemplate> FromGguf(const GgufFile& file, bool want_tool_use = false);

  // Renders the prompt. Errors are InvalidArgument: malformed inputs, a template
  // that rejects the conversation (raise_exception: the message is the template's
  // own text, e.g. "Conversation roles must alternate user/assistant/..."), or a
  // template failure ("template render error at line L, column C: ..."); limits
  // (runaway templates) are ResourceExhausted.
  //
  // Tool-call arguments: a string that parses as a JSON object is passed as that
  // object. If rendering then fails inside the template (not via raise_exception),
  // the render is retried with the original strings, because some templates
  // (DeepSeek R1/V3.1, functionary v3.1) concatenate `arguments` as a string.
  Result<std::string> Render(const ChatTemplateInputs& inputs) const;

  // Same, with explicit jinja limits (tests, fuzzing).
  Result<std::string> Render(const ChatTemplateInputs& inputs,
                             const jinja::RenderLimits& limits) const;

  bool is_fallback() const { return is_fallback_; }
  const std::string& source() const { return template_.source(); }

 private:
  ChatTemplate(jinja::Template t, bool is_fallback)
      : template_(std::move(t)), is_fallback_(is_fallback) {}

  jinja::Template template_;
  bool is_fallback_ = false;
};

// Checks OpenAI-style messages before rendering (the server's 400 errors): a
// non-empty array of objects; role one of system, user, assistant, tool,
// developer; content a string, null (assistant/tool-call messages) or a list of
// text parts; tool_calls well formed. InvalidArgument names the first problem,
// e.g. "messages[2].content must be a string, null or a list of text parts".
Status ValidateMessages(const nlohmann::ordered_json& messages);

// The token texts a template prints for bos_token / eos_token, read from
// tokenizer.ggml.{bos,eos}_token_id and tokenizer.ggml.tokens ("" when absent).
struct ChatTokenTexts {
  std::string bos_token;
  std::string eos_token;
};
Result<ChatTokenTexts> ChatTokenTextsFromGguf(const GgufFile& file);

// True when the file carries tokenizer.chat_template.tool_use (transformers picks
// it whenever a request passes tools).
bool HasToolUseTemplate(const GgufFile& file);

}  // namespace cellar
