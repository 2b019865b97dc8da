// Conversions between JSON and template values: input variables arrive as
// nlohmann::ordered_json (key order kept), and the `tojson` filter is Python's
// json.dumps (transformers replaces Jinja's own tojson with it).
//
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "jinja/value.h"

namespace cellar::jinja {

// Deepest JSON nesting accepted as template input.
inline constexpr int kMaxJsonInputDepth = 128;

// JSON -> Value: objects become dicts in key order, arrays lists, integers int
// (unsigned values past int64 become float), strings str. Fails on nesting deeper
// than kMaxJsonInputDepth.
Result<Value> ValueFromJson(const nlohmann::ordered_json& json);

// json.dumps(x, ensure_ascii, indent, separators, sort_keys).
struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;          // nullopt: one line; "" or spaces: pretty-printed
  std::optional<std::string> item_separator;  // default ", " (or "," with indent)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// Fails like Python on values JSON cannot hold ("Object of type Undefined is not
// JSON serializable"), on non-str/int/float/bool/None dict keys, and when the text
// would pass `max_bytes`.
Result<std::string> PyJsonDumps(const Value& v, const JsonDumpOptions& options, size_t max_bytes);

// A JSON string literal of `s` as Python's json writes it.
void AppendJsonString(std::string& out, std::string_view s, bool ensure_ascii);

}  // namespace cellar::jinja
