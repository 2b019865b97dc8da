// Byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp and HF tokenizers
// run it: the pre-tokenizer splits the text into pieces; each piece's bytes are
// written with the byte-to-unicode table (unicode_byte_map.h); then, within the
// piece, the adjacent pair with the lowest merge rank is merged (ties: leftmost)
// until no pair has a rank. With ignore_merges (llama3, tekken) a piece that is
// itself a token is emitted whole first.
//
// Merge lookups are hash lookups on symbol ids: a string appearing in a merge is
// identified by its token id, or (the rare string that is no token) by an id past
// the vocabulary; (left id, right id) maps to (rank, merged id).
//
// Owned by the Tokenizer; immutable after Create, so Encode may run on many
// threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "model/pre_tokenizer.h"
#include "model/vocab.h"

namespace cellar {

class BpeEncoder {
 public:
  // `vocab` must outlive the encoder.
  static Result<std::unique_ptr<BpeEncoder>> Create(const Vocab& vocab);

  // Appends the tokens of `text` (no special tokens in it). REQUIRES: valid UTF-8.
  void Encode(std::string_view text, std::vector<int32_t>* out) const;

  // The pre-tokenizer's pieces (for tests).
  std::vector<std::string_view> PreTokenize(std::string_view text) const {
    return pre_->Split(text);
  }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // interned id of left + right
  };

  explicit BpeEncoder(const Vocab& vocab) : vocab_(vocab) {}
  // The symbol id of `s`, allocating one past the vocabulary for a non-token.
  int32_t Intern(std::string_view s);
  int32_t FindSymbol(std::string_view s) const;
  void EncodeWord(std::string_view word, std::vector<int32_t>* out) const;
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }

  const Vocab& vocab_;
  std::unique_ptr<PreTokenizer> pre_;
  std::unordered_map<std::string, int32_t> extra_symbols_;  // non-token strings of merges
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t byte_symbol_[256];  // symbol id of each byte's character, or -1
  int32_t byte_token_[256];   // token id of each byte's character, or -1
};

}  // namespace cellar
