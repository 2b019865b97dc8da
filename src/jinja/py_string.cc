#include "jinja/py_string.h"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace cellar::jinja {

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    char32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

char32_t NextCodepoint(std::string_view s, size_t* pos) {
  const size_t i = *pos;
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  int len;
  char32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    *pos = i + 1;
    return 0xFFFD;
  }
  if (i + len > s.size()) {
    *pos = i + 1;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      *pos = i + 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *pos = i + len;
  return cp;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<char32_t> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) out.push_back(NextCodepoint(s, &pos));
  return out;
}

std::string EncodeUtf8(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) AppendUtf8(out, c);
  return out;
}

size_t CodepointCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::vector<size_t> CodepointOffsets(std::string_view s) {
  std::vector<size_t> offsets;
  offsets.reserve(s.size() + 1);
  size_t pos = 0;
  while (pos < s.size()) {
    offsets.push_back(pos);
    NextCodepoint(s, &pos);
  }
  offsets.push_back(s.size());
  return offsets;
}

bool IsPySpace(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace: bidirectional class WS, B or S, or category Zs.
  switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right) {
  std::vector<char32_t> set;
  if (chars) set = DecodeUtf8(*chars);
  auto strip_it = [&](char32_t c) {
    if (!chars) return IsPySpace(c);
    return std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t begin = 0;
  size_t end = s.size();
  if (left) {
    while (begin < end) {
      size_t next = begin;
      const char32_t c = NextCodepoint(s, &next);
      if (!strip_it(c)) break;
      begin = next;
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      size_t p = start;
      const char32_t c = NextCodepoint(s, &p);
      if (!strip_it(c)) break;
      end = start;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

namespace {

// Splits on runs of whitespace, left to right.
std::vector<std::string> SplitWhitespace(std::string_view s, int64_t maxsplit) {
  std::vector<std::string> out;
  size_t pos = 0;
  const size_t n = s.size();
  auto skip_space = [&](size_t p) {
    while (p < n) {
      size_t q = p;
      if (!IsPySpace(NextCodepoint(s, &q))) break;
      p = q;
    }
    return p;
  };
  pos = skip_space(pos);
  while (pos < n) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      out.emplace_back(s.substr(pos));  // the rest, trailing whitespace kept
      return out;
    }
    size_t end = pos;
    while (end < n) {
      size_t q = end;
      if (IsPySpace(NextCodepoint(s, &q))) break;
      end = q;
    }
    out.emplace_back(s.substr(pos, end - pos));
    pos = skip_space(end);
  }
  return out;
}

}  // namespace

std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 int64_t maxsplit) {
  if (!sep) return SplitWhitespace(s, maxsplit);
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) break;
    const size_t hit = s.find(*sep, pos);
    if (hit == std::string_view::npos) break;
    out.emplace_back(s.substr(pos, hit - pos));
    pos = hit + sep->size();
  }
  out.emplace_back(s.substr(pos));
  return out;
}

std::vector<std::string> PyRSplit(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  if (maxsplit < 0) return PySplit(s, sep, -1);
  std::vector<std::string> rev;
  if (!sep) {
    // Right to left over whitespace runs.
    std::vector<char32_t> cps = DecodeUtf8(s);
    int64_t end = static_cast<int64_t>(cps.size());
    while (end > 0 && IsPySpace(cps[end - 1])) --end;
    while (end > 0) {
      if (static_cast<int64_t>(rev.size()) == maxsplit) {
        std::vector<char32_t> rest(cps.begin(), cps.begin() + end);
        rev.push_back(EncodeUtf8(rest));  // leading whitespace kept, as Python
        end = 0;
        break;
      }
      int64_t start = end;
      while (start > 0 && !IsPySpace(cps[start - 1])) --start;
      rev.push_back(EncodeUtf8(std::vector<char32_t>(cps.begin() + start, cps.begin() + end)));
      end = start;
      while (end > 0 && IsPySpace(cps[end - 1])) --end;
    }
    std::reverse(rev.begin(), rev.end());
    return rev;
  }
  size_t end = s.size();
  while (static_cast<int64_t>(rev.size()) < maxsplit) {
    if (end < sep->size()) break;
    const size_t hit = s.rfind(*sep, end - sep->size());
    if (hit == std::string_view::npos) break;
    rev.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
    end = hit;
  }
  rev.emplace_back(s.substr(0, end));
  std::reverse(rev.begin(), rev.end());
  return rev;
}

std::vector<std::string> PySplitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  size_t pos = 0;
  size_t line_start = 0;
  while (pos < s.size()) {
    size_t next = pos;
    const char32_t c = NextCodepoint(s, &next);
    bool is_break = false;
    switch (c) {
      case 0x0A:
      case 0x0B:
      case 0x0C:
      case 0x0D:
      case 0x1C:
      case 0x1D:
      case 0x1E:
      case 0x85:
      case 0x2028:
      case 0x2029:
        is_break = true;
        break;
      default:
        break;
    }
    if (!is_break) {
      pos = next;
      continue;
    }
    if (c == 0x0D && next < s.size() && s[next] == '\n') ++next;
    out.emplace_back(s.substr(line_start, (keepends ? next : pos) - line_start));
    pos = next;
    line_start = next;
  }
  if (line_start < s.size()) out.emplace_back(s.substr(line_start));
  return out;
}

std::string PyReplace(std::string_view s, std::string_view old, std::string_view repl,
                      int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `repl` before every code point and at the end.
    int64_t done = 0;
    size_t pos = 0;
    while (pos < s.size()) {
      if (count < 0 || done < count) {
        out.append(repl);
        ++done;
      }
      const size_t start = pos;
      NextCodepoint(s, &pos);
      out.append(s.substr(start, pos - start));
    }
    if (count < 0 || done < count) out.append(repl);
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(old, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(repl);
    pos = hit + old.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

size_t PyCount(std::string_view s, std::string_view needle) {
  if (needle.empty()) return CodepointCount(s) + 1;
  size_t n = 0;
  size_t pos = 0;
  while ((pos = s.find(needle, pos)) != std::string_view::npos) {
    ++n;
    pos += needle.size();
  }
  return n;
}

namespace {

std::string ToUtf8(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

icu::UnicodeString FromUtf8(std::string_view s) {
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
}

std::string TitleOne(char32_t c) {
  if (c < 0x80) {
    std::string out(1, static_cast<char>(c));
    if (c >= 'a' && c <= 'z') out[0] = static_cast<char>(c - 32);
    return out;
  }
  icu::UnicodeString u(static_cast<UChar32>(c));
  u.toTitle(nullptr, icu::Locale::getRoot(),
            U_TITLECASE_NO_LOWERCASE | U_TITLECASE_NO_BREAK_ADJUSTMENT);
  return ToUtf8(u);
}

std::string LowerOne(char32_t c) {
  if (c < 0x80) {
    std::string out(1, static_cast<char>(c));
    if (c >= 'A' && c <= 'Z') out[0] = static_cast<char>(c + 32);
    return out;
  }
  icu::UnicodeString u(static_cast<UChar32>(c));
  u.toLower(icu::Locale::getRoot());
  return ToUtf8(u);
}

std::string UpperOne(char32_t c) {
  if (c < 0x80) {
    std::string out(1, static_cast<char>(c));
    if (c >= 'a' && c <= 'z') out[0] = static_cast<char>(c - 32);
    return out;
  }
  icu::UnicodeString u(static_cast<UChar32>(c));
  u.toUpper(icu::Locale::getRoot());
  return ToUtf8(u);
}

bool IsCased(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED); }

}  // namespace

std::string PyUpper(std::string_view s) {
  if (IsAscii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return out;
  }
  icu::UnicodeString u = FromUtf8(s);
  u.toUpper(icu::Locale::getRoot());
  return ToUtf8(u);
}

std::string PyLower(std::string_view s) {
  if (IsAscii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  icu::UnicodeString u = FromUtf8(s);
  u.toLower(icu::Locale::getRoot());
  return ToUtf8(u);
}

std::string PyCasefold(std::string_view s) {
  icu::UnicodeString u = FromUtf8(s);
  u.foldCase();
  return ToUtf8(u);
}

std::string PySwapcase(std::string_view s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = NextCodepoint(s, &pos);
    if (u_isUUppercase(static_cast<UChar32>(c))) {
      out += LowerOne(c);
    } else if (u_isULowercase(static_cast<UChar32>(c))) {
      out += UpperOne(c);
    } else {
      AppendUtf8(out, c);
    }
  }
  return out;
}

std::string PyTitle(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool previous_is_cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = NextCodepoint(s, &pos);
    out += previous_is_cased ? LowerOne(c) : TitleOne(c);
    previous_is_cased = IsCased(c);
  }
  return out;
}

std::string PyCapitalize(std::string_view s) {
  if (s.empty()) return std::string();
  size_t pos = 0;
  const char32_t first = NextCodepoint(s, &pos);
  return TitleOne(first) + PyLower(s.substr(pos));
}

namespace {

template <typename Pred>
bool AllOf(std::string_view s, Pred pred) {
  if (s.empty()) return false;
  size_t pos = 0;
  while (pos < s.size()) {
    if (!pred(NextCodepoint(s, &pos))) return false;
  }
  return true;
}

int32_t NumericType(char32_t c) {
  return u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_NUMERIC_TYPE);
}

}  // namespace

bool PyIsLower(std::string_view s) {
  bool cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const auto c = static_cast<UChar32>(NextCodepoint(s, &pos));
    if (u_isUUppercase(c) || u_istitle(c)) return false;
    if (u_isULowercase(c)) cased = true;
  }
  return cased;
}

bool PyIsUpper(std::string_view s) {
  bool cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const auto c = static_cast<UChar32>(NextCodepoint(s, &pos));
    if (u_isULowercase(c) || u_istitle(c)) return false;
    if (u_isUUppercase(c)) cased = true;
  }
  return cased;
}

bool PyIsAlpha(std::string_view s) {
  return AllOf(s, [](char32_t c) { return u_isalpha(static_cast<UChar32>(c)) != 0; });
}

bool PyIsDigit(std::string_view s) {
  return AllOf(s, [](char32_t c) {
    const int32_t t = NumericType(c);
    return t == U_NT_DECIMAL || t == U_NT_DIGIT;
  });
}

bool PyIsNumeric(std::string_view s) {
  return AllOf(s, [](char32_t c) { return NumericType(c) != U_NT_NONE; });
}

bool PyIsAlnum(std::string_view s) {
  return AllOf(s, [](char32_t c) {
    return u_isalpha(static_cast<UChar32>(c)) != 0 || NumericType(c) != U_NT_NONE;
  });
}

bool PyIsSpaceStr(std::string_view s) { return AllOf(s, IsPySpace); }

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

namespace {

bool IsPrintable(char32_t c) {
  if (c == ' ') return true;
  if (c < 0x80) return c > 0x20 && c < 0x7F;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_SPACE_SEPARATOR:
      return false;
    default:
      return true;
  }
}

}  // namespace

std::string PyReprString(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(quote);
  size_t pos = 0;
  char buf[16];
  while (pos < s.size()) {
    const char32_t c = NextCodepoint(s, &pos);
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (IsPrintable(c)) {
      AppendUtf8(out, c);
    } else if (c < 0x100) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c < 0x10000) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  out.push_back(quote);
  return out;
}

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  std::string out;
  if (!sci.empty() && sci[0] == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
  // Strip trailing zeros of the digit string ("0" stays for zero).
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int decpt = exp10 + 1;
  const int n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out.push_back(digits[0]);
    if (n > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    const int x = decpt - 1;
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    out += ebuf;
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= n) {
    out += digits;
    out.append(static_cast<size_t>(decpt - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(decpt), std::string::npos);
  }
  return out;
}

}  // namespace cellar::jinja
