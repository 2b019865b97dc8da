// Unicode character properties and normalization used by the tokenizers, taken
// from ICU (libicu, Debian's ICU 72 = Unicode 15.0): nothing here is a hand-typed
// table. Regex-based pre-tokenization takes its classes from PCRE2 instead
// (pre_tokenizer.h); both agree on every assigned code point of Unicode 14.
//
// Thread-safety: pure functions; ICU's data is immutable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cellar::unicode {

bool IsWhiteSpace(char32_t cp);       // the White_Space property (what \s means in HF's regexes)
bool IsPunctuation(char32_t cp);      // general category P*
bool IsSymbol(char32_t cp);           // general category S*
bool IsControl(char32_t cp);          // general category C* (Cc Cf Cs Co Cn)
char32_t ToLowerSimple(char32_t cp);  // the simple (1:1) lowercase mapping

// Canonical decomposition (NFD) of valid UTF-8 text. On an ICU error (which
// valid input never triggers) the text is returned unchanged.
std::string NormalizeNfd(std::string_view valid_text);

}  // namespace cellar::unicode
