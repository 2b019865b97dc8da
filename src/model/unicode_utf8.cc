#include "model/unicode_utf8.h"

namespace cellar::unicode {
namespace {

// Bounds of the second byte for each lead byte (Unicode table 3-7); the third and
// fourth bytes are always 0x80..0xBF.
struct LeadInfo {
  uint8_t length;  // 0 = not a lead byte
  uint8_t second_lo;
  uint8_t second_hi;
};

LeadInfo InfoForLead(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};  // continuation bytes, C0/C1 (overlong)
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};  // no overlongs
  if (b == 0xED) return {3, 0x80, 0x9F};  // no surrogates
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};  // no overlongs
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // <= U+10FFFF
  return {0, 0, 0};                       // F5..FF
}

}  // namespace

Utf8Prefix ClassifyUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  const LeadInfo info = InfoForLead(p[0]);
  if (info.length == 0) return {Utf8Status::kInvalid, 1};
  if (info.length == 1) return {Utf8Status::kComplete, 1};
  for (size_t i = 1; i < info.length; ++i) {
    if (i >= n) return {Utf8Status::kIncomplete, i};
    const uint8_t lo = i == 1 ? info.second_lo : 0x80;
    const uint8_t hi = i == 1 ? info.second_hi : 0xBF;
    if (p[i] < lo || p[i] > hi) return {Utf8Status::kInvalid, i};
  }
  return {Utf8Status::kComplete, info.length};
}

bool IsValidUtf8(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<uint8_t>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Utf8Prefix prefix = ClassifyUtf8(bytes.substr(pos));
    if (prefix.status != Utf8Status::kComplete) return false;
    pos += prefix.length;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<uint8_t>(bytes[pos]) < 0x80) {
      out.push_back(bytes[pos++]);
      continue;
    }
    const Utf8Prefix prefix = ClassifyUtf8(bytes.substr(pos));
    if (prefix.status == Utf8Status::kComplete) {
      out.append(bytes.substr(pos, prefix.length));
    } else {
      out.append(kReplacementUtf8);  // kIncomplete here means the input ends inside it
    }
    pos += prefix.length;
  }
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string EncodeUtf8(char32_t cp) {
  std::string s;
  AppendUtf8(cp, &s);
  return s;
}

char32_t DecodeUtf8At(std::string_view text, size_t* pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data()) + *pos;
  if (p[0] < 0x80) {
    *pos += 1;
    return p[0];
  }
  if (p[0] < 0xE0) {
    *pos += 2;
    return (char32_t{p[0] & 0x1Fu} << 6) | (p[1] & 0x3Fu);
  }
  if (p[0] < 0xF0) {
    *pos += 3;
    return (char32_t{p[0] & 0x0Fu} << 12) | (char32_t{p[1] & 0x3Fu} << 6) | (p[2] & 0x3Fu);
  }
  *pos += 4;
  return (char32_t{p[0] & 0x07u} << 18) | (char32_t{p[1] & 0x3Fu} << 12) |
         (char32_t{p[2] & 0x3Fu} << 6) | (p[3] & 0x3Fu);
}

std::vector<char32_t> DecodeUtf8(std::string_view valid_text) {
  std::vector<char32_t> cps;
  cps.reserve(valid_text.size());
  size_t pos = 0;
  while (pos < valid_text.size()) cps.push_back(DecodeUtf8At(valid_text, &pos));
  return cps;
}

}  // namespace cellar::unicode
