// `cellar template` end to end: runs the built binary on every golden template case
// (../shared/golden/templates) and on the chat templates of the vocab files
// (../shared/vocab, expectations rendered by Python Jinja2 in
// src/jinja/testdata/vocab_templates.json), comparing stdout byte for byte.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"

namespace cellar {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

void WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

// Runs `cellar template <args>` with `stdin_text` on stdin.
RunResult RunTemplate(const testing::TempDir& tmp, const std::string& args,
                      const std::string& stdin_text) {
  const fs::path in = tmp.path() / "stdin.json";
  const fs::path err = tmp.path() / "stderr.txt";
  WriteFile(in, stdin_text);
  const std::string cmd = std::string(CELLAR_BINARY) + " template " + args + " < " +
                          Quote(in.string()) + " 2> " + Quote(err.string());
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = testing::ReadFileToString(err);
  return r;
}

// Runs golden cases through the binary: all of them, or (sampled) per file the
// richest case (the last one, often tools or extra context) and its error cases.
void RunGoldenCases(const fs::path& dir, bool all) {
  testing::TempDir tmp;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int total = 0, passed = 0;
  std::string failures;
  for (const fs::path& path : files) {
    const Json file = Json::parse(testing::ReadFileToString(path));
    const fs::path tmpl = tmp.path() / "template.jinja";
    WriteFile(tmpl, file.at("template").get<std::string>());
    const Json& cases = file.at("cases");
    for (size_t i = 0; i < cases.size(); ++i) {
      const Json& c = cases[i];
      if (!all && i + 1 != cases.size() && !c.contains("expected_error")) continue;
      ++total;
      Json input = {{"messages", c.at("messages")},
                    {"bos_token", file.at("bos_token")},
                    {"eos_token", file.at("eos_token")}};
      if (c.contains("tools")) input["tools"] = c.at("tools");
      if (c.contains("extra_context")) input["extra_context"] = c.at("extra_context");
      std::string args = "--template " + Quote(tmpl.string());
      if (!c.at("add_generation_prompt").get<bool>()) args += " --no-generation-prompt";
      if (c.contains("date_string")) args += " --date " + c.at("date_string").get<std::string>();
      const RunResult r = RunTemplate(tmp, args, input.dump());
      bool ok;
      if (c.contains("expected_error")) {
        ok = r.exit_code != 0 && r.out.empty() &&
             r.err.find(c.at("expected_error").get<std::string>()) != std::string::npos;
      } else {
        ok = r.exit_code == 0 && r.out == c.at("expected").get<std::string>();
      }
      if (ok) {
        ++passed;
      } else {
        failures += "\n  " + path.stem().string() + "/" + c.at("name").get<std::string>() +
                    " (exit " + std::to_string(r.exit_code) + "): " + r.err;
      }
    }
  }
  EXPECT_EQ(passed, total) << failures;
  EXPECT_GT(total, 0);
  std::printf("cellar template: %d/%d golden cases\n", passed, total);
}

TEST(TemplateCommand, GoldenCasesSampled) {
  CELLAR_REQUIRE_SHARED(dir, "golden/templates");
  RunGoldenCases(dir, /*all=*/false);
}

// All 464 cases, one `cellar template` process each (about a minute).
TEST(TemplateCommand, AllGoldenCases) {
  CELLAR_REQUIRE_SHARED(dir, "golden/templates");
  RunGoldenCases(dir, /*all=*/true);
}

TEST(TemplateCommand, VocabFileTemplates) {
  CELLAR_REQUIRE_SHARED(vocab_dir, "vocab");
  const fs::path data =
      fs::path(__FILE__).parent_path() / ".." / "jinja" / "testdata" / "vocab_templates.json";
  const Json files = Json::parse(testing::ReadFileToString(data));
  ASSERT_EQ(files.size(), 3u);  // llama-bpe, phi-3, qwen2 carry a chat template
  testing::TempDir tmp;
  for (const Json& f : files) {
    const std::string model = (vocab_dir / f.at("file").get<std::string>()).string();
    for (const Json& c : f.at("cases")) {
      SCOPED_TRACE(f.at("file").get<std::string>() + "/" + c.at("name").get<std::string>());
      std::string args = "-m " + Quote(model);
      if (!c.at("add_generation_prompt").get<bool>()) args += " --no-generation-prompt";
      // bos/eos come from the model itself.
      const RunResult r = RunTemplate(tmp, args, Json{{"messages", c.at("messages")}}.dump());
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, c.at("expected").get<std::string>());
    }
  }
}

TEST(TemplateCommand, JsonTokensOverrideTheModel) {
  CELLAR_REQUIRE_SHARED(model, "vocab/ggml-vocab-phi-3.gguf");
  testing::TempDir tmp;
  const RunResult r =
      RunTemplate(tmp, "-m " + Quote(model.string()),
                  R"({"messages":[{"role":"user","content":"Hi"}],"bos_token":"<BOS>"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<BOS><|user|>\nHi<|end|>\n<|assistant|>\n");
}

TEST(TemplateCommand, ModelWithoutTemplateUsesChatml) {
  CELLAR_REQUIRE_SHARED(model, "vocab/ggml-vocab-gpt-2.gguf");
  testing::TempDir tmp;
  const RunResult r = RunTemplate(tmp, "-m " + Quote(model.string()),
                                  R"({"messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(TemplateCommand, Errors) {
  testing::TempDir tmp;
  const fs::path good = tmp.path() / "good.jinja";
  WriteFile(good, "{% for m in messages %}{{ m.content }}{% endfor %}");
  const fs::path bad = tmp.path() / "bad.jinja";
  WriteFile(bad, "ok\n{% for m in messages %}\n{{ m.content }");

  RunResult r = RunTemplate(tmp, "--template " + Quote(good.string()), "{not json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err, "cellar template: stdin is not valid JSON\n");

  r = RunTemplate(tmp, "--template " + Quote(good.string()), R"({"tools":[]})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "cellar template: stdin JSON has no \"messages\"\n");

  r = RunTemplate(tmp, "--template " + Quote(bad.string()), R"({"messages":[]})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("template syntax error at line 3, column 14"), std::string::npos) << r.err;

  r = RunTemplate(tmp, "", R"({"messages":[]})");
  EXPECT_EQ(r.exit_code, 2);

  r = RunTemplate(tmp, "--template " + Quote((tmp.path() / "missing.jinja").string()),
                  R"({"messages":[]})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;

  r = RunTemplate(tmp, "--template " + Quote(good.string()) + " --date 2026-13-01",
                  R"({"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("date is not a valid day"), std::string::npos) << r.err;

  // Output is exactly the render: no trailing newline.
  r = RunTemplate(tmp, "--template " + Quote(good.string()),
                  R"({"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "ab");
}

}  // namespace
}  // namespace cellar
