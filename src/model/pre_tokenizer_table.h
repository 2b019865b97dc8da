// The table of byte-level BPE pre-tokenizers: which regex split sequence and which
// tokenizer flags each `tokenizer.ggml.pre` name selects (the names and rules of
// llama.cpp at the commit in ../shared/vocab/README.md).
//
// Thread-safety: immutable constant data.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace cellar {

struct PreTokenizerSpec {
  std::string_view kind;  // llama.cpp's pre-tokenizer type, e.g. "llama3", "gpt2"
  // Applied in order, each splitting every piece the previous ones produced (HF
  // "Isolated" behaviour: matches and the text between them both become pieces).
  // HF regex syntax; PreTokenizer translates it for PCRE2.
  std::span<const std::string_view> regexes;
  bool ignore_merges = false;  // a piece that is itself a token is emitted whole
  bool add_bos = false;        // default of tokenizer.ggml.add_bos_token
  bool clean_spaces = true;    // HF clean_up_tokenization_spaces (recorded, not applied)
  bool no_bos = false;         // the vocabulary has no BOS token by default (chatglm)
};

// The pre-tokenizer a `tokenizer.ggml.pre` value names; nullopt when unknown.
std::optional<PreTokenizerSpec> FindPreTokenizer(std::string_view pre_name);
// "default": what an absent or unknown name falls back to.
PreTokenizerSpec DefaultPreTokenizer();
// Every accepted name (for docs and tests).
std::vector<std::string_view> KnownPreTokenizerNames();

}  // namespace cellar
