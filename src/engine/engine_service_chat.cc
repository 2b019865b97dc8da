#include "engine/engine_service_chat.h"

#include <utility>

namespace cellar {

Result<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(const GgufFile& file) {
  CELLAR_ASSIGN_OR_RETURN(ChatTemplate tmpl, ChatTemplate::FromGguf(file, /*want_tool_use=*/false));
  std::optional<ChatTemplate> tool_use;
  if (HasToolUseTemplate(file)) {
    CELLAR_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::FromGguf(file, /*want_tool_use=*/true));
    tool_use = std::move(t);
  }
  CELLAR_ASSIGN_OR_RETURN(ChatTokenTexts tokens, ChatTokenTextsFromGguf(file));
  return std::unique_ptr<ChatRenderer>(
      new ChatRenderer(std::move(tmpl), std::move(tool_use), std::move(tokens)));
}

Result<std::string> ChatRenderer::Render(const ChatPrompt& chat) const {
  ChatTemplateInputs in;
  in.messages = chat.messages;
  const bool has_tools = chat.tools.is_array() && !chat.tools.empty();
  if (has_tools) in.tools = chat.tools;
  in.add_generation_prompt = chat.add_generation_prompt;
  in.bos_token = tokens_.bos_token;
  in.eos_token = tokens_.eos_token;
  const ChatTemplate& t = has_tools && tool_use_ ? *tool_use_ : template_;
  auto out = t.Render(in);
  if (!out.ok() && out.status().code() != StatusCode::kInvalidArgument) {
    // Render limits (a runaway template) are the request's problem too.
    return InvalidArgument(out.status().message());
  }
  return out;
}

}  // namespace cellar
