#include "jinja/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cellar::jinja {
namespace {

// "type:text" for each token, e.g. "data:a", "name:x", "op:+", "vbegin", "eof".
std::vector<std::string> Kinds(std::string_view src, SyntaxOptions o = {}) {
  Result<std::vector<Token>> toks = Tokenize(src, o);
  EXPECT_TRUE(toks.ok()) << toks.status().ToString();
  std::vector<std::string> out;
  if (!toks.ok()) return out;
  for (const Token& t : *toks) {
    switch (t.type) {
      case TokenType::kData:
        out.push_back("data:" + t.text);
        break;
      case TokenType::kVariableBegin:
        out.push_back("vbegin");
        break;
      case TokenType::kVariableEnd:
        out.push_back("vend");
        break;
      case TokenType::kBlockBegin:
        out.push_back("bbegin");
        break;
      case TokenType::kBlockEnd:
        out.push_back("bend");
        break;
      case TokenType::kName:
        out.push_back("name:" + t.text);
        break;
      case TokenType::kString:
        out.push_back("str:" + t.text);
        break;
      case TokenType::kInteger:
        out.push_back("int:" + std::to_string(t.int_value));
        break;
      case TokenType::kFloat:
        out.push_back("float:" + t.text);
        break;
      case TokenType::kOperator:
        out.push_back("op:" + t.text);
        break;
      case TokenType::kEof:
        out.push_back("eof");
        break;
    }
  }
  return out;
}

using V = std::vector<std::string>;

TEST(Lexer, Expression) {
  EXPECT_EQ(Kinds("a {{ x.y[0] | f(1, k='v') ~ \"s\" }} b"),
            (V{"data:a ", "vbegin", "name:x", "op:.",  "name:y",  "op:[",   "int:0", "op:]",
               "op:|",    "name:f", "op:(",   "int:1", "op:,",    "name:k", "op:=",  "str:v",
               "op:)",    "op:~",   "str:s",  "vend",  "data: b", "eof"}));
}

TEST(Lexer, OperatorsLongestFirst) {
  EXPECT_EQ(Kinds("{{ a // b ** c == d != e >= f <= g }}"),
            (V{"vbegin", "name:a", "op://", "name:b", "op:**", "name:c", "op:==", "name:d",
               "op:!=", "name:e", "op:>=", "name:f", "op:<=", "name:g", "vend", "eof"}));
}

TEST(Lexer, Numbers) {
  EXPECT_EQ(Kinds("{{ 1_000 0x1F 0o17 0b101 2.5 1e3 1.5e-2 3. }}"),
            (V{"vbegin", "int:1000", "int:31", "int:15", "int:5", "float:2.5", "float:1e3",
               "float:1.5e-2", "int:3", "op:.", "vend", "eof"}));
}

TEST(Lexer, BracesInsideExpressionsDoNotEndTheTag) {
  EXPECT_EQ(Kinds("{{ {'a': {'b': 1}} }}"), (V{"vbegin", "op:{", "str:a", "op::", "op:{", "str:b",
                                               "op::", "int:1", "op:}", "op:}", "vend", "eof"}));
}

TEST(Lexer, TrimBlocksAndLstripBlocks) {
  // The newline after %} goes; the indentation before {% goes; {{ }} is untouched.
  EXPECT_EQ(Kinds("x\n  {% if a %}\n  y\n  {{ z }}\n"),
            (V{"data:x\n", "bbegin", "name:if", "name:a", "bend", "data:  y\n  ", "vbegin",
               "name:z", "vend", "data:\n", "eof"}));
  SyntaxOptions plain;
  plain.trim_blocks = false;
  plain.lstrip_blocks = false;
  EXPECT_EQ(Kinds("x\n  {% if a %}\ny", plain),
            (V{"data:x\n  ", "bbegin", "name:if", "name:a", "bend", "data:\ny", "eof"}));
}

TEST(Lexer, WhitespaceControlModifiers) {
  EXPECT_EQ(Kinds("a \n {%- if b -%} \n c"),
            (V{"data:a", "bbegin", "name:if", "name:b", "bend", "data:c", "eof"}));
  // {%+ keeps the indentation, +%} keeps the newline.
  EXPECT_EQ(Kinds("x\n  {%+ if b +%}\ny"),
            (V{"data:x\n  ", "bbegin", "name:if", "name:b", "bend", "data:\ny", "eof"}));
}

TEST(Lexer, CommentsAndRaw) {
  EXPECT_EQ(Kinds("a{# {{ not a tag }} #}b"), (V{"data:a", "data:b", "eof"}));
  EXPECT_EQ(Kinds("{% raw %}{{ x }}{% endraw %}"), (V{"data:{{ x }}", "eof"}));
  EXPECT_EQ(Kinds("a {%- raw -%} {{ x }} {%- endraw -%} b"),
            (V{"data:a", "data:{{ x }}", "data:b", "eof"}));
}

TEST(Lexer, StringLiterals) {
  EXPECT_EQ(DecodeStringLiteral(R"(a\n\t\\\'\"\x41\u00e9\U0001F600\101\q)").value(),
            "a\n\t\\'\"A\xC3\xA9\xF0\x9F\x98\x80"
            "A\\q");
  EXPECT_EQ(DecodeStringLiteral(R"(\N{BULLET})").value(), "\xE2\x80\xA2");
  EXPECT_FALSE(DecodeStringLiteral(R"(\x4)").ok());
  EXPECT_FALSE(DecodeStringLiteral(R"(\ud800)").ok());
  EXPECT_FALSE(DecodeStringLiteral(R"(\N{NOT A NAME})").ok());
}

TEST(Lexer, NormalizeSource) {
  EXPECT_EQ(NormalizeSource("a\r\nb\rc\n", false), "a\nb\nc");
  EXPECT_EQ(NormalizeSource("a\n\n", false), "a\n");
  EXPECT_EQ(NormalizeSource("a\n", true), "a\n");
}

Status LexError(std::string_view src) {
  Result<std::vector<Token>> r = Tokenize(src, {});
  return r.ok() ? OkStatus() : r.status();
}

TEST(Lexer, ErrorsNameLineAndColumn) {
  EXPECT_EQ(LexError("ok\n{{ a ! b }}").message(),
            "template syntax error at line 2, column 6: unexpected char '!'");
  EXPECT_EQ(LexError("é {{ a ) }}").message(),
            "template syntax error at line 1, column 8: unexpected ')'");
  EXPECT_EQ(LexError("{{ (a] }}").message(),
            "template syntax error at line 1, column 6: unexpected ']', expected ')'");
  EXPECT_EQ(LexError("x\n{# open").message(),
            "template syntax error at line 2, column 1: Missing end of comment tag");
  EXPECT_EQ(LexError("{% raw %}x").message(),
            "template syntax error at line 1, column 1: Missing end of raw directive");
  EXPECT_EQ(LexError("{{ 'abc }}").message(),
            "template syntax error at line 1, column 4: unexpected char '''");
  EXPECT_EQ(LexError("{{ a").message(),
            "template syntax error at line 1, column 5: unexpected end of template, expected '}}'");
  EXPECT_EQ(LexError("{{ 99999999999999999999 }}").message(),
            "template syntax error at line 1, column 4: integer literal too large");
}

TEST(Lexer, PositionsCountCodePoints) {
  const SourcePosition p = PositionOf("ab\nçé{x", 7);  // the {
  EXPECT_EQ(p.line, 2);
  EXPECT_EQ(p.column, 3);
}

}  // namespace
}  // namespace cellar::jinja
