// SentencePiece-style BPE by scores (tokenizer.ggml.model = "llama"), as
// llama.cpp's SPM tokenizer: the text is cut into UTF-8 characters, then the
// adjacent pair whose concatenation is a vocabulary token with the highest score
// is merged (ties: the leftmost pair), until no pair forms a token. Characters
// left without a token become byte-fallback tokens (<0xNN>).
//
// Thread-safety: pure function; uses only the (immutable) vocabulary.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/vocab.h"

namespace cellar {

// Appends the tokens of `text` to `out`. The caller has already applied the SPM
// whitespace rules (leading space, ' ' -> U+2581). REQUIRES: valid UTF-8.
// A byte with neither a <0xNN> nor a one-byte token becomes unk() (skipped when
// there is no unk token).
void SpmEncode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

}  // namespace cellar
