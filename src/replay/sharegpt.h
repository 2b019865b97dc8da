// ShareGPT-format workloads: a JSON array of {id, conversations: [{from, value}]},
// `from` one of human|gpt|system (also accepted: user, assistant, chatgpt, bing, bard).
//
// Real dumps are untidy; a conversation is kept when, after leading system messages
// (which become its system prompt) and leading assistant messages (trimmed: they have
// no question), it alternates user/assistant starting with a user message. The rest
// are skipped and counted by reason in Workload::skipped:
//   malformed        not an object, no `conversations` array, a message without
//                    string `from`/`value`
//   unknown_role     a `from` outside the accepted names
//   empty_message    a message whose text is empty or only whitespace
//   misplaced_system a system message after the first user message
//   not_alternating  two user or two assistant messages in a row
//   no_user_turn     nothing left to send
// A final user message without an answer is kept as the last turn.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "replay/workload.h"

namespace cellar::replay {

// Parses ShareGPT JSON text. Errors only when the text is not a JSON array.
Result<Workload> ParseShareGpt(std::string_view json_text);

// Reads and parses a ShareGPT file.
Result<Workload> LoadShareGpt(const std::string& path);

}  // namespace cellar::replay
