// Tokenizer: text <-> token ids for a GGUF model's vocabulary, matching llama.cpp
// (and so the model's HF tokenizer) id for id. Supports SPM ("llama"),
// byte-level BPE ("gpt2", every llama.cpp pre-tokenizer) and WordPiece ("bert");
// see docs/TOKENIZERS.md for what is verified and what is not supported.
//
// Invalid UTF-8 input: Encode(x) == Encode(SanitizeUtf8(x)) — each ill-formed
// maximal subpart becomes U+FFFD before tokenization (unicode_utf8.h). Decode
// always returns valid UTF-8 by the same rule (bytes that do not form characters,
// e.g. a lone byte token, become U+FFFD).
//
// Owns its Vocab. Immutable after construction: Encode/Decode/TokenToPiece may be
// called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/vocab.h"

namespace cellar {

class GgufFile;
class BpeEncoder;

class Tokenizer {
 public:
  // UNIMPLEMENTED naming the type for tokenizers other than llama/gpt2/bert
  // (e.g. "unsupported tokenizer type 't5'").
  static Result<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& file);
  static Result<std::unique_ptr<Tokenizer>> FromVocab(std::unique_ptr<Vocab> vocab);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: prepend BOS / append EOS as the vocabulary's add_bos/add_eos
  // flags say (WordPiece: [CLS] ... [SEP]). parse_special: recognize control
  // tokens written in the text (e.g. "<|im_start|>"); never for user content.
  std::vector<int32_t> Encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes one token stands for (may be part of a UTF-8 character). Control and
  // unknown tokens give "" unless render_special; invalid ids give "".
  std::string TokenToPiece(int32_t id, bool render_special = false) const;
  // The same without a copy; valid while the Tokenizer lives.
  std::string_view PieceView(int32_t id, bool render_special = false) const;

  // The text of a sequence: the pieces concatenated; with SPM-style vocabularies
  // (add_space_prefix) one leading space is removed from the first non-empty
  // piece, undoing the space Encode adds; the result is valid UTF-8.
  std::string Decode(std::span<const int32_t> ids, bool render_special = false) const;

  const Vocab& vocab() const { return *vocab_; }

 private:
  explicit Tokenizer(std::unique_ptr<Vocab> vocab);
  void BuildPieces();
  void EncodeFragment(std::string_view text, bool after_special, std::vector<int32_t>* out) const;

  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<BpeEncoder> bpe_;  // byte-level BPE only
  std::vector<std::string> pieces_;  // per token, as rendered with render_special
  std::vector<bool> hidden_;         // piece is "" unless render_special
};

}  // namespace cellar
