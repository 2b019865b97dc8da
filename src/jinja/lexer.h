// The Jinja lexer: template source -> tokens, with Jinja2's whitespace rules
// (trim_blocks, lstrip_blocks, {%- -%} {{- -}} {#- -#}, the + modifiers), comments
// dropped, {% raw %} blocks turned into text, and string literals decoded with
// Python's escape rules.
//
// Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cellar::jinja {

struct SyntaxOptions {
  bool trim_blocks = true;    // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;  // strip spaces/tabs before a block or comment tag on its line
  bool keep_trailing_newline = false;
};

enum class TokenType : uint8_t {
  kData,           // template text to output
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,
  kInteger,
  kFloat,
  kOperator,  // + - / // * % ** ~ [ ] ( ) { } == != > >= < <= = . : | , ;
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;  // data text, name, decoded string, or operator
  int64_t int_value = 0;
  double float_value = 0.0;
  uint32_t offset = 0;  // byte offset in the normalized source
};

// Python's newline handling of Jinja: \r\n and \r become \n and, unless
// keep_trailing_newline, one trailing newline is dropped.
std::string NormalizeSource(std::string_view source, bool keep_trailing_newline);

// Tokenizes normalized source (see NormalizeSource). Errors are InvalidArgument
// "template syntax error at line L, column C: ...".
Result<std::vector<Token>> Tokenize(std::string_view source, const SyntaxOptions& options);

// 1-based line and column (in code points) of a byte offset.
struct SourcePosition {
  int line = 1;
  int column = 1;
};
SourcePosition PositionOf(std::string_view source, size_t offset);

// "template syntax error at line L, column C: message".
Status SyntaxError(std::string_view source, size_t offset, std::string_view message);

// Decodes the body of a string literal (between the quotes) like Python's
// unicode-escape: \n \t \\ \' \" \xNN \uNNNN \UNNNNNNNN \N{NAME} octal, line
// continuation; unknown escapes are kept. On error returns the message.
Result<std::string> DecodeStringLiteral(std::string_view body);

// Describes a token for messages, quoted as Jinja does: "'end of print statement'", "'x'".
std::string DescribeToken(const Token& token);

}  // namespace cellar::jinja
