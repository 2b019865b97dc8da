// ChatRenderer: renders a ChatPrompt with the model's chat template
// (model/chat_template.h: tokenizer.chat_template rendered the way Hugging
// Face transformers does; tokenizer.chat_template.tool_use when the request
// has tools and the model has one; ChatML when the model has no template).
// The template sees messages, tools, add_generation_prompt, bos_token and
// eos_token; string tool-call arguments are passed as JSON objects.
//
// Immutable after creation; Render may be called from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "engine/engine_service.h"
#include "gguf/gguf_file.h"
#include "model/chat_template.h"

namespace cellar {

class ChatRenderer {
 public:
  // INVALID_ARGUMENT when the model's template does not parse.
  static Result<std::unique_ptr<ChatRenderer>> Create(const GgufFile& file);

  // The prompt text. INVALID_ARGUMENT when the template refuses the messages
  // (raise_exception) or fails to render them.
  Result<std::string> Render(const ChatPrompt& chat) const;

  bool from_model() const { return !template_.is_fallback(); }
  const std::string& bos_token() const { return tokens_.bos_token; }

 private:
  ChatRenderer(ChatTemplate tmpl, std::optional<ChatTemplate> tool_use, ChatTokenTexts tokens)
      : template_(std::move(tmpl)), tool_use_(std::move(tool_use)), tokens_(std::move(tokens)) {}

  ChatTemplate template_;
  std::optional<ChatTemplate> tool_use_;
  ChatTokenTexts tokens_;
};

}  // namespace cellar
