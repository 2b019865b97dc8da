// `cellar template (-m FILE | --template FILE) [--no-generation-prompt]
// [--date YYYY-MM-DD]`: renders a chat template the way the server does. Reads
// {"messages": [...], "tools"?: [...], "bos_token"?: ..., "eos_token"?: ...,
// "extra_context"?: {...}} as JSON on stdin and prints the prompt exactly, with
// nothing added (no trailing newline). With -m, bos/eos default to the model's token
// texts and passing tools selects the model's tool_use template when it has one.
// Errors go to stderr with a non-zero exit code.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "model/chat_template.h"

namespace cellar::cli {
namespace {

using Json = nlohmann::ordered_json;

struct TemplateOptions {
  std::string model_path;
  std::string template_path;
  bool no_generation_prompt = false;
  std::string date;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "cellar template: %s\n", message.c_str());
  return 1;
}

Result<std::string> ReadFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return NotFound("cannot open " + path);
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data.append(buf, n);
  const bool error = std::ferror(f) != 0;
  std::fclose(f);
  if (error) return IoError("cannot read " + path);
  return data;
}

Result<std::string> StringField(const Json& input, const char* key) {
  const Json& v = input.at(key);
  if (!v.is_string()) return InvalidArgument(std::string(key) + " must be a string");
  return v.get<std::string>();
}

int Run(const TemplateOptions& o) {
  const std::string text{std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>()};
  const Json input = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return Fail("stdin is not valid JSON");
  if (!input.is_object()) return Fail("stdin must be a JSON object with \"messages\"");
  if (!input.contains("messages")) return Fail("stdin JSON has no \"messages\"");

  ChatTemplateInputs in;
  in.messages = input.at("messages");
  if (input.contains("tools")) in.tools = input.at("tools");
  if (input.contains("extra_context")) in.extra_context = input.at("extra_context");
  in.add_generation_prompt = !o.no_generation_prompt;
  if (!o.date.empty()) in.date = o.date;

  std::optional<ChatTemplate> tmpl;
  if (!o.model_path.empty()) {
    Result<std::unique_ptr<GgufFile>> file = GgufFile::Open(o.model_path);
    if (!file.ok()) return Fail(file.status().ToString());
    Result<ChatTemplate> t = ChatTemplate::FromGguf(**file, !in.tools.is_null());
    if (!t.ok()) return Fail(t.status().ToString());
    tmpl = std::move(t).value();
    Result<ChatTokenTexts> texts = ChatTokenTextsFromGguf(**file);
    if (!texts.ok()) return Fail(texts.status().ToString());
    in.bos_token = texts->bos_token;
    in.eos_token = texts->eos_token;
  } else {
    Result<std::string> source = ReadFile(o.template_path);
    if (!source.ok()) return Fail(source.status().ToString());
    Result<ChatTemplate> t = ChatTemplate::Parse(std::move(source).value());
    if (!t.ok()) return Fail(t.status().ToString());
    tmpl = std::move(t).value();
  }
  for (const char* key : {"bos_token", "eos_token"}) {
    if (!input.contains(key)) continue;
    Result<std::string> v = StringField(input, key);
    if (!v.ok()) return Fail(v.status().ToString());
    (std::string(key) == "bos_token" ? in.bos_token : in.eos_token) = *v;
  }

  Result<std::string> out = tmpl->Render(in);
  if (!out.ok()) return Fail(out.status().ToString());
  if (std::fwrite(out->data(), 1, out->size(), stdout) != out->size() || std::fflush(stdout) != 0) {
    return Fail("cannot write the prompt to stdout");
  }
  return 0;
}

void RegisterTemplateCommand(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("template",
                         "Render a chat template: reads {\"messages\", \"tools\"?, \"bos_token\"?, "
                         "\"eos_token\"?, \"extra_context\"?} as JSON on stdin, prints the prompt");
  auto opts = std::make_shared<TemplateOptions>();
  auto* model = cmd->add_option("-m,--model", opts->model_path,
                                "GGUF file whose tokenizer.chat_template (and bos/eos) to use");
  auto* tmpl = cmd->add_option("--template", opts->template_path, "Jinja template file");
  model->excludes(tmpl);
  cmd->add_flag("--no-generation-prompt", opts->no_generation_prompt,
                "add_generation_prompt = false");
  cmd->add_option("--date", opts->date, "YYYY-MM-DD seen by strftime_now (default: today)");
  cmd->callback([opts] {
    if (opts->model_path.empty() == opts->template_path.empty()) {
      std::fprintf(stderr, "cellar template: give exactly one of -m FILE or --template FILE\n");
      Exit(2);
    }
    Exit(Run(*opts));
  });
}

}  // namespace

CELLAR_REGISTER_COMMAND(65, RegisterTemplateCommand);

}  // namespace cellar::cli
