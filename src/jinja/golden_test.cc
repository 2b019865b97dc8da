// Renders every case of ../shared/golden/templates/*.json (real chat templates,
// expected strings rendered by Python Jinja2 in transformers' environment) and
// compares byte for byte; error cases must fail with the expected message.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"
#include "jinja/template.h"

namespace cellar::jinja {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> names;
  const fs::path dir = testing::SharedPath("golden/templates");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return names;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::tm GoldenClock(const std::string& date) {
  std::tm tm{};
  tm.tm_year = std::stoi(date.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(date.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(date.substr(8, 2));
  tm.tm_isdst = -1;
  std::time_t t = timegm(&tm);
  std::tm out{};
  gmtime_r(&t, &out);  // fills tm_wday / tm_yday
  return out;
}

// The variables transformers passes (see golden/templates/README.md).
Json Variables(const Json& file, const Json& c) {
  Json vars = Json::object();
  vars["messages"] = c.at("messages");
  vars["tools"] = c.contains("tools") ? c.at("tools") : Json(nullptr);
  vars["documents"] = nullptr;
  vars["add_generation_prompt"] = c.at("add_generation_prompt");
  vars["bos_token"] = file.at("bos_token");
  vars["eos_token"] = file.at("eos_token");
  if (c.contains("extra_context")) {
    for (const auto& [k, v] : c.at("extra_context").items()) vars[k] = v;
  }
  return vars;
}

class GoldenTemplateTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTemplateTest, RendersEveryCaseExactly) {
  const fs::path path = testing::SharedPath("golden/templates/" + GetParam() + ".json");
  const Json file = Json::parse(testing::ReadFileToString(path));
  Result<Template> tmpl = Template::Parse(file.at("template").get<std::string>());
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  int passed = 0;
  for (const Json& c : file.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    RenderOptions options;
    if (c.contains("date_string")) options.now = GoldenClock(c.at("date_string"));
    RenderFailure failure;
    Result<std::string> out = tmpl->Render(Variables(file, c), options, &failure);
    if (c.contains("expected_error")) {
      const std::string want = c.at("expected_error").get<std::string>();
      const bool template_error = c.at("error_type") == "TemplateError";
      ASSERT_FALSE(out.ok()) << name << ": expected error " << want << ", rendered:\n" << *out;
      if (template_error) {
        EXPECT_TRUE(failure.raised_by_template) << name;
        EXPECT_EQ(out.status().message(), want) << name;
      } else {
        EXPECT_NE(out.status().message().find(want), std::string::npos)
            << name << ": " << out.status().message();
      }
      if (out.status().message().find(want) != std::string::npos) ++passed;
      continue;
    }
    ASSERT_TRUE(out.ok()) << name << ": " << out.status().ToString();
    EXPECT_EQ(*out, c.at("expected").get<std::string>()) << name;
    if (*out == c.at("expected").get<std::string>()) ++passed;
  }
  EXPECT_EQ(passed, static_cast<int>(file.at("cases").size()));
}

INSTANTIATE_TEST_SUITE_P(Shared, GoldenTemplateTest, ::testing::ValuesIn(GoldenFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenTemplateTest);

// Counts all cases (the suite above splits them per file).
TEST(GoldenTemplates, AllCasesPass) {
  CELLAR_REQUIRE_SHARED(dir, "golden/templates");
  int total = 0;
  int passed = 0;
  std::vector<std::string> failures;
  for (const std::string& f : GoldenFiles()) {
    const Json file = Json::parse(testing::ReadFileToString(dir / (f + ".json")));
    Result<Template> tmpl = Template::Parse(file.at("template").get<std::string>());
    for (const Json& c : file.at("cases")) {
      ++total;
      if (!tmpl.ok()) {
        failures.push_back(f + "/" + c.at("name").get<std::string>());
        continue;
      }
      RenderOptions options;
      if (c.contains("date_string")) options.now = GoldenClock(c.at("date_string"));
      Result<std::string> out = tmpl->Render(Variables(file, c), options);
      bool ok;
      if (c.contains("expected_error")) {
        ok = !out.ok() && out.status().message().find(c.at("expected_error").get<std::string>()) !=
                              std::string::npos;
      } else {
        ok = out.ok() && *out == c.at("expected").get<std::string>();
      }
      if (ok) {
        ++passed;
      } else {
        failures.push_back(f + "/" + c.at("name").get<std::string>());
      }
    }
  }
  std::string list;
  for (const std::string& f : failures) list += "\n  " + f;
  EXPECT_EQ(passed, total) << passed << "/" << total << " golden cases pass; failing:" << list;
  std::printf("golden template cases: %d/%d pass\n", passed, total);
}

}  // namespace
}  // namespace cellar::jinja
