#include "replay/sharegpt.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <utility>
#include <variant>
#include <vector>

namespace cellar::replay {
namespace {

enum class Role { kUser, kAssistant, kSystem };

std::optional<Role> RoleFromName(const std::string& from) {
  if (from == "human" || from == "user") return Role::kUser;
  if (from == "gpt" || from == "assistant" || from == "chatgpt" || from == "bing" ||
      from == "bard") {
    return Role::kAssistant;
  }
  if (from == "system") return Role::kSystem;
  return std::nullopt;
}

bool IsBlank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

// Converts one entry; on failure returns the skip reason.
std::variant<Conversation, std::string> ConvertEntry(const nlohmann::json& entry, size_t index,
                                                     bool* trimmed_leading_assistant) {
  if (!entry.is_object()) return std::string("malformed");
  auto conv_it = entry.find("conversations");
  if (conv_it == entry.end() || !conv_it->is_array()) return std::string("malformed");

  Conversation c;
  auto id_it = entry.find("id");
  if (id_it != entry.end() && id_it->is_string()) {
    c.id = id_it->get<std::string>();
  } else if (id_it != entry.end() && id_it->is_number_integer()) {
    c.id = std::to_string(id_it->get<int64_t>());
  } else {
    c.id = "#" + std::to_string(index);
  }

  std::vector<std::pair<Role, std::string>> msgs;
  for (const nlohmann::json& m : *conv_it) {
    if (!m.is_object()) return std::string("malformed");
    auto from = m.find("from");
    auto value = m.find("value");
    if (from == m.end() || value == m.end() || !from->is_string() || !value->is_string()) {
      return std::string("malformed");
    }
    std::optional<Role> role = RoleFromName(from->get<std::string>());
    if (!role) return std::string("unknown_role");
    std::string text = value->get<std::string>();
    if (IsBlank(text)) return std::string("empty_message");
    msgs.emplace_back(*role, std::move(text));
  }

  size_t i = 0;
  for (; i < msgs.size() && msgs[i].first == Role::kSystem; ++i) {
    if (!c.system.empty()) c.system += "\n";
    c.system += msgs[i].second;
  }
  *trimmed_leading_assistant = false;
  for (; i < msgs.size() && msgs[i].first == Role::kAssistant; ++i) {
    *trimmed_leading_assistant = true;
  }
  Role expected = Role::kUser;
  for (; i < msgs.size(); ++i) {
    const Role role = msgs[i].first;
    if (role == Role::kSystem) return std::string("misplaced_system");
    if (role != expected) return std::string("not_alternating");
    if (role == Role::kUser) {
      c.turns.push_back(Turn{std::move(msgs[i].second), ""});
      expected = Role::kAssistant;
    } else {
      c.turns.back().assistant = std::move(msgs[i].second);
      expected = Role::kUser;
    }
  }
  if (c.turns.empty()) return std::string("no_user_turn");
  return c;
}

}  // namespace

Result<Workload> ParseShareGpt(std::string_view json_text) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("ShareGPT: not valid JSON: ") + e.what());
  }
  if (!root.is_array()) return InvalidArgument("ShareGPT: top level is not a JSON array");
  Workload w;
  w.conversations.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    bool trimmed = false;
    auto r = ConvertEntry(root[i], i, &trimmed);
    if (auto* reason = std::get_if<std::string>(&r)) {
      ++w.skipped[*reason];
      continue;
    }
    if (trimmed) ++w.adjusted["leading_assistant_trimmed"];
    w.conversations.push_back(std::move(std::get<Conversation>(r)));
  }
  return w;
}

Result<Workload> LoadShareGpt(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open workload file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read workload file " + path);
  CELLAR_ASSIGN_OR_RETURN(Workload w, ParseShareGpt(ss.str()));
  w.source = "sharegpt:" + path;
  return w;
}

}  // namespace cellar::replay
