// `cellar info -m FILE [--json]`: what a GGUF file holds — architecture,
// hyperparameters, tensors by type, parameters, file type, vocabulary, special
// tokens, chat template. Text for people by default; --json prints one object.
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_summary.h"

namespace cellar::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr size_t kMaxJsonArray = 4096;  // longer arrays are summarized

json ValueToJson(const GgufValue& v) {
  if (v.is_string()) return std::string(*v.AsString());
  if (v.type() == GgufValueType::kBool) return *v.AsBool();
  if (v.type() == GgufValueType::kFloat32 || v.type() == GgufValueType::kFloat64) {
    return *v.AsFloat();
  }
  if (v.is_integer()) {
    if (auto i = v.AsInt(); i.ok()) return *i;
    return *v.AsUint();
  }
  if (v.array_size() > kMaxJsonArray) {
    return json{{"type", GgufValueTypeName(v.array_type())}, {"count", v.array_size()}};
  }
  json arr = json::array();
  for (size_t i = 0; i < v.array_size(); ++i) arr.push_back(ValueToJson(v.ArrayElement(i)));
  return arr;
}

std::string FileTypeText(const GgufSummary& s) {
  if (!s.file_type) return "-";
  std::string_view name = GgufFileTypeName(*s.file_type);
  return (name.empty() ? std::string("unknown") : std::string(name)) + " (" +
         std::to_string(*s.file_type) + ")";
}

json SummaryToJson(const std::string& path, const GgufSummary& s) {
  json j;
  j["path"] = path;
  j["file_size"] = s.file_size;
  j["version"] = s.version;
  j["alignment"] = s.alignment;
  j["data_offset"] = s.data_offset;
  j["n_metadata"] = s.n_metadata;
  j["architecture"] = s.architecture;
  j["name"] = s.name;
  j["file_type"] = s.file_type ? json{{"id", *s.file_type},
                                      {"name", std::string(GgufFileTypeName(*s.file_type))}}
                               : json(nullptr);
  j["context_length"] = s.context_length ? json(*s.context_length) : json(nullptr);
  json hp = json::object();
  for (const auto& [key, value] : s.hyperparameters) hp[key] = ValueToJson(value);
  j["hyperparameters"] = hp;
  json by_type = json::array();
  for (const GgufTypeStats& t : s.by_type) {
    by_type.push_back({{"type", std::string(GgmlTypeName(t.type))},
                       {"count", t.n_tensors},
                       {"elements", t.n_elements},
                       {"bytes", t.n_bytes}});
  }
  j["tensors"] = {{"count", s.n_tensors},
                  {"bytes", s.n_tensor_bytes},
                  {"parameters", s.n_params},
                  {"by_type", by_type}};
  j["vocab"] = {{"model", s.vocab_model},
                {"pre", s.vocab_pre},
                {"size", s.vocab_size},
                {"merges", s.n_merges}};
  json special = json::object();
  for (const GgufSpecialToken& t : s.special_tokens) {
    special[t.role] = {{"id", t.id}, {"text", t.text ? json(*t.text) : json(nullptr)}};
  }
  j["special_tokens"] = special;
  j["add_bos_token"] = s.add_bos ? json(*s.add_bos) : json(nullptr);
  j["add_eos_token"] = s.add_eos ? json(*s.add_eos) : json(nullptr);
  j["chat_template"] = {{"present", s.chat_template_length.has_value()},
                        {"length", s.chat_template_length.value_or(0)}};
  j["warnings"] = s.warnings;
  return j;
}

std::string Escaped(const std::string& text) {
  return GgufValue::FromString(text).DebugString(0, 48);
}

std::string OptBool(const std::optional<bool>& b) { return b ? (*b ? "true" : "false") : "-"; }

void PrintText(const std::string& path, const GgufSummary& s) {
  std::printf("file:            %s\n", path.c_str());
  std::printf("format:          GGUF v%u, %zu bytes, alignment %" PRIu64 ", %zu metadata keys\n",
              s.version, s.file_size, s.alignment, s.n_metadata);
  std::printf("architecture:    %s\n", s.architecture.empty() ? "-" : s.architecture.c_str());
  std::printf("name:            %s\n", s.name.empty() ? "-" : s.name.c_str());
  std::printf("file type:       %s\n", FileTypeText(s).c_str());
  std::printf("context length:  %s\n",
              s.context_length ? std::to_string(*s.context_length).c_str() : "-");
  std::printf("hyperparameters: %zu\n", s.hyperparameters.size());
  for (const auto& [key, value] : s.hyperparameters) {
    std::printf("  %-44s %s\n", key.c_str(), value.DebugString(16).c_str());
  }
  std::printf("tensors:         %zu, %" PRId64 " bytes, %" PRId64 " parameters\n", s.n_tensors,
              s.n_tensor_bytes, s.n_params);
  for (const GgufTypeStats& t : s.by_type) {
    std::printf("  %-8s %6" PRId64 " tensors %14" PRId64 " elements %14" PRId64 " bytes\n",
                std::string(GgmlTypeName(t.type)).c_str(), t.n_tensors, t.n_elements, t.n_bytes);
  }
  std::printf("vocabulary:      %s (pre: %s), %zu tokens, %zu merges\n",
              s.vocab_model.empty() ? "-" : s.vocab_model.c_str(),
              s.vocab_pre.empty() ? "-" : s.vocab_pre.c_str(), s.vocab_size, s.n_merges);
  std::printf("special tokens:  %zu\n", s.special_tokens.size());
  for (const GgufSpecialToken& t : s.special_tokens) {
    std::printf("  %-5s %10" PRId64 "  %s\n", t.role.c_str(), t.id,
                t.text ? Escaped(*t.text).c_str() : "(not in vocabulary)");
  }
  std::printf("add_bos_token:   %s\n", OptBool(s.add_bos).c_str());
  std::printf("add_eos_token:   %s\n", OptBool(s.add_eos).c_str());
  if (s.chat_template_length) {
    std::printf("chat template:   present (%zu bytes)\n", *s.chat_template_length);
  } else {
    std::printf("chat template:   absent\n");
  }
  for (const std::string& w : s.warnings) std::printf("warning:         %s\n", w.c_str());
}

void RegisterInfoCommand(CLI::App& app) {
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("info", "Describe a GGUF file (architecture, tensors, vocab)");
  cmd->add_option("-m,--model", args->model, "GGUF file")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  cmd->callback([args] {
    auto file = GgufFile::Open(args->model);
    if (!file.ok()) {
      std::fprintf(stderr, "error: %s\n", file.status().ToString().c_str());
      Exit(1);
      return;
    }
    const GgufSummary summary = SummarizeGguf(**file);
    if (args->json) {
      const std::string out =
          SummaryToJson(args->model, summary).dump(2, ' ', false, json::error_handler_t::replace);
      std::printf("%s\n", out.c_str());
    } else {
      PrintText(args->model, summary);
    }
  });
}

}  // namespace

CELLAR_REGISTER_COMMAND(60, RegisterInfoCommand);

}  // namespace cellar::cli
