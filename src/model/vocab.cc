#include "model/vocab.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "base/log.h"

namespace cellar {
namespace {

uint32_t AttrFromType(int32_t type) {
  switch (static_cast<GgufTokenType>(type)) {
    case GgufTokenType::kUnknown:
      return kTokenAttrUnknown;
    case GgufTokenType::kUnused:
      return kTokenAttrUnused;
    case GgufTokenType::kNormal:
      return kTokenAttrNormal;
    case GgufTokenType::kControl:
      return kTokenAttrControl;
    case GgufTokenType::kUserDefined:
      return kTokenAttrUserDefined;
    case GgufTokenType::kByte:
      return kTokenAttrByte;
    default:
      return kTokenAttrUndefined;
  }
}

struct TypeDefaults {
  VocabType type;
  int32_t bos, eos, unk, sep, pad, mask;
};

std::optional<TypeDefaults> DefaultsFor(const std::string& model) {
  if (model == "llama") return TypeDefaults{VocabType::kSpm, 1, 2, 0, -1, -1, -1};
  if (model == "bert") return TypeDefaults{VocabType::kWpm, 101, -1, 100, 102, 0, 103};
  if (model == "gpt2") return TypeDefaults{VocabType::kBpe, 11, 11, -1, -1, -1, -1};
  if (model == "t5") return TypeDefaults{VocabType::kUgm, -1, 1, 2, -1, 0, -1};
  if (model == "rwkv") return TypeDefaults{VocabType::kRwkv, -1, -1, -1, -1, -1, -1};
  return std::nullopt;
}

// Texts llama.cpp recognizes as end-of-turn tokens, in the order this vocab
// prefers them when picking eot() (llama.cpp takes whichever its hash map yields first).
constexpr std::array<std::string_view, 7> kEotTexts = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<EOT>",
    "<\xEF\xBD\x9C"
    "end\xE2\x96\x81"
    "of\xE2\x96\x81"
    "sentence\xEF\xBD\x9C>",  // DeepSeek
};
constexpr std::array<std::string_view, 7> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
};
constexpr std::array<std::string_view, 1> kEomTexts = {"<|eom_id|>"};
constexpr std::array<std::string_view, 4> kFimPreTexts = {"<|fim_prefix|>", "<fim-prefix>",
                                                          "<\xEF\xBD\x9C"
                                                          "fim\xE2\x96\x81"
                                                          "begin\xEF\xBD\x9C>",
                                                          "<PRE>"};
constexpr std::array<std::string_view, 4> kFimSufTexts = {"<|fim_suffix|>", "<fim-suffix>",
                                                          "<\xEF\xBD\x9C"
                                                          "fim\xE2\x96\x81"
                                                          "hole\xEF\xBD\x9C>",
                                                          "<SUF>"};
constexpr std::array<std::string_view, 4> kFimMidTexts = {"<|fim_middle|>", "<fim-middle>",
                                                          "<\xEF\xBD\x9C"
                                                          "fim\xE2\x96\x81"
                                                          "end\xEF\xBD\x9C>",
                                                          "<MID>"};
constexpr std::array<std::string_view, 3> kFimPadTexts = {"<|fim_pad|>", "<fim-pad>", "<PAD>"};
constexpr std::array<std::string_view, 4> kFimRepTexts = {"<|fim_repo|>", "<|repo_name|>",
                                                          "<fim-repo>", "<REPO>"};
constexpr std::array<std::string_view, 1> kFimSepTexts = {"<|file_sep|>"};

}  // namespace

Result<std::unique_ptr<Vocab>> Vocab::FromData(VocabData data) {
  std::unique_ptr<Vocab> vocab(new Vocab());
  CELLAR_RETURN_IF_ERROR(vocab->Init(std::move(data)));
  return vocab;
}

std::string_view Vocab::TokenText(int32_t id) const {
  return IsValid(id) ? std::string_view(texts_[id]) : std::string_view();
}

float Vocab::Score(int32_t id) const { return IsValid(id) ? scores_[id] : 0.0f; }

uint32_t Vocab::Attr(int32_t id) const { return IsValid(id) ? attrs_[id] : 0u; }

bool Vocab::IsEog(int32_t id) const {
  return id >= 0 && std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

std::optional<int32_t> Vocab::FindToken(std::string_view text) const {
  const auto it = text_to_id_.find(text);
  if (it == text_to_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> Vocab::ByteToken(uint8_t byte) const {
  if (byte_tokens_[byte] < 0) return std::nullopt;
  return byte_tokens_[byte];
}

std::optional<uint8_t> Vocab::TokenToByte(int32_t id) const {
  const std::string_view t = TokenText(id);
  // "<0xNN>"
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]);
  const int lo = hex(t[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

Status Vocab::Init(VocabData data) {
  const std::optional<TypeDefaults> defaults = DefaultsFor(data.model);
  if (data.model == "no_vocab" || data.model == "none") {
    return Unimplemented("the model has no vocabulary (tokenizer.ggml.model = '" + data.model +
                         "')");
  }
  if (!defaults) {
    return Unimplemented("unsupported tokenizer type '" + data.model + "' (tokenizer.ggml.model)");
  }
  type_ = defaults->type;
  model_name_ = data.model;
  pre_name_ = data.pre;

  // Flags by type (and, for byte-level BPE, by pre-tokenizer), as llama.cpp sets them.
  pre_spec_ = DefaultPreTokenizer();
  switch (type_) {
    case VocabType::kBpe: {
      add_space_prefix_ = false;
      clean_spaces_ = true;
      if (data.pre.empty()) {
        CELLAR_LOG_WARN(
            "tokenizer: no tokenizer.ggml.pre in the file; using the 'default' pre-tokenizer "
            "(token ids may differ from the model's own tokenizer)");
      } else if (auto spec = FindPreTokenizer(data.pre)) {
        pre_spec_ = *spec;
        clean_spaces_ = spec->clean_spaces;
        add_bos_ = spec->add_bos;
      } else {
        CELLAR_LOG_WARN(
            "tokenizer: unknown pre-tokenizer '{}' (tokenizer.ggml.pre); using the 'default' "
            "split (token ids may differ from the model's own tokenizer)",
            data.pre);
      }
      break;
    }
    case VocabType::kSpm:
      add_space_prefix_ = true;
      clean_spaces_ = false;
      add_bos_ = true;
      add_eos_ = false;
      break;
    case VocabType::kWpm:
      add_space_prefix_ = false;
      clean_spaces_ = true;
      add_bos_ = true;
      add_eos_ = false;
      break;
    case VocabType::kUgm:
      add_bos_ = false;
      add_eos_ = true;
      break;
    case VocabType::kRwkv:
      break;
  }
  if (data.add_space_prefix) add_space_prefix_ = *data.add_space_prefix;
  if (data.remove_extra_whitespaces) remove_extra_whitespaces_ = *data.remove_extra_whitespaces;

  // Tokens.
  const size_t n = data.tokens.size();
  if (n == 0) return InvalidArgument("tokenizer.ggml.tokens is empty or missing");
  if (n > static_cast<size_t>(INT32_MAX)) return InvalidArgument("too many tokens");
  if (!data.scores.empty() && data.scores.size() != n) {
    return InvalidArgument("tokenizer.ggml.scores has " + std::to_string(data.scores.size()) +
                           " entries for " + std::to_string(n) + " tokens");
  }
  if (!data.token_types.empty() && data.token_types.size() != n) {
    return InvalidArgument("tokenizer.ggml.token_type has " +
                           std::to_string(data.token_types.size()) + " entries for " +
                           std::to_string(n) + " tokens");
  }
  texts_ = std::move(data.tokens);
  scores_ = data.scores.empty() ? std::vector<float>(n, 0.0f) : std::move(data.scores);
  attrs_.resize(n);
  text_to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (texts_[i].empty()) {
      CELLAR_LOG_WARN("tokenizer: empty token at index {}", i);
      texts_[i] = "[EMPTY_" + std::to_string(i) + "]";
    }
    attrs_[i] = data.token_types.empty() ? kTokenAttrNormal : AttrFromType(data.token_types[i]);
    max_token_len_ = std::max<int32_t>(max_token_len_, static_cast<int32_t>(texts_[i].size()));
  }
  for (size_t i = 0; i < n; ++i) {
    if (!text_to_id_.emplace(texts_[i], static_cast<int32_t>(i)).second) {
      return InvalidArgument("duplicate token '" + texts_[i] + "' at ids " +
                             std::to_string(text_to_id_[texts_[i]]) + " and " + std::to_string(i));
    }
  }

  // Merges: "left right", split at the first space after the first byte.
  if (type_ == VocabType::kBpe) {
    if (data.merges.empty()) return InvalidArgument("byte-level BPE vocabulary without merges");
    merges_.reserve(data.merges.size());
    for (const std::string& m : data.merges) {
      const size_t space = m.find(' ', 1);
      if (space == std::string::npos) {
        merges_.emplace_back();  // keeps ranks aligned; never matches a pair of symbols
      } else {
        merges_.emplace_back(m.substr(0, space), m.substr(space + 1));
      }
    }
  }

  // Special ids: type defaults, then the file's keys when in range.
  auto valid_or_none = [n](int32_t id) { return id >= 0 && static_cast<size_t>(id) < n ? id : -1; };
  bos_ = pre_spec_.no_bos && type_ == VocabType::kBpe ? -1 : valid_or_none(defaults->bos);
  eos_ = valid_or_none(defaults->eos);
  unk_ = valid_or_none(defaults->unk);
  sep_ = valid_or_none(defaults->sep);
  pad_ = valid_or_none(defaults->pad);
  mask_ = valid_or_none(defaults->mask);
  const std::pair<const std::optional<int64_t>*, int32_t*> keyed[] = {
      {&data.bos_id, &bos_},         {&data.eos_id, &eos_},         {&data.eot_id, &eot_},
      {&data.eom_id, &eom_},         {&data.unk_id, &unk_},         {&data.sep_id, &sep_},
      {&data.pad_id, &pad_},         {&data.mask_id, &mask_},       {&data.fim_pre_id, &fim_pre_},
      {&data.fim_suf_id, &fim_suf_}, {&data.fim_mid_id, &fim_mid_}, {&data.fim_pad_id, &fim_pad_},
      {&data.fim_rep_id, &fim_rep_}, {&data.fim_sep_id, &fim_sep_},
  };
  for (const auto& [value, target] : keyed) {
    if (!value->has_value()) continue;
    // -1 / 0xFFFFFFFF is how converters write "no such token": keep the default quietly.
    if (**value == -1 || **value == 0xFFFFFFFFll) continue;
    if (**value < 0 || static_cast<uint64_t>(**value) >= n) {
      CELLAR_LOG_WARN("tokenizer: special token id {} out of range (n_tokens {}); using {}",
                      **value, n, *target);
      continue;
    }
    *target = static_cast<int32_t>(**value);
  }
  if (data.add_bos) add_bos_ = *data.add_bos;
  if (data.add_eos) add_eos_ = *data.add_eos;

  DetectSpecialTokens();

  // Special-token parsing order: longest first.
  for (int32_t id = 0; id < n_tokens(); ++id) {
    if (attrs_[id] & (kTokenAttrControl | kTokenAttrUserDefined | kTokenAttrUnknown)) {
      special_tokens_.push_back(id);
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(),
                   [this](int32_t a, int32_t b) { return texts_[a].size() > texts_[b].size(); });
  SetModelSpecificAttrs(data.general_name);

  // Byte fallback tokens.
  for (int b = 0; b < 256; ++b) {
    static const char* kHex = "0123456789ABCDEF";
    const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    std::optional<int32_t> id = FindToken(std::string_view(name, 6));
    if (!id) id = FindToken(std::string_view(reinterpret_cast<const char*>(&b), 1));
    byte_tokens_[b] = id.value_or(-1);
  }
  return OkStatus();
}

void Vocab::DetectSpecialTokens() {
  // The first text of `texts` present in the vocabulary; it becomes a control token.
  auto find_first = [this](auto texts) -> int32_t {
    for (std::string_view t : texts) {
      if (auto id = FindToken(t)) return *id;
    }
    return -1;
  };
  auto make_control = [this](int32_t id) {
    if (id >= 0 && !(attrs_[id] & kTokenAttrControl)) {
      CELLAR_LOG_WARN("tokenizer: token {} '{}' looks like a control token; treating it as one", id,
                      texts_[id]);
      attrs_[id] = kTokenAttrControl;
    }
  };
  const std::pair<int32_t*, int32_t> detected[] = {
      {&eot_, find_first(kEotTexts)},        {&eom_, find_first(kEomTexts)},
      {&fim_pre_, find_first(kFimPreTexts)}, {&fim_suf_, find_first(kFimSufTexts)},
      {&fim_mid_, find_first(kFimMidTexts)}, {&fim_pad_, find_first(kFimPadTexts)},
      {&fim_rep_, find_first(kFimRepTexts)}, {&fim_sep_, find_first(kFimSepTexts)},
  };
  for (const auto& [target, id] : detected) {
    if (*target == -1 && id >= 0) {
      *target = id;
      make_control(id);
    }
  }

  std::vector<int32_t> eog;
  for (int32_t id : {fim_pad_, fim_rep_, fim_sep_}) {
    if (id >= 0) eog.push_back(id);
  }
  for (std::string_view t : kEogTexts) {
    if (auto id = FindToken(t)) {
      eog.push_back(*id);
      make_control(*id);
    }
  }
  for (int32_t id : {eos_, eot_, eom_}) {
    if (id >= 0) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  eog_ids_ = std::move(eog);
}

void Vocab::SetModelSpecificAttrs(const std::string& general_name) {
  auto set_attr = [this](std::string_view text, uint32_t attr, bool on) {
    if (auto id = FindToken(text)) attrs_[*id] = on ? (attrs_[*id] | attr) : (attrs_[*id] & ~attr);
  };
  std::string name = general_name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto contains_any = [](const std::string& s, std::initializer_list<std::string_view> subs) {
    for (std::string_view sub : subs) {
      if (s.find(sub) != std::string::npos) return true;
    }
    return false;
  };
  if (contains_any(pre_name_, {"jina-v2-de", "jina-v2-es", "jina-v2-code"})) {
    set_attr("<mask>", kTokenAttrLstrip, true);
  } else if (contains_any(name, {"phi-3", "phi3"})) {
    for (int32_t id : special_tokens_) attrs_[id] |= kTokenAttrRstrip;
    set_attr("</s>", kTokenAttrRstrip, true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"})
      set_attr(t, kTokenAttrRstrip, false);
  }
}

}  // namespace cellar
