// libFuzzer target for chat templates: the input is
//   <template source> NUL <JSON object: messages, tools, bos_token, eos_token,
//                          extra_context, add_generation_prompt>
// (without a NUL, the whole input is the template and a default conversation is
// used). The template is parsed and rendered directly (jinja::Template, the JSON
// object as variables) and through ChatTemplate (message normalization, tool-call
// argument conversion and fallback), under small limits. Invariants: errors carry a
// message; a successful render is valid UTF-8, within the output limit, and the
// same when rendered twice.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "jinja/py_string.h"
#include "jinja/template.h"
#include "model/chat_template.h"
#include "model/chat_template_messages.h"

namespace {

using Json = nlohmann::ordered_json;

cellar::jinja::RenderLimits FuzzLimits() {
  cellar::jinja::RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 20000;
  limits.max_call_depth = 20;
  limits.max_eval_depth = 300;
  limits.max_value_depth = 64;
  return limits;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckResult(const cellar::Result<std::string>& r, size_t max_bytes) {
  if (!r.ok()) {
    Check(!r.status().message().empty());
    return;
  }
  Check(r->size() <= max_bytes);
  Check(cellar::jinja::IsValidUtf8(*r));
}

Json DefaultInput() {
  return Json::parse(R"({"messages":[{"role":"system","content":"S"},
    {"role":"user","content":"Hi"},{"role":"assistant","content":"","tool_calls":[
    {"id":"call00001","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}}]},
    {"role":"tool","content":"R"},{"role":"user","content":"Bye"}],
    "bos_token":"<s>","eos_token":"</s>"})");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view source = all.substr(0, nul);
  Json input = DefaultInput();
  if (nul != std::string_view::npos) {
    Json parsed = Json::parse(all.substr(nul + 1), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && !cellar::chat_template_internal::JsonDeeperThan(parsed, 200)) {
      input = std::move(parsed);
    }
  }

  cellar::Result<cellar::jinja::Template> t = cellar::jinja::Template::Parse(source);
  if (!t.ok()) {
    Check(!t.status().message().empty());
    return 0;
  }
  const cellar::jinja::RenderLimits limits = FuzzLimits();
  cellar::jinja::RenderOptions options;
  options.limits = limits;
  std::tm day{};
  day.tm_year = 126;
  day.tm_mon = 10;
  day.tm_mday = 23;
  day.tm_wday = 1;
  day.tm_yday = 326;
  options.now = day;

  // 1. The raw interpreter, the JSON object as the variables.
  cellar::Result<std::string> a = t->Render(input, options);
  CheckResult(a, limits.max_output_bytes);
  cellar::Result<std::string> b = t->Render(input, options);
  Check(a.ok() == b.ok());
  if (a.ok()) Check(*a == *b);

  // 2. Through ChatTemplate, as the server renders.
  cellar::Result<cellar::ChatTemplate> chat = cellar::ChatTemplate::Parse(std::string(source));
  Check(chat.ok());
  cellar::ChatTemplateInputs in;
  in.messages = input.contains("messages") ? input["messages"] : Json::array();
  if (input.contains("tools")) in.tools = input["tools"];
  if (input.contains("extra_context")) in.extra_context = input["extra_context"];
  if (input.contains("bos_token") && input["bos_token"].is_string()) {
    in.bos_token = input["bos_token"].get<std::string>();
  }
  if (input.contains("eos_token") && input["eos_token"].is_string()) {
    in.eos_token = input["eos_token"].get<std::string>();
  }
  if (input.contains("add_generation_prompt") && input["add_generation_prompt"].is_boolean()) {
    in.add_generation_prompt = input["add_generation_prompt"].get<bool>();
  }
  in.date = "2026-11-23";
  CheckResult(chat->Render(in, limits), limits.max_output_bytes);
  return 0;
}
