// Internal to ChatTemplate: the conversion of OpenAI-style messages into what chat
// templates expect (text parts joined, tool-call arguments as JSON objects).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace cellar::chat_template_internal {

// What a list of text content parts becomes: the texts joined with this.
inline constexpr const char* kTextPartSeparator = "";

// Deepest JSON nesting accepted in messages (the template engine's own input limit
// is the same).
inline constexpr int kMaxMessageDepth = 128;

// True when `j` nests deeper than `limit` (checked without recursion).
bool JsonDeeperThan(const nlohmann::ordered_json& j, int limit);

struct NormalizedMessages {
  nlohmann::ordered_json messages;            // arguments parsed into objects where possible
  nlohmann::ordered_json original_arguments;  // same messages, arguments as given
  bool converted_arguments = false;           // some string became an object
};

// Requires an array of objects; joins text parts; parses string tool-call
// arguments that hold a JSON object.
Result<NormalizedMessages> NormalizeMessages(const nlohmann::ordered_json& messages);

}  // namespace cellar::chat_template_internal
