// Renders every snippet of testdata/conformance.json (expected strings produced by
// Python Jinja2 in transformers' environment, see make_conformance.py) and compares
// byte for byte. One gtest per construct family (ws/, print/, expr/, stmt/, test/,
// filter/, method/, global/, chat/, error/) with per-case failure messages.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "jinja/template.h"

#ifndef CELLAR_JINJA_TESTDATA
#define CELLAR_JINJA_TESTDATA "src/jinja/testdata"
#endif

namespace cellar::jinja {
namespace {

using Json = nlohmann::ordered_json;

const Json& Cases() {
  static const Json* cases = [] {
    std::ifstream in(std::string(CELLAR_JINJA_TESTDATA) + "/conformance.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return new Json(Json::parse(ss.str()));
  }();
  return *cases;
}

std::tm FixedClock() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 23;
  tm.tm_wday = 1;  // Monday
  tm.tm_yday = 326;
  return tm;
}

// Renders all cases whose name starts with `family` + "/".
void RunFamily(const std::string& family) {
  int n = 0;
  for (const Json& c : Cases().at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    if (name.rfind(family + "/", 0) != 0) continue;
    ++n;
    SCOPED_TRACE(name);
    const std::string source = c.at("template").get<std::string>();
    Result<Template> t = Template::Parse(source);
    RenderOptions options;
    options.now = FixedClock();
    RenderFailure failure;
    Result<std::string> out =
        t.ok() ? t->Render(c.at("vars"), options, &failure) : Result<std::string>(t.status());
    if (c.contains("expected_error")) {
      const std::string want = c.at("expected_error").get<std::string>();
      ASSERT_FALSE(out.ok()) << name << " should fail with: " << want << "\nrendered: " << *out;
      if (c.at("error_type") == "TemplateError") {
        EXPECT_TRUE(failure.raised_by_template) << name;
        EXPECT_EQ(out.status().message(), want) << name;
      } else {
        // Python's wording is reproduced for these errors.
        EXPECT_NE(out.status().message().find(want), std::string::npos)
            << name << "\n  got:  " << out.status().message() << "\n  want: " << want;
      }
      continue;
    }
    ASSERT_TRUE(out.ok()) << name << ": " << out.status().ToString() << "\n" << source;
    EXPECT_EQ(*out, c.at("expected").get<std::string>()) << name << "\n" << source;
  }
  EXPECT_GT(n, 0) << "no cases for " << family;
}

TEST(Conformance, Whitespace) { RunFamily("ws"); }
TEST(Conformance, Printing) { RunFamily("print"); }
TEST(Conformance, Expressions) { RunFamily("expr"); }
TEST(Conformance, Statements) { RunFamily("stmt"); }
TEST(Conformance, Tests) { RunFamily("test"); }
TEST(Conformance, Filters) { RunFamily("filter"); }
TEST(Conformance, Methods) { RunFamily("method"); }
TEST(Conformance, Globals) { RunFamily("global"); }
TEST(Conformance, ChatIdioms) { RunFamily("chat"); }
TEST(Conformance, Errors) { RunFamily("error"); }

}  // namespace
}  // namespace cellar::jinja
