// Python str semantics; every expected value is what CPython 3.11 returns.
#include "jinja/py_string.h"

#include <gtest/gtest.h>

#include "jinja/py_format.h"

namespace cellar::jinja {
namespace {

using Strs = std::vector<std::string>;

TEST(PyString, Utf8) {
  EXPECT_TRUE(IsValidUtf8("aé😀"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_EQ(CodepointCount("aé😀"), 3u);
  EXPECT_EQ(EncodeUtf8(DecodeUtf8("aé😀")), "aé😀");
}

TEST(PyString, StripUsesPythonWhitespace) {
  EXPECT_EQ(PyStrip(" \t\n\v\f\r\x1c"
                    "\u00a0\u3000x\u2003 ",
                    std::nullopt, true, true),
            "x");
  EXPECT_EQ(PyStrip("\u200bx\u200b", std::nullopt, true, true),
            "\u200bx\u200b");  // ZWSP is not space
  EXPECT_EQ(PyStrip("xyaxy", std::string("yx"), true, true), "a");
  EXPECT_EQ(PyStrip("éaé", std::string("é"), true, false), "aé");
}

TEST(PyString, Split) {
  EXPECT_EQ(PySplit("  a  b c ", std::nullopt, -1), (Strs{"a", "b", "c"}));
  EXPECT_EQ(PySplit("  a  b c ", std::nullopt, 1), (Strs{"a", "b c "}));
  EXPECT_EQ(PySplit("", std::nullopt, -1), Strs{});
  EXPECT_EQ(PySplit("", std::string(","), -1), Strs{""});
  EXPECT_EQ(PySplit("a,,b", std::string(","), -1), (Strs{"a", "", "b"}));
  EXPECT_EQ(PyRSplit("a,b,c", std::string(","), 1), (Strs{"a,b", "c"}));
  EXPECT_EQ(PyRSplit("  a b c  ", std::nullopt, 1), (Strs{"  a b", "c"}));
  EXPECT_EQ(PySplitlines("a\nb\r\nc\rd\u2028e\xc2\x85"
                         "f",
                         false),
            (Strs{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(PySplitlines("a\n\nb\n", true), (Strs{"a\n", "\n", "b\n"}));
}

TEST(PyString, Replace) {
  EXPECT_EQ(PyReplace("aaa", "a", "bb", -1), "bbbbbb");
  EXPECT_EQ(PyReplace("aaa", "a", "b", 2), "bba");
  EXPECT_EQ(PyReplace("hé", "", "-", -1), "-h-é-");
  EXPECT_EQ(PyReplace("hé", "", "-", 2), "-h-é");
  EXPECT_EQ(PyCount("aaaa", "aa"), 2u);
  EXPECT_EQ(PyCount("hé", ""), 3u);
}

TEST(PyString, CaseMapping) {
  EXPECT_EQ(PyUpper("straße"), "STRASSE");
  EXPECT_EQ(PyLower("ΟΔΟΣ"), "οδος");
  EXPECT_EQ(PyTitle("hello wörld they're"), "Hello Wörld They'Re");
  EXPECT_EQ(PyTitle("ǆemal"), "ǅemal");
  EXPECT_EQ(PyCapitalize("hELLO wORLD"), "Hello world");
  EXPECT_EQ(PySwapcase("AbC"), "aBc");
  EXPECT_EQ(PyCasefold("Straße"), "strasse");
  EXPECT_TRUE(PyIsLower("abc1"));
  EXPECT_FALSE(PyIsLower("123"));
  EXPECT_TRUE(PyIsUpper("ÉCOLE"));
}

TEST(PyString, Repr) {
  EXPECT_EQ(PyReprString("it's"), "\"it's\"");
  EXPECT_EQ(PyReprString("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(PyReprString("both ' \""), "'both \\' \"'");
  EXPECT_EQ(PyReprString("a\nb\t\\\x01\x7f"), "'a\\nb\\t\\\\\\x01\\x7f'");
  EXPECT_EQ(PyReprString("é\u200b\u00a0😀"), "'é\\u200b\\xa0😀'");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">&'"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
}

TEST(PyFormat, PercentFormat) {
  EXPECT_EQ(
      PercentFormat("%s-%d-%05.2f",
                    Value::Tuple({Value::String("a"), Value::Int(3), Value::Float(2.5)}), false)
          .value(),
      "a-3-02.50");
  EXPECT_EQ(PercentFormat("%x %#X %o %+d %-3d|",
                          Value::Tuple({Value::Int(-31), Value::Int(255), Value::Int(8),
                                        Value::Int(5), Value::Int(7)}),
                          false)
                .value(),
            "-1f 0XFF 10 +5 7  |");
  EXPECT_EQ(PercentFormat("%s", Value::List({Value::Int(1)}), false).value(), "[1]");
  EXPECT_EQ(PercentFormat("%s", Value::String("<"), true).value(), "&lt;");
  EXPECT_EQ(PercentFormat("%s %s", Value::Tuple({Value::Int(1)}), false).status().message(),
            "not enough arguments for format string");
  EXPECT_EQ(PercentFormat("x", Value::Int(5), false).status().message(),
            "not all arguments converted during string formatting");
  EXPECT_EQ(PercentFormat("%d", Value::String("a"), false).status().message(),
            "%d format: a real number is required, not str");
}

TEST(PyFormat, StrFormat) {
  CallArgs args;
  args.positional = {Value::String("a"), Value::Float(3.14159), Value::Int(1234567)};
  args.keyword = {{"name", Value::String("n")}};
  EXPECT_EQ(StrFormat("{}|{:.2f}|{:,}|{name!r}|{{x}}", args, false).value(),
            "a|3.14|1,234,567|'n'|{x}");
  EXPECT_EQ(StrFormat("{0:>3}{2:_}{0}", args, false).value(), "  a1_234_567a");
  EXPECT_EQ(StrFormat("{} {0}", args, false).status().message(),
            "cannot switch from automatic field numbering to manual field specification");
  EXPECT_EQ(StrFormat("{5}", args, false).status().message(),
            "Replacement index 5 out of range for positional args tuple");
  EXPECT_EQ(FormatWithSpec(Value::Float(0.25), "%").value(), "25.000000%");
  EXPECT_EQ(FormatWithSpec(Value::Int(-42), "=+8d").value(), "-     42");
  EXPECT_EQ(FormatWithSpec(Value::Bool(true), "").value(), "True");
  EXPECT_EQ(FormatWithSpec(Value::Bool(true), ">3").value(), "  1");
  EXPECT_FALSE(FormatWithSpec(Value::None(), "5").ok());
}

}  // namespace
}  // namespace cellar::jinja
