#include "model/unicode_props.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace cellar::unicode {

bool IsWhiteSpace(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

bool IsPunctuation(char32_t cp) {
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_P_MASK) != 0;
}

bool IsSymbol(char32_t cp) { return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_S_MASK) != 0; }

bool IsControl(char32_t cp) { return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_C_MASK) != 0; }

char32_t ToLowerSimple(char32_t cp) {
  return static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp)));
}

std::string NormalizeNfd(std::string_view valid_text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) return std::string(valid_text);
  const icu::UnicodeString src = icu::UnicodeString::fromUTF8(
      icu::StringPiece(valid_text.data(), static_cast<int32_t>(valid_text.size())));
  icu::UnicodeString dst;
  nfd->normalize(src, dst, status);
  if (U_FAILURE(status)) return std::string(valid_text);
  std::string out;
  dst.toUTF8String(out);
  return out;
}

}  // namespace cellar::unicode
