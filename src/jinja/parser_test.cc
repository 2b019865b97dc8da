// Parser errors: every malformed template fails with a clear message naming the
// line and column (never a crash, never a silently different template).
#include "jinja/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "jinja/template.h"

namespace cellar::jinja {
namespace {

std::string ParseError(std::string_view src) {
  Result<Template> t = Template::Parse(src);
  if (t.ok()) return "parsed";
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  return t.status().message();
}

TEST(Parser, UnclosedBlocks) {
  EXPECT_EQ(ParseError("{% for x in y %}\nbody"),
            "template syntax error at line 2, column 5: Unexpected end of template. Jinja was "
            "looking for the following tags: 'endfor' or 'else'. The innermost block that needs "
            "to be closed is 'for'.");
  EXPECT_EQ(ParseError("{% if a %}{% elif b %}"),
            "template syntax error at line 1, column 23: Unexpected end of template. Jinja was "
            "looking for the following tags: 'elif', 'else' or 'endif'. The innermost block that "
            "needs to be closed is 'if'.");
  EXPECT_EQ(ParseError("{% macro m() %}"),
            "template syntax error at line 1, column 16: Unexpected end of template. Jinja was "
            "looking for the following tags: 'endmacro'. The innermost block that needs to be "
            "closed is 'macro'.");
}

TEST(Parser, UnknownAndMisplacedTags) {
  EXPECT_EQ(ParseError("a\n{% frobnicate %}"),
            "template syntax error at line 2, column 4: Encountered unknown tag 'frobnicate'.");
  EXPECT_EQ(ParseError("{% for x in y %}{% endif %}{% endfor %}"),
            "template syntax error at line 1, column 20: Encountered unknown tag 'endif'. The "
            "innermost block that needs to be closed is 'for'.");
  EXPECT_EQ(ParseError("{% endfor %}"),
            "template syntax error at line 1, column 4: Encountered unknown tag 'endfor'.");
  EXPECT_EQ(ParseError("{% include 'x.j2' %}"),
            "template syntax error at line 1, column 4: the 'include' tag is not supported "
            "(templates are rendered alone)");
  EXPECT_EQ(ParseError("{% %}"), "template syntax error at line 1, column 4: tag name expected");
}

TEST(Parser, UnknownFiltersAndTestsFailAtParseTime) {
  EXPECT_EQ(ParseError("{% if false %}{{ x | nope }}{% endif %}"),
            "template syntax error at line 1, column 22: No filter named 'nope'.");
  EXPECT_EQ(ParseError("{{ x is nope }}"),
            "template syntax error at line 1, column 9: No test named 'nope'.");
}

TEST(Parser, LoopControlsOnlyInsideLoops) {
  EXPECT_EQ(ParseError("{% break %}"),
            "template syntax error at line 1, column 4: 'break' outside of a loop");
  EXPECT_EQ(ParseError("{% for x in y %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}"),
            "template syntax error at line 1, column 35: 'continue' outside of a loop");
  EXPECT_EQ(ParseError("{% for x in y %}{% else %}{% break %}{% endfor %}"),
            "template syntax error at line 1, column 30: 'break' outside of a loop");
  EXPECT_EQ(ParseError("{% for x in y %}{% if x %}{% break %}{% endif %}{% endfor %}"), "parsed");
}

TEST(Parser, ExpressionErrors) {
  EXPECT_EQ(ParseError("{{ }}"),
            "template syntax error at line 1, column 4: Expected an expression, got 'end of print "
            "statement'");
  EXPECT_EQ(ParseError("{{ a b }}"),
            "template syntax error at line 1, column 6: expected token 'end of print statement', "
            "got 'b'");
  EXPECT_EQ(ParseError("{{ 1 + }}"),
            "template syntax error at line 1, column 8: unexpected 'end of print statement'");
  EXPECT_EQ(ParseError("{{ f(a=1, 2) }}"),
            "template syntax error at line 1, column 5: invalid syntax for function call "
            "expression");
  EXPECT_EQ(ParseError("{{ x.'a' }}"),
            "template syntax error at line 1, column 6: expected name or number");
  EXPECT_EQ(ParseError("{{ x is defined is none }}"),
            "template syntax error at line 1, column 17: You cannot chain multiple tests with is");
}

TEST(Parser, StatementErrors) {
  EXPECT_EQ(ParseError("{% set 1 = 2 %}"),
            "template syntax error at line 1, column 8: can't assign to 'const'");
  EXPECT_EQ(ParseError("{% for x.y in z %}{% endfor %}"),
            "template syntax error at line 1, column 9: expected token 'in', got '.'");
  EXPECT_EQ(ParseError("{% macro m(a=1, b) %}{% endmacro %}"),
            "template syntax error at line 1, column 17: non-default argument follows default "
            "argument");
  EXPECT_EQ(ParseError("{% call x %}{% endcall %}"),
            "template syntax error at line 1, column 4: expected call");
  EXPECT_EQ(ParseError("{% for x in y %}{% endfor x %}"),
            "template syntax error at line 1, column 27: expected token 'end of statement block', "
            "got 'x'");
}

TEST(Parser, RejectsInvalidUtf8) {
  EXPECT_EQ(ParseError("a\xff"), "template source is not valid UTF-8");
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  // Each parenthesis costs two levels of the depth budget; the error points at
  // the parenthesis that crosses it.
  EXPECT_EQ(ParseError(deep), "template syntax error at line 1, column " +
                                  std::to_string(3 + kMaxParseDepth / 2) +
                                  ": template nested too deeply");
  std::string blocks;
  for (int i = 0; i < 2000; ++i) blocks += "{% if true %}";
  EXPECT_NE(ParseError(blocks).find("template nested too deeply"), std::string::npos);
  std::string nots = "{{ " + std::string(0, ' ');
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(ParseError(nots + "x }}").find("template nested too deeply"), std::string::npos);
}

TEST(Parser, AcceptsTheSupportedSubset) {
  const char* ok[] = {
      "{% for k, v in d.items() if v recursive %}{{ loop(v) }}{% else %}-{% endfor %}",
      "{% set ns = namespace(a=1) %}{% set ns.a = 2 %}{% set x, y = 1, 2 %}",
      "{% set b | trim %} x {% endset %}",
      "{% macro m(a, b=1) %}{{ caller(a) if caller is defined }}{% endmacro %}",
      "{% call(x) m(1) %}{{ x }}{% endcall %}",
      "{% filter upper | trim %} x {% endfilter %}",
      "{% with a = 1 %}{{ a }}{% endwith %}",
      "{% generation %}x{% endgeneration %}",
      "{{ a if b else c }}{{ a if b }}{{ x[1:2:3] }}{{ x[::-1] }}{{ -1 ** 2 }}",
      "{{ f(*args, **kwargs) }}{{ x is divisibleby 3 }}{{ x is not none }}",
      "{{ 'a' 'b' }}{{ [1, 2,] }}{{ {'a': 1,} }}{{ (1,) }}{{ () }}",
      "{% print 1, 2 %}{% raw %}{{{% endraw %}{# c #}",
  };
  for (const char* src : ok) EXPECT_EQ(ParseError(src), "parsed") << src;
}

}  // namespace
}  // namespace cellar::jinja
