// Vocab: a tokenizer vocabulary as a GGUF file's `tokenizer.ggml.*` keys describe
// it: token strings, scores, types, BPE merges, special token ids and flags, with
// llama.cpp's defaults and auto-detections (EOT/EOG/FIM tokens by text).
//
// Built once by FromGguf (or FromData for hand-made vocabularies in tests) and
// then immutable; owned by the Tokenizer (or whoever built it). Any thread may read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/pre_tokenizer_table.h"

namespace cellar {

class GgufFile;

// Which algorithm `tokenizer.ggml.model` asks for.
enum class VocabType {
  kSpm,   // "llama": SentencePiece BPE by scores, byte fallback
  kBpe,   // "gpt2": byte-level BPE by merge ranks, regex pre-tokenizer
  kWpm,   // "bert": WordPiece
  kUgm,   // "t5": Unigram (vocabulary loads; tokenizing it is not implemented)
  kRwkv,  // "rwkv": RWKV world (vocabulary loads; tokenizing it is not implemented)
};

// Token attributes (bit flags, as llama.cpp's llama_token_attr).
enum TokenAttr : uint32_t {
  kTokenAttrUndefined = 0,
  kTokenAttrUnknown = 1u << 0,
  kTokenAttrUnused = 1u << 1,
  kTokenAttrNormal = 1u << 2,
  kTokenAttrControl = 1u << 3,
  kTokenAttrUserDefined = 1u << 4,
  kTokenAttrByte = 1u << 5,
  kTokenAttrLstrip = 1u << 7,  // eat spaces before the token when parsing specials
  kTokenAttrRstrip = 1u << 8,  // eat spaces after it
};

// GGUF `tokenizer.ggml.token_type` values.
enum class GgufTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// The raw vocabulary keys, as read from a GGUF file (or typed by a test).
struct VocabData {
  std::string model;         // tokenizer.ggml.model
  std::string pre;           // tokenizer.ggml.pre ("" when absent)
  std::string general_name;  // general.name (llama.cpp sets Phi-3 token attributes by it)
  std::vector<std::string> tokens;
  std::vector<float> scores;         // empty: all 0
  std::vector<int32_t> token_types;  // GgufTokenType values; empty: all normal
  std::vector<std::string> merges;   // "left right"; byte-level BPE only
  // Special token ids (absent keys stay nullopt; ids >= n_tokens are ignored with a warning).
  std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, unk_id, sep_id, pad_id, mask_id;
  std::optional<int64_t> fim_pre_id, fim_suf_id, fim_mid_id, fim_pad_id, fim_rep_id, fim_sep_id;
  std::optional<bool> add_bos, add_eos, add_space_prefix, remove_extra_whitespaces;
};

class Vocab {
 public:
  // Reads the tokenizer keys of a GGUF file. INVALID_ARGUMENT for a malformed
  // vocabulary (missing tokens/merges, array lengths that disagree, duplicate
  // tokens), UNIMPLEMENTED naming the type for an unknown tokenizer.ggml.model
  // or a model without vocabulary ("no_vocab").
  static Result<std::unique_ptr<Vocab>> FromGguf(const GgufFile& file);
  static Result<std::unique_ptr<Vocab>> FromData(VocabData data);

  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  VocabType type() const { return type_; }
  const std::string& model_name() const { return model_name_; }  // tokenizer.ggml.model
  const std::string& pre_name() const { return pre_name_; }      // tokenizer.ggml.pre
  // The byte-level BPE pre-tokenizer in use ("default" when pre_name is absent/unknown).
  const PreTokenizerSpec& pre_tokenizer() const { return pre_spec_; }

  int32_t n_tokens() const { return static_cast<int32_t>(texts_.size()); }
  bool IsValid(int32_t id) const { return id >= 0 && id < n_tokens(); }
  // The vocabulary string; "" for an invalid id.
  std::string_view TokenText(int32_t id) const;
  float Score(int32_t id) const;    // 0 for an invalid id
  uint32_t Attr(int32_t id) const;  // TokenAttr bits; 0 for an invalid id
  bool IsNormal(int32_t id) const { return Attr(id) & kTokenAttrNormal; }
  bool IsUnknown(int32_t id) const { return Attr(id) & kTokenAttrUnknown; }
  bool IsControl(int32_t id) const { return Attr(id) & kTokenAttrControl; }
  bool IsByte(int32_t id) const { return Attr(id) & kTokenAttrByte; }
  bool IsUserDefined(int32_t id) const { return Attr(id) & kTokenAttrUserDefined; }
  bool IsUnused(int32_t id) const { return Attr(id) & kTokenAttrUnused; }

  // Special tokens; -1 when absent.
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  int32_t eot() const { return eot_; }
  int32_t eom() const { return eom_; }
  int32_t unk() const { return unk_; }
  int32_t sep() const { return sep_; }
  int32_t pad() const { return pad_; }
  int32_t mask() const { return mask_; }
  int32_t fim_pre() const { return fim_pre_; }
  int32_t fim_suf() const { return fim_suf_; }
  int32_t fim_mid() const { return fim_mid_; }
  int32_t fim_pad() const { return fim_pad_; }
  int32_t fim_rep() const { return fim_rep_; }
  int32_t fim_sep() const { return fim_sep_; }
  // End of generation: EOS, EOT, EOM, FIM pad/repo/sep and every token whose text
  // is one of llama.cpp's end markers (<|eot_id|>, <|im_end|>, <|end|>,
  // <end_of_turn>, <|endoftext|>, <|eom_id|>, <EOT>).
  bool IsEog(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }  // ascending

  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool remove_extra_whitespaces() const { return remove_extra_whitespaces_; }
  bool ignore_merges() const { return pre_spec_.ignore_merges; }
  bool clean_spaces() const { return clean_spaces_; }
  int32_t max_token_len() const { return max_token_len_; }  // in bytes

  std::optional<int32_t> FindToken(std::string_view text) const;
  // BPE merges in rank order (rank = index), each split into its two halves.
  const std::vector<std::pair<std::string, std::string>>& merges() const { return merges_; }
  // Control, user-defined and unknown tokens, longest text first (ties: lower id
  // first): the order in which special-token parsing claims text.
  const std::vector<int32_t>& special_tokens() const { return special_tokens_; }
  // SPM byte fallback: the token for a raw byte (<0xNN>, else the one-byte string).
  std::optional<int32_t> ByteToken(uint8_t byte) const;
  // The byte a BYTE token (<0xNN>) stands for.
  std::optional<uint8_t> TokenToByte(int32_t id) const;

 private:
  Vocab() = default;
  Status Init(VocabData data);
  void DetectSpecialTokens();
  void SetModelSpecificAttrs(const std::string& general_name);

  VocabType type_ = VocabType::kSpm;
  std::string model_name_;
  std::string pre_name_;
  PreTokenizerSpec pre_spec_;
  std::vector<std::string> texts_;
  std::vector<float> scores_;
  std::vector<uint32_t> attrs_;
  std::unordered_map<std::string_view, int32_t> text_to_id_;  // views into texts_
  std::vector<std::pair<std::string, std::string>> merges_;
  std::vector<int32_t> special_tokens_;
  std::vector<int32_t> eog_ids_;
  int32_t byte_tokens_[256];
  int32_t bos_ = -1, eos_ = -1, eot_ = -1, eom_ = -1, unk_ = -1, sep_ = -1, pad_ = -1, mask_ = -1;
  int32_t fim_pre_ = -1, fim_suf_ = -1, fim_mid_ = -1, fim_pad_ = -1, fim_rep_ = -1, fim_sep_ = -1;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  bool remove_extra_whitespaces_ = false;
  bool clean_spaces_ = false;
  int32_t max_token_len_ = 0;
};

}  // namespace cellar
