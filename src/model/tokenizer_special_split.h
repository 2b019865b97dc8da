// Special-token partitioning: cuts text into raw-text fragments and special
// tokens before the tokenizer algorithm runs, as llama.cpp's
// tokenizer_st_partition does.
//
// Control and unknown tokens are recognized only when `parse_special` is true
// (chat templates); user-defined tokens always are (as HF tokenizers does for
// added non-special tokens). Longer tokens claim text first (Vocab::special_tokens
// order); each claims its leftmost non-overlapping occurrences in what is left.
// A token with the LSTRIP / RSTRIP attribute eats ASCII whitespace on that side.
//
// Thread-safety: pure function of its arguments.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/vocab.h"

namespace cellar {

struct TextFragment {
  int32_t token = -1;     // >= 0: a special token; -1: raw text
  std::string_view text;  // raw text (a view into the input); empty for a token
};

std::vector<TextFragment> SplitSpecialTokens(const Vocab& vocab, std::string_view text,
                                             bool parse_special);

}  // namespace cellar
