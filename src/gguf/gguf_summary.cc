#include "gguf/gguf_summary.h"

#include <algorithm>
#include <array>
#include <map>

namespace cellar {
namespace {

struct SpecialKey {
  const char* role;
  const char* key;
};

// llama.cpp's key names (including its "seperator" spelling).
constexpr std::array<SpecialKey, 8> kSpecialKeys = {{
    {"bos", "tokenizer.ggml.bos_token_id"},
    {"eos", "tokenizer.ggml.eos_token_id"},
    {"eot", "tokenizer.ggml.eot_token_id"},
    {"unk", "tokenizer.ggml.unknown_token_id"},
    {"sep", "tokenizer.ggml.seperator_token_id"},
    {"pad", "tokenizer.ggml.padding_token_id"},
    {"mask", "tokenizer.ggml.mask_token_id"},
    {"cls", "tokenizer.ggml.cls_token_id"},
}};

// Reads an optional key; a present key of the wrong type becomes a warning.
template <typename T>
std::optional<T> Optional(const GgufFile& f, std::string_view key,
                          Result<T> (GgufFile::*get)(std::string_view) const,
                          std::vector<std::string>& warnings) {
  if (!f.Has(key)) return std::nullopt;
  Result<T> r = (f.*get)(key);
  if (!r.ok()) {
    warnings.push_back(r.status().message());
    return std::nullopt;
  }
  return *r;
}

}  // namespace

std::string_view GgufFileTypeName(uint64_t file_type) {
  switch (file_type) {
    case 0:
      return "ALL_F32";
    case 1:
      return "MOSTLY_F16";
    case 2:
      return "MOSTLY_Q4_0";
    case 3:
      return "MOSTLY_Q4_1";
    case 7:
      return "MOSTLY_Q8_0";
    case 8:
      return "MOSTLY_Q5_0";
    case 9:
      return "MOSTLY_Q5_1";
    case 10:
      return "MOSTLY_Q2_K";
    case 11:
      return "MOSTLY_Q3_K_S";
    case 12:
      return "MOSTLY_Q3_K_M";
    case 13:
      return "MOSTLY_Q3_K_L";
    case 14:
      return "MOSTLY_Q4_K_S";
    case 15:
      return "MOSTLY_Q4_K_M";
    case 16:
      return "MOSTLY_Q5_K_S";
    case 17:
      return "MOSTLY_Q5_K_M";
    case 18:
      return "MOSTLY_Q6_K";
    case 19:
      return "MOSTLY_IQ2_XXS";
    case 20:
      return "MOSTLY_IQ2_XS";
    case 21:
      return "MOSTLY_Q2_K_S";
    case 22:
      return "MOSTLY_IQ3_XS";
    case 23:
      return "MOSTLY_IQ3_XXS";
    case 24:
      return "MOSTLY_IQ1_S";
    case 25:
      return "MOSTLY_IQ4_NL";
    case 26:
      return "MOSTLY_IQ3_S";
    case 27:
      return "MOSTLY_IQ3_M";
    case 28:
      return "MOSTLY_IQ2_S";
    case 29:
      return "MOSTLY_IQ2_M";
    case 30:
      return "MOSTLY_IQ4_XS";
    case 31:
      return "MOSTLY_IQ1_M";
    case 32:
      return "MOSTLY_BF16";
    case 36:
      return "MOSTLY_TQ1_0";
    case 37:
      return "MOSTLY_TQ2_0";
    case 38:
      return "MOSTLY_MXFP4_MOE";
    default:
      return "";
  }
}

GgufSummary SummarizeGguf(const GgufFile& f) {
  GgufSummary s;
  std::vector<std::string>& w = s.warnings;
  s.version = f.version();
  s.alignment = f.alignment();
  s.file_size = f.file_size();
  s.data_offset = f.data_offset();
  s.n_metadata = f.metadata().size();

  s.architecture =
      Optional<std::string>(f, "general.architecture", &GgufFile::GetString, w).value_or("");
  s.name = Optional<std::string>(f, "general.name", &GgufFile::GetString, w).value_or("");
  s.file_type = Optional<uint64_t>(f, "general.file_type", &GgufFile::GetUint, w);
  if (!s.architecture.empty()) {
    s.context_length =
        Optional<uint64_t>(f, s.architecture + ".context_length", &GgufFile::GetUint, w);
    const std::string prefix = s.architecture + ".";
    for (const auto& [key, value] : f.metadata()) {
      if (key.starts_with(prefix)) s.hyperparameters.emplace_back(key, value.Owned());
    }
  }

  std::map<uint32_t, GgufTypeStats> by_type;
  for (const GgufTensorInfo& t : f.tensors()) {
    GgufTypeStats& st = by_type[static_cast<uint32_t>(t.type)];
    st.type = t.type;
    ++st.n_tensors;
    st.n_elements += t.n_elements;
    st.n_bytes += t.n_bytes;
    s.n_params += t.n_elements;
    s.n_tensor_bytes += t.n_bytes;
  }
  s.n_tensors = f.tensors().size();
  for (const auto& [id, st] : by_type) s.by_type.push_back(st);

  s.vocab_model =
      Optional<std::string>(f, "tokenizer.ggml.model", &GgufFile::GetString, w).value_or("");
  s.vocab_pre =
      Optional<std::string>(f, "tokenizer.ggml.pre", &GgufFile::GetString, w).value_or("");
  std::span<const std::string_view> tokens;
  if (f.Has("tokenizer.ggml.tokens")) {
    auto t = f.GetStringArrayView("tokenizer.ggml.tokens");
    if (t.ok()) {
      tokens = *t;
    } else {
      w.push_back(t.status().message());
    }
  }
  s.vocab_size = tokens.size();
  if (const GgufValue* merges = f.Find("tokenizer.ggml.merges")) {
    if (merges->is_array()) {
      s.n_merges = merges->array_size();
    } else {
      w.push_back("key 'tokenizer.ggml.merges': expected an array, got " +
                  GgufValueTypeName(merges->type()));
    }
  }
  for (const SpecialKey& sk : kSpecialKeys) {
    if (!f.Has(sk.key)) continue;
    Result<int64_t> id = f.GetInt(sk.key);
    if (!id.ok()) {
      w.push_back(id.status().message());
      continue;
    }
    GgufSpecialToken tok{sk.role, sk.key, *id, std::nullopt};
    if (*id >= 0 && static_cast<uint64_t>(*id) < tokens.size()) {
      tok.text = std::string(tokens[static_cast<size_t>(*id)]);
    }
    s.special_tokens.push_back(std::move(tok));
  }
  s.add_bos = Optional<bool>(f, "tokenizer.ggml.add_bos_token", &GgufFile::GetBool, w);
  s.add_eos = Optional<bool>(f, "tokenizer.ggml.add_eos_token", &GgufFile::GetBool, w);
  if (f.Has("tokenizer.chat_template")) {
    auto tmpl = f.GetStringView("tokenizer.chat_template");
    if (tmpl.ok()) {
      s.chat_template_length = tmpl->size();
    } else {
      w.push_back(tmpl.status().message());
    }
  }
  return s;
}

}  // namespace cellar
