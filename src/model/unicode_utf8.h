// UTF-8 helpers shared by the tokenizers and detokenizers: strict validation,
// replacement of ill-formed sequences by U+FFFD, code point decoding/encoding.
//
// "Well-formed" is RFC 3629 / Unicode table 3-7: no overlong forms, no UTF-16
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF. An ill-formed sequence is
// replaced by one U+FFFD per *maximal subpart* (the Unicode-recommended practice,
// as ICU, WHATWG and Python do): the longest prefix of a well-formed sequence
// that starts at that byte, or a single byte when no such prefix exists.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cellar::unicode {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

// What the bytes at the front of a buffer hold.
enum class Utf8Status {
  kComplete,    // a well-formed sequence of `length` bytes
  kIncomplete,  // a well-formed prefix of `length` bytes that the buffer ends inside
  kInvalid,     // an ill-formed maximal subpart of `length` bytes (>= 1)
};

struct Utf8Prefix {
  Utf8Status status;
  size_t length;
};

// Classifies the sequence that starts at bytes[0]. REQUIRES: !bytes.empty().
Utf8Prefix ClassifyUtf8(std::string_view bytes);

// True when every byte belongs to a well-formed sequence.
bool IsValidUtf8(std::string_view bytes);

// `bytes` with each ill-formed maximal subpart replaced by U+FFFD; a copy of the
// input when it is already valid.
std::string SanitizeUtf8(std::string_view bytes);

// Appends the UTF-8 form of `cp`. REQUIRES: cp <= 0x10FFFF and not a surrogate.
void AppendUtf8(char32_t cp, std::string* out);
std::string EncodeUtf8(char32_t cp);

// Decodes the code point at text[*pos] and advances *pos past it.
// REQUIRES: text is valid UTF-8 and *pos < text.size() is at a sequence start.
char32_t DecodeUtf8At(std::string_view text, size_t* pos);

// All code points of a valid UTF-8 string.
std::vector<char32_t> DecodeUtf8(std::string_view valid_text);

}  // namespace cellar::unicode
