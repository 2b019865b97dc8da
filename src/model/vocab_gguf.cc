// Vocab::FromGguf: reads the `tokenizer.ggml.*` keys into a VocabData.
#include "gguf/gguf_file.h"
#include "model/vocab.h"

namespace cellar {
namespace {

Status ReadOptionalId(const GgufFile& file, std::string_view key, std::optional<int64_t>* out) {
  if (!file.Has(key)) return OkStatus();
  Result<int64_t> v = file.GetInt(key);
  if (!v.ok()) return v.status();
  *out = *v;
  return OkStatus();
}

Status ReadOptionalBool(const GgufFile& file, std::string_view key, std::optional<bool>* out) {
  if (!file.Has(key)) return OkStatus();
  Result<bool> v = file.GetBool(key);
  if (!v.ok()) return v.status();
  *out = *v;
  return OkStatus();
}

Result<VocabData> ReadVocabData(const GgufFile& file) {
  VocabData d;
  CELLAR_ASSIGN_OR_RETURN(d.model, file.GetString("tokenizer.ggml.model"));
  CELLAR_ASSIGN_OR_RETURN(d.pre, file.GetStringOr("tokenizer.ggml.pre", ""));
  CELLAR_ASSIGN_OR_RETURN(d.general_name, file.GetStringOr("general.name", ""));
  if (d.model == "no_vocab" || d.model == "none") return d;
  CELLAR_ASSIGN_OR_RETURN(d.tokens, file.GetStringArray("tokenizer.ggml.tokens"));
  if (file.Has("tokenizer.ggml.scores")) {
    CELLAR_ASSIGN_OR_RETURN(d.scores, file.GetFloatArray("tokenizer.ggml.scores"));
  }
  if (file.Has("tokenizer.ggml.token_type")) {
    CELLAR_ASSIGN_OR_RETURN(std::vector<int64_t> types,
                            file.GetIntArray("tokenizer.ggml.token_type"));
    d.token_types.reserve(types.size());
    for (int64_t t : types) d.token_types.push_back(static_cast<int32_t>(t));
  }
  if (d.model == "gpt2") {
    CELLAR_ASSIGN_OR_RETURN(d.merges, file.GetStringArray("tokenizer.ggml.merges"));
  }
  const std::pair<std::string_view, std::optional<int64_t>*> ids[] = {
      {"tokenizer.ggml.bos_token_id", &d.bos_id},
      {"tokenizer.ggml.eos_token_id", &d.eos_id},
      {"tokenizer.ggml.eot_token_id", &d.eot_id},
      {"tokenizer.ggml.eom_token_id", &d.eom_id},
      {"tokenizer.ggml.unknown_token_id", &d.unk_id},
      {"tokenizer.ggml.seperator_token_id", &d.sep_id},
      {"tokenizer.ggml.padding_token_id", &d.pad_id},
      {"tokenizer.ggml.mask_token_id", &d.mask_id},
      {"tokenizer.ggml.fim_pre_token_id", &d.fim_pre_id},
      {"tokenizer.ggml.fim_suf_token_id", &d.fim_suf_id},
      {"tokenizer.ggml.fim_mid_token_id", &d.fim_mid_id},
      {"tokenizer.ggml.fim_pad_token_id", &d.fim_pad_id},
      {"tokenizer.ggml.fim_rep_token_id", &d.fim_rep_id},
      {"tokenizer.ggml.fim_sep_token_id", &d.fim_sep_id},
      // Deprecated spellings of the FIM ids (read only when the new key is absent).
      {"tokenizer.ggml.prefix_token_id", &d.fim_pre_id},
      {"tokenizer.ggml.suffix_token_id", &d.fim_suf_id},
      {"tokenizer.ggml.middle_token_id", &d.fim_mid_id},
  };
  for (const auto& [key, out] : ids) {
    if (out->has_value()) continue;
    CELLAR_RETURN_IF_ERROR(ReadOptionalId(file, key, out));
  }
  CELLAR_RETURN_IF_ERROR(ReadOptionalBool(file, "tokenizer.ggml.add_bos_token", &d.add_bos));
  CELLAR_RETURN_IF_ERROR(ReadOptionalBool(file, "tokenizer.ggml.add_eos_token", &d.add_eos));
  CELLAR_RETURN_IF_ERROR(
      ReadOptionalBool(file, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix));
  CELLAR_RETURN_IF_ERROR(ReadOptionalBool(file, "tokenizer.ggml.remove_extra_whitespaces",
                                          &d.remove_extra_whitespaces));
  return d;
}

}  // namespace

Result<std::unique_ptr<Vocab>> Vocab::FromGguf(const GgufFile& file) {
  Result<VocabData> data = ReadVocabData(file);
  if (!data.ok()) return data.status().WithContext("reading the tokenizer");
  return FromData(std::move(*data));
}

}  // namespace cellar
