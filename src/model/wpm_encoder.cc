#include "model/wpm_encoder.h"

#include <unicode/uchar.h>

#include <algorithm>

#include "model/unicode_props.h"
#include "model/unicode_utf8.h"

namespace cellar {
namespace {

// BERT's definition of a CJK character (tokenization_bert.py _is_chinese_char;
// HF tokenizers uses 0x2B920 where the Unicode block starts at 0x2B820, and so
// does llama.cpp). These are BERT's rule, not a Unicode property.
bool IsBertChineseChar(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool IsNonspacingMark(char32_t cp) {
  return u_charType(static_cast<UChar32>(cp)) == U_NON_SPACING_MARK;
}

}  // namespace

std::vector<std::string> WpmPreprocess(std::string_view text) {
  const std::string nfd = unicode::NormalizeNfd(text);
  std::vector<std::string> words(1);
  size_t pos = 0;
  while (pos < nfd.size()) {
    const char32_t cp = unicode::DecodeUtf8At(nfd, &pos);
    if (unicode::IsWhiteSpace(cp)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == unicode::kReplacementChar || unicode::IsControl(cp) ||
        IsNonspacingMark(cp)) {
      continue;
    }
    const char32_t lower = unicode::ToLowerSimple(cp);
    if (unicode::IsPunctuation(cp) || (cp < 0x7F && unicode::IsSymbol(cp)) ||
        IsBertChineseChar(cp)) {
      if (!words.back().empty()) words.emplace_back();
      unicode::AppendUtf8(lower, &words.back());
      words.emplace_back();
    } else {
      unicode::AppendUtf8(lower, &words.back());
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

void WpmEncode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  const size_t max_len = static_cast<size_t>(vocab.max_token_len());
  for (const std::string& word : WpmPreprocess(text)) {
    const std::string prefixed = "\xE2\x96\x81" + word;  // U+2581: word start
    const std::string_view w = prefixed;
    const size_t first = out->size();
    bool matched_all = true;
    for (size_t i = 0; i < w.size();) {
      bool match = false;
      for (size_t j = std::min(w.size(), i + max_len + 1); j > i; --j) {
        if (const std::optional<int32_t> id = vocab.FindToken(w.substr(i, j - i))) {
          out->push_back(*id);
          i = j;
          match = true;
          break;
        }
      }
      if (!match) {
        matched_all = false;
        break;
      }
    }
    if (!matched_all) out->resize(first);
    if (out->size() == first && vocab.unk() >= 0) out->push_back(vocab.unk());
  }
}

}  // namespace cellar
