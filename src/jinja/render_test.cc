// Template::Render: runtime errors with positions, raise_exception, limits against
// runaway templates, the clock, and concurrent renders of one parsed template.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "jinja/template.h"

namespace cellar::jinja {
namespace {

using Json = nlohmann::ordered_json;

Result<std::string> Render(std::string_view src, const Json& vars = Json::object(),
                           RenderOptions options = {}, RenderFailure* failure = nullptr) {
  CELLAR_ASSIGN_OR_RETURN(Template t, Template::Parse(src));
  return t.Render(vars, options, failure);
}

std::string Error(std::string_view src, const Json& vars = Json::object(),
                  RenderOptions options = {}) {
  Result<std::string> r = Render(src, vars, options);
  return r.ok() ? "rendered: " + *r : r.status().ToString();
}

// The position is that of the innermost failing node: the operator of a binary
// operation, the '.' or '[' of an attribute or item access, the '(' of a call.
TEST(Render, RuntimeErrorsNameTheInnermostPosition) {
  EXPECT_EQ(Error("line 1\n{% for m in messages %}{{ m.content + 1 }}{% endfor %}",
                  {{"messages", {{{"content", "x"}}}}}),
            "INVALID_ARGUMENT: template render error at line 2, column 37: can only concatenate "
            "str (not \"int\") to str");
  EXPECT_EQ(Error("{% for t in tools %}{% endfor %}", {{"tools", nullptr}}),
            "INVALID_ARGUMENT: template render error at line 1, column 13: 'NoneType' object is "
            "not iterable");
  EXPECT_EQ(Error("{{ message.content }}"),
            "INVALID_ARGUMENT: template render error at line 1, column 11: 'message' is undefined");
  EXPECT_EQ(Error("{{ [].append(1) }}"),
            "INVALID_ARGUMENT: template render error at line 1, column 13: access to attribute "
            "'append' of 'list' object is unsafe.");
}

TEST(Render, RaiseExceptionCarriesTheMessageAlone) {
  RenderFailure failure;
  Result<std::string> r =
      Render("a{{ raise_exception('Roles must alternate') }}b", Json::object(), {}, &failure);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(failure.raised_by_template);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "Roles must alternate");
  Render("{{ 1 / 0 }}", Json::object(), {}, &failure).status().IgnoreError();
  EXPECT_FALSE(failure.raised_by_template);
}

TEST(Render, UndefinedSemantics) {
  // Printing undefined gives "", testing it works, using it fails.
  EXPECT_EQ(
      Render("[{{ x }}][{{ x is defined }}][{{ d.k }}][{{ d.k is defined }}][{{ x|default('z') }}]",
             {{"d", Json::object()}})
          .value(),
      "[][False][][False][z]");
  EXPECT_EQ(Render("{% for i in x %}{{ i }}{% endfor %}[{{ x|length }}][{{ 'a' in x }}]").value(),
            "[0][False]");
  EXPECT_NE(Error("{{ x.y }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(
      Error("{{ d.k.j }}", {{"d", Json::object()}}).find("'dict object' has no attribute 'k'"),
      std::string::npos);
  EXPECT_NE(Error("{{ x + 1 }}").find("'x' is undefined"), std::string::npos);
}

TEST(Render, StepLimit) {
  RenderOptions o;
  o.limits.max_steps = 1000;
  EXPECT_EQ(Render("{% for i in range(500) %}{% endfor %}", Json::object(), o).value(), "");
  EXPECT_EQ(Error("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}",
                  Json::object(), o),
            "RESOURCE_EXHAUSTED: template render error at line 1, column 43: template exceeded "
            "1000 steps (loop iterations, calls and items processed)");
}

TEST(Render, OutputLimit) {
  RenderOptions o;
  o.limits.max_output_bytes = 1000;
  EXPECT_NE(Error("{% for i in range(2000) %}x{% endfor %}", Json::object(), o)
                .find("RESOURCE_EXHAUSTED: template render error at line 1, column 27: template "
                      "output exceeds the limit of 1000 bytes"),
            std::string::npos);
  // Values built by the template count too, not only the output.
  EXPECT_NE(Error("{% set s = 'x' * 5000 %}", Json::object(), o).find("RESOURCE_EXHAUSTED"),
            std::string::npos);
  EXPECT_NE(Error("{% set ns = namespace(s='ab') %}{% for i in range(20) %}"
                  "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                  Json::object(), o)
                .find("RESOURCE_EXHAUSTED"),
            std::string::npos);
}

TEST(Render, RecursionLimits) {
  EXPECT_NE(Error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
                .find("macro calls nested deeper than 100"),
            std::string::npos);
  EXPECT_NE(Error("{% set ns = namespace() %}{% set ns.l = [ns] %}"
                  "{% for x in ns.l recursive %}{{ loop(x.l) }}{% endfor %}")
                .find("RESOURCE_EXHAUSTED"),
            std::string::npos);
  RenderOptions o;
  o.limits.max_value_depth = 50;
  EXPECT_NE(Error("{% set ns = namespace(x=[]) %}{% for i in range(100) %}"
                  "{% set ns.x = [ns.x] %}{% endfor %}",
                  Json::object(), o)
                .find("value nested deeper than 50 levels"),
            std::string::npos);
}

TEST(Render, CyclesDoNotLeak) {
  // LeakSanitizer (asan preset) fails this test if namespaces, macros or loops that
  // reference each other were not released at the end of the render.
  EXPECT_EQ(Render("{% set ns = namespace() %}{% set ns.me = ns %}"
                   "{% macro m() %}{{ m is defined }}{% endmacro %}{{ m() }}"
                   "{% for x in [1] %}{% set ns.loop = loop %}{% endfor %}{{ ns.me.loop.length }}")
                .value(),
            "True1");
}

TEST(Render, ClockForStrftimeNow) {
  RenderOptions o;
  std::tm day{};
  day.tm_year = 2026 - 1900;
  day.tm_mon = 10;
  day.tm_mday = 23;
  day.tm_wday = 1;
  day.tm_yday = 326;
  o.now = day;
  EXPECT_EQ(Render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %j') }}", Json::object(), o)
                .value(),
            "23 Nov 2026|Monday 327");
}

TEST(Render, VariablesMustBeAnObject) {
  Template t = Template::Parse("x").value();
  EXPECT_EQ(t.Render(Json::array()).status().message(), "template variables must be a JSON object");
  EXPECT_EQ(t.Render(nullptr).value(), "x");
}

TEST(Render, ConcurrentRendersOfOneTemplate) {
  Template t = Template::Parse(
                   "{% set ns = namespace(total=0) %}{% for m in messages %}"
                   "{% set ns.total = ns.total + m.n %}{{ loop.index }}{{ m.s|upper }}"
                   "{% endfor %}={{ ns.total }}")
                   .value();
  std::vector<std::thread> threads;
  std::vector<int> bad(8, 0);
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 100; ++i) {
        Json msgs = Json::array();
        for (int j = 0; j <= k; ++j) msgs.push_back({{"n", j}, {"s", "x"}});
        std::string want;
        int total = 0;
        for (int j = 0; j <= k; ++j) {
          want += std::to_string(j + 1) + "X";
          total += j;
        }
        want += "=" + std::to_string(total);
        Result<std::string> out = t.Render({{"messages", msgs}});
        if (!out.ok() || *out != want) ++bad[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(bad[k], 0) << "thread " << k;
}

}  // namespace
}  // namespace cellar::jinja
