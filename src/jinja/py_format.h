// Python string formatting: printf-style `fmt % args` (also the `format` filter)
// and str.format() with the format-spec mini-language. With `markup` set (a
// markupsafe.Markup format string) string arguments are HTML-escaped first.
//
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "jinja/value.h"

namespace cellar::jinja {

// fmt % args: `args` is a tuple (positional), a dict (for %(name)s) or one value.
Result<std::string> PercentFormat(std::string_view fmt, const Value& args, bool markup);

// fmt.format(*args, **kwargs).
Result<std::string> StrFormat(std::string_view fmt, const CallArgs& args, bool markup);

// format(value, spec): the format-spec mini-language for str, int, float, bool.
Result<std::string> FormatWithSpec(const Value& v, std::string_view spec);

}  // namespace cellar::jinja
