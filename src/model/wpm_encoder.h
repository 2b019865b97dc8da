// WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp runs it on GGUF BERT
// vocabularies (word-initial pieces are stored with a U+2581 prefix, continuation
// pieces without "##"):
//   1. normalize: NFD, drop nonspacing marks (Mn), lowercase (simple mapping);
//      drop NUL, U+FFFD and control characters (C*);
//   2. split: White_Space separates words; punctuation (P*), ASCII symbols and
//      CJK ideographs (BERT's _is_chinese_char ranges) are words of their own;
//   3. each word, prefixed with U+2581, is cut greedily into the longest
//      vocabulary tokens; a word with an unmatched position becomes unk().
// Unicode data comes from ICU (unicode_props.h).
//
// Thread-safety: pure function; uses only the (immutable) vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/vocab.h"

namespace cellar {

// The words of step 1-2 (for tests). REQUIRES: valid UTF-8.
std::vector<std::string> WpmPreprocess(std::string_view text);

// Appends the tokens of `text`. REQUIRES: valid UTF-8.
void WpmEncode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

}  // namespace cellar
