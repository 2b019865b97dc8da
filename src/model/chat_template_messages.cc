#include "model/chat_template_messages.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "model/chat_template.h"

namespace cellar {

namespace chat_template_internal {

using Json = nlohmann::ordered_json;

namespace {

std::string Where(size_t i, std::string_view field) {
  return "messages[" + std::to_string(i) + "]" + (field.empty() ? "" : ".") + std::string(field);
}

// Text of a list of content parts, or an error naming the first non-text part.
Result<std::string> JoinTextParts(const Json& parts, size_t i) {
  std::string text;
  for (size_t k = 0; k < parts.size(); ++k) {
    const Json& p = parts[k];
    const std::string where = Where(i, "content[" + std::to_string(k) + "]");
    if (!p.is_object()) return InvalidArgument(where + " must be an object");
    const auto type = p.find("type");
    if (type == p.end() || !type->is_string()) {
      return InvalidArgument(where + ".type must be a string");
    }
    if (*type != "text") {
      return InvalidArgument(where + ": only text content parts are supported (got '" +
                             type->get<std::string>() + "')");
    }
    const auto t = p.find("text");
    if (t == p.end() || !t->is_string()) return InvalidArgument(where + ".text must be a string");
    if (k) text += kTextPartSeparator;
    text += t->get<std::string>();
  }
  return text;
}

// Nesting depth of JSON text, counted without parsing (strings skipped).
int TextDepth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

bool JsonDeeperThan(const Json& j, int limit) {
  // Iterative, so that hostile input cannot exhaust the stack here.
  std::vector<std::pair<const Json*, int>> stack{{&j, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    if (depth > limit) return true;
    for (const Json& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

Result<NormalizedMessages> NormalizeMessages(const Json& messages) {
  if (!messages.is_array()) return InvalidArgument("messages must be an array");
  if (JsonDeeperThan(messages, kMaxMessageDepth)) {
    return InvalidArgument("messages are nested deeper than " + std::to_string(kMaxMessageDepth) +
                           " levels");
  }
  NormalizedMessages out;
  out.messages = messages;
  for (size_t i = 0; i < out.messages.size(); ++i) {
    Json& m = out.messages[i];
    if (!m.is_object()) return InvalidArgument(Where(i, "") + " must be an object");
    auto content = m.find("content");
    if (content != m.end() && content->is_array()) {
      CELLAR_ASSIGN_OR_RETURN(std::string text, JoinTextParts(*content, i));
      *content = std::move(text);
    }
  }
  out.original_arguments = out.messages;
  for (Json& m : out.messages) {
    auto calls = m.find("tool_calls");
    if (calls == m.end() || !calls->is_array()) continue;
    for (Json& call : *calls) {
      if (!call.is_object()) continue;
      auto fn = call.find("function");
      if (fn == call.end() || !fn->is_object()) continue;
      auto args = fn->find("arguments");
      if (args == fn->end() || !args->is_string()) continue;
      if (TextDepth(args->get_ref<const std::string&>()) > kMaxMessageDepth) continue;
      // OpenAI sends arguments as a JSON string; templates expect the object.
      Json parsed = Json::parse(args->get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (parsed.is_object()) {
        *args = std::move(parsed);
        out.converted_arguments = true;
      }
    }
  }
  return out;
}

}  // namespace chat_template_internal

namespace {

using Json = nlohmann::ordered_json;

Status CheckToolCalls(const Json& calls, const std::string& where) {
  if (!calls.is_array()) return InvalidArgument(where + " must be an array");
  for (size_t k = 0; k < calls.size(); ++k) {
    const Json& c = calls[k];
    const std::string w = where + "[" + std::to_string(k) + "]";
    if (!c.is_object()) return InvalidArgument(w + " must be an object");
    if (auto id = c.find("id"); id != c.end() && !id->is_string()) {
      return InvalidArgument(w + ".id must be a string");
    }
    if (auto type = c.find("type"); type != c.end() && *type != "function") {
      return InvalidArgument(w + ".type must be \"function\"");
    }
    const auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object())
      return InvalidArgument(w + ".function must be an object");
    const auto name = fn->find("name");
    if (name == fn->end() || !name->is_string()) {
      return InvalidArgument(w + ".function.name must be a string");
    }
    const auto args = fn->find("arguments");
    if (args != fn->end() && !args->is_string() && !args->is_object()) {
      return InvalidArgument(w + ".function.arguments must be a JSON string or an object");
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateMessages(const Json& messages) {
  if (!messages.is_array()) return InvalidArgument("messages must be an array");
  if (messages.empty()) return InvalidArgument("messages must not be empty");
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return InvalidArgument(where + " must be an object");
    const auto role_it = m.find("role");
    if (role_it == m.end() || !role_it->is_string()) {
      return InvalidArgument(where + ".role must be a string");
    }
    const std::string role = role_it->get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" &&
        role != "developer") {
      return InvalidArgument(where +
                             ".role must be one of system, user, assistant, tool, developer "
                             "(got '" +
                             role + "')");
    }
    const auto content = m.find("content");
    const bool has_tool_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
    if (content == m.end() || content->is_null()) {
      if (!(role == "assistant" && has_tool_calls)) {
        return InvalidArgument(where + ".content is required for role '" + role + "'");
      }
    } else if (content->is_array()) {
      for (size_t k = 0; k < content->size(); ++k) {
        const Json& p = (*content)[k];
        const std::string w = where + ".content[" + std::to_string(k) + "]";
        if (!p.is_object() || !p.contains("type") || !p["type"].is_string()) {
          return InvalidArgument(w + " must be an object with a string \"type\"");
        }
        if (p["type"] != "text") {
          return InvalidArgument(w + ": only text content parts are supported (got '" +
                                 p["type"].get<std::string>() + "')");
        }
        if (!p.contains("text") || !p["text"].is_string()) {
          return InvalidArgument(w + ".text must be a string");
        }
      }
    } else if (!content->is_string()) {
      return InvalidArgument(where + ".content must be a string, null or a list of text parts");
    }
    if (has_tool_calls) {
      if (role != "assistant") {
        return InvalidArgument(where + ".tool_calls is only allowed for role 'assistant'");
      }
      CELLAR_RETURN_IF_ERROR(CheckToolCalls(m["tool_calls"], where + ".tool_calls"));
    }
    for (const char* field : {"name", "tool_call_id"}) {
      if (auto f = m.find(field); f != m.end() && !f->is_string()) {
        return InvalidArgument(where + "." + field + " must be a string");
      }
    }
  }
  return OkStatus();
}

}  // namespace cellar
