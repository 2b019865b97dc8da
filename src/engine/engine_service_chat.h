// ChatRenderer: renders a ChatPrompt with the model's chat template (GGUF key
// tokenizer.chat_template, a Jinja template rendered like Hugging Face
// transformers does), or ChatML when the model has none (llama.cpp's
// fallback). The template sees messages, tools (when given),
// add_generation_prompt, bos_token and eos_token.
//
// Immutable after creation; Render may be called from many threads at once.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "engine/engine_service.h"
#include "gguf/gguf_file.h"
#include "jinja/template.h"
#include "model/tokenizer.h"

namespace cellar {

class ChatRenderer {
 public:
  // INVALID_ARGUMENT when the model's template does not parse.
  static Result<std::unique_ptr<ChatRenderer>> Create(const GgufFile& file,
                                                      const Tokenizer& tokenizer);

  // The prompt text. INVALID_ARGUMENT when the template refuses the messages
  // (raise_exception) or fails to render them.
  Result<std::string> Render(const ChatPrompt& chat) const;

  bool from_model() const { return from_model_; }
  const std::string& bos_token() const { return bos_token_; }

 private:
  ChatRenderer(jinja::Template tmpl, bool from_model, std::string bos, std::string eos)
      : template_(std::move(tmpl)),
        from_model_(from_model),
        bos_token_(std::move(bos)),
        eos_token_(std::move(eos)) {}

  jinja::Template template_;
  bool from_model_;
  std::string bos_token_;
  std::string eos_token_;
};

}  // namespace cellar
