#include "engine/engine_service_chat.h"

#include <utility>

namespace cellar {
namespace {

// ChatML, as llama.cpp uses for models without a template.
constexpr const char* kChatMlTemplate =
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

}  // namespace

Result<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(const GgufFile& file,
                                                           const Tokenizer& tokenizer) {
  const Vocab& v = tokenizer.vocab();
  std::string bos = v.bos() >= 0 ? std::string(v.TokenText(v.bos())) : std::string();
  std::string eos = v.eos() >= 0 ? std::string(v.TokenText(v.eos())) : std::string();
  bool from_model = false;
  std::string source = kChatMlTemplate;
  if (file.Has("tokenizer.chat_template")) {
    auto s = file.GetString("tokenizer.chat_template");
    if (s.ok() && !s->empty()) {
      source = std::move(*s);
      from_model = true;
    }
  }
  auto tmpl = jinja::Template::Parse(source);
  if (!tmpl.ok()) return tmpl.status().WithContext("the model's chat template");
  return std::unique_ptr<ChatRenderer>(
      new ChatRenderer(std::move(*tmpl), from_model, std::move(bos), std::move(eos)));
}

Result<std::string> ChatRenderer::Render(const ChatPrompt& chat) const {
  nlohmann::ordered_json vars;
  vars["messages"] = chat.messages;
  if (chat.tools.is_array() && !chat.tools.empty()) vars["tools"] = chat.tools;
  vars["add_generation_prompt"] = chat.add_generation_prompt;
  vars["bos_token"] = bos_token_;
  vars["eos_token"] = eos_token_;
  jinja::RenderFailure failure;
  auto out = template_.Render(vars, {}, &failure);
  if (!out.ok()) {
    return InvalidArgument(failure.raised_by_template
                               ? "the chat template refused the messages: " + out.status().message()
                               : "the chat template failed: " + out.status().message());
  }
  return out;
}

}  // namespace cellar
