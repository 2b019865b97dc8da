#include "model/tokenizer_special_split.h"

namespace cellar {
namespace {

// isspace() in the C locale.
bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Splits one raw fragment on every occurrence of `token_text`, appending to `out`.
void SplitFragment(std::string_view raw, int32_t token, std::string_view token_text, uint32_t attr,
                   std::vector<TextFragment>* out) {
  while (true) {
    const size_t match = raw.find(token_text);
    if (match == std::string_view::npos) {
      if (!raw.empty()) out->push_back({-1, raw});
      return;
    }
    std::string_view left = raw.substr(0, match);
    if (attr & kTokenAttrLstrip) {
      while (!left.empty() && IsAsciiSpace(left.back())) left.remove_suffix(1);
    }
    if (!left.empty()) out->push_back({-1, left});
    out->push_back({token, {}});
    raw = raw.substr(match + token_text.size());
    if (attr & kTokenAttrRstrip) {
      while (!raw.empty() && IsAsciiSpace(raw.front())) raw.remove_prefix(1);
    }
  }
}

}  // namespace

std::vector<TextFragment> SplitSpecialTokens(const Vocab& vocab, std::string_view text,
                                             bool parse_special) {
  std::vector<TextFragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, text});
  std::vector<TextFragment> next;
  for (int32_t id : vocab.special_tokens()) {
    const uint32_t attr = vocab.Attr(id);
    if (!parse_special && (attr & (kTokenAttrControl | kTokenAttrUnknown))) continue;
    const std::string_view token_text = vocab.TokenText(id);
    // Cheap filter: most special tokens do not occur at all.
    if (text.find(token_text) == std::string_view::npos) continue;
    next.clear();
    for (const TextFragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
      } else {
        SplitFragment(f.text, id, token_text, attr, &next);
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace cellar
