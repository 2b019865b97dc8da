#include "model/chat_template.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/log.h"
#include "gguf/gguf_file.h"
#include "model/chat_template_messages.h"

namespace cellar {

namespace {

using Json = nlohmann::ordered_json;
using chat_template_internal::JsonDeeperThan;
using chat_template_internal::kMaxMessageDepth;

// The fallback for files without a template: ChatML, as transformers' old default
// template, tolerant of null content (tool-call messages print no content).
constexpr const char* kChatmlSource =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}{{- message['content'] -}}{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

// "YYYY-MM-DD" -> that day at 00:00 (with weekday and day of year filled in).
Result<std::tm> ParseDate(const std::string& date) {
  int y = 0;
  unsigned m = 0, d = 0;
  char extra = 0;
  const bool shape_ok = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
                        std::all_of(date.begin(), date.end(),
                                    [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
  if (!shape_ok || std::sscanf(date.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &extra) != 3) {
    return InvalidArgument("date must be YYYY-MM-DD (got '" + date + "')");
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return InvalidArgument("date is not a valid day: '" + date + "'");
  const std::chrono::sys_days days{ymd};
  const std::chrono::year_month_day jan1{ymd.year(), std::chrono::January, std::chrono::day{1}};
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = static_cast<int>(m) - 1;
  tm.tm_mday = static_cast<int>(d);
  tm.tm_wday = static_cast<int>(std::chrono::weekday{days}.c_encoding());
  tm.tm_yday = static_cast<int>((days - std::chrono::sys_days{jan1}).count());
  tm.tm_isdst = -1;
  return tm;
}

Status CheckDepth(const Json& j, const char* what) {
  if (JsonDeeperThan(j, kMaxMessageDepth)) {
    return InvalidArgument(std::string(what) + " nested deeper than " +
                           std::to_string(kMaxMessageDepth) + " levels");
  }
  return OkStatus();
}

}  // namespace

Result<ChatTemplate> ChatTemplate::Parse(std::string source) {
  CELLAR_ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(source));
  return ChatTemplate(std::move(t), false);
}

ChatTemplate ChatTemplate::Chatml() {
  // The fallback source is a constant that the tests parse; it cannot fail.
  static const jinja::Template* const kChatml =
      new jinja::Template(std::move(jinja::Template::Parse(kChatmlSource)).value());
  return ChatTemplate(*kChatml, true);
}

Result<ChatTemplate> ChatTemplate::FromGguf(const GgufFile& file, bool want_tool_use) {
  if (want_tool_use && HasToolUseTemplate(file)) {
    CELLAR_ASSIGN_OR_RETURN(std::string src, file.GetString("tokenizer.chat_template.tool_use"));
    Result<ChatTemplate> t = Parse(std::move(src));
    if (!t.ok()) return t.status().WithContext("tokenizer.chat_template.tool_use");
    return t;
  }
  if (!file.Has("tokenizer.chat_template")) {
    CELLAR_LOG_INFO("model has no tokenizer.chat_template; using the ChatML fallback template");
    return Chatml();
  }
  CELLAR_ASSIGN_OR_RETURN(std::string src, file.GetString("tokenizer.chat_template"));
  Result<ChatTemplate> t = Parse(std::move(src));
  if (!t.ok()) return t.status().WithContext("tokenizer.chat_template");
  return t;
}

Result<std::string> ChatTemplate::Render(const ChatTemplateInputs& inputs) const {
  return Render(inputs, jinja::RenderLimits{});
}

Result<std::string> ChatTemplate::Render(const ChatTemplateInputs& in,
                                         const jinja::RenderLimits& limits) const {
  if (!in.tools.is_null() && !in.tools.is_array()) {
    return InvalidArgument("tools must be an array or null");
  }
  if (!in.extra_context.is_null() && !in.extra_context.is_object()) {
    return InvalidArgument("extra_context must be an object");
  }
  CELLAR_RETURN_IF_ERROR(CheckDepth(in.tools, "tools"));
  CELLAR_RETURN_IF_ERROR(CheckDepth(in.extra_context, "extra_context"));
  CELLAR_ASSIGN_OR_RETURN(chat_template_internal::NormalizedMessages msgs,
                          chat_template_internal::NormalizeMessages(in.messages));

  // The variables transformers passes to the template.
  Json vars = Json::object();
  vars["messages"] = nullptr;
  vars["tools"] = in.tools;
  vars["documents"] = nullptr;
  vars["add_generation_prompt"] = in.add_generation_prompt;
  vars["bos_token"] = in.bos_token;
  vars["eos_token"] = in.eos_token;
  if (in.extra_context.is_object()) {
    for (const auto& [k, v] : in.extra_context.items()) {
      if (k == "messages" || k == "tools" || k == "documents" || k == "add_generation_prompt") {
        return InvalidArgument("extra_context may not set '" + k + "'");
      }
      vars[k] = v;
    }
  }

  jinja::RenderOptions options;
  options.limits = limits;
  if (in.date) {
    CELLAR_ASSIGN_OR_RETURN(std::tm day, ParseDate(*in.date));
    options.now = day;
  }

  vars["messages"] = std::move(msgs.messages);
  jinja::RenderFailure failure;
  Result<std::string> out = template_.Render(vars, options, &failure);
  if (out.ok() || failure.raised_by_template || !msgs.converted_arguments) return out;
  // A template-level failure with object arguments: retry with the strings, as the
  // reference renderings do for templates that concatenate `arguments`.
  vars["messages"] = std::move(msgs.original_arguments);
  Result<std::string> retry = template_.Render(vars, options, &failure);
  if (retry.ok() || failure.raised_by_template) return retry;
  return out;
}

Result<ChatTokenTexts> ChatTokenTextsFromGguf(const GgufFile& file) {
  ChatTokenTexts texts;
  if (!file.Has("tokenizer.ggml.tokens")) return texts;
  CELLAR_ASSIGN_OR_RETURN(std::span<const std::string_view> tokens,
                          file.GetStringArrayView("tokenizer.ggml.tokens"));
  auto text_of = [&](const char* key, std::string* out) -> Status {
    if (!file.Has(key)) return OkStatus();
    CELLAR_ASSIGN_OR_RETURN(uint64_t id, file.GetUint(key));
    if (id >= tokens.size()) {
      return InvalidArgument(std::string(key) + " = " + std::to_string(id) +
                             " is past the vocabulary (" + std::to_string(tokens.size()) +
                             " tokens)");
    }
    *out = std::string(tokens[id]);
    return OkStatus();
  };
  CELLAR_RETURN_IF_ERROR(text_of("tokenizer.ggml.bos_token_id", &texts.bos_token));
  CELLAR_RETURN_IF_ERROR(text_of("tokenizer.ggml.eos_token_id", &texts.eos_token));
  return texts;
}

bool HasToolUseTemplate(const GgufFile& file) {
  const GgufValue* v = file.Find("tokenizer.chat_template.tool_use");
  return v != nullptr && file.GetStringView("tokenizer.chat_template.tool_use").ok();
}

}  // namespace cellar
