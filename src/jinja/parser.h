// The Jinja parser: tokens -> statement tree, following Jinja2's grammar and
// operator precedence (jinja2/parser.py), with transformers' extensions
// (loop controls, {% generation %}). Filter and test names are resolved here, so
// an unknown one is a syntax error even in a branch that never runs.
//
// Stateless and thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace cellar::jinja {

// Deepest nesting of expressions and blocks the parser accepts (a guard against
// stack exhaustion on hostile templates).
inline constexpr int kMaxParseDepth = 256;

// Parses the tokens of `source` (the normalized text the tokens point into; used
// for error positions).
Result<Body> ParseTemplate(std::string_view source, const std::vector<Token>& tokens);

}  // namespace cellar::jinja
