#include "jinja/lexer.h"

#include <unicode/uchar.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "jinja/py_string.h"

namespace cellar::jinja {

std::string NormalizeSource(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(c);
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

SourcePosition PositionOf(std::string_view source, size_t offset) {
  SourcePosition p;
  offset = std::min(offset, source.size());
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++p.line;
      line_start = i + 1;
    }
  }
  p.column = static_cast<int>(CodepointCount(source.substr(line_start, offset - line_start))) + 1;
  return p;
}

Status SyntaxError(std::string_view source, size_t offset, std::string_view message) {
  const SourcePosition p = PositionOf(source, offset);
  return InvalidArgument("template syntax error at line " + std::to_string(p.line) + ", column " +
                         std::to_string(p.column) + ": " + std::string(message));
}

std::string DescribeToken(const Token& token) {
  switch (token.type) {
    case TokenType::kData:
      return "'template data'";
    case TokenType::kVariableBegin:
      return "'begin of print statement'";
    case TokenType::kVariableEnd:
      return "'end of print statement'";
    case TokenType::kBlockBegin:
      return "'begin of statement block'";
    case TokenType::kBlockEnd:
      return "'end of statement block'";
    case TokenType::kEof:
      return "'end of template'";
    case TokenType::kString:
      return "'string'";
    case TokenType::kInteger:
      return "'integer'";
    case TokenType::kFloat:
      return "'float'";
    case TokenType::kName:
    case TokenType::kOperator:
      return "'" + token.text + "'";
  }
  return "'token'";
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> DecodeStringLiteral(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case '\n':
        break;  // line continuation
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        unsigned v = static_cast<unsigned>(e - '0');
        for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k, ++i) {
          v = v * 8 + static_cast<unsigned>(s[i] - '0');
        }
        AppendUtf8(out, v);
        break;
      }
      case 'x':
      case 'u':
      case 'U': {
        const int digits = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        uint32_t v = 0;
        for (int k = 0; k < digits; ++k) {
          if (i + k >= s.size() || HexValue(s[i + k]) < 0) {
            return InvalidArgument(std::string("truncated \\") + e + " escape in string literal");
          }
          v = v * 16 + static_cast<uint32_t>(HexValue(s[i + k]));
        }
        i += digits;
        if (v > 0x10FFFF) return InvalidArgument("illegal Unicode character in string literal");
        if (v >= 0xD800 && v <= 0xDFFF) {
          return InvalidArgument("surrogate code points are not supported in string literals");
        }
        AppendUtf8(out, v);
        break;
      }
      case 'N': {
        const size_t close = s.find('}', i);
        if (i >= s.size() || s[i] != '{' || close == std::string_view::npos) {
          return InvalidArgument("malformed \\N character escape in string literal");
        }
        const std::string name(s.substr(i + 1, close - i - 1));
        UErrorCode err = U_ZERO_ERROR;
        const UChar32 cp = u_charFromName(U_UNICODE_CHAR_NAME, name.c_str(), &err);
        if (U_FAILURE(err) || cp < 0) {
          return InvalidArgument("unknown Unicode character name in string literal");
        }
        AppendUtf8(out, static_cast<char32_t>(cp));
        i = close + 1;
        break;
      }
      default:
        // Python keeps unknown escapes as written.
        out.push_back('\\');
        out.push_back(e);
    }
  }
  return out;
}

namespace {

class Lexer {
 public:
  Lexer(std::string_view src, const SyntaxOptions& o) : src_(src), o_(o) {}

  Result<std::vector<Token>> Run() {
    size_t pos = 0;
    const size_t n = src_.size();
    while (pos < n) {
      const size_t k = FindTagStart(pos);
      if (k == std::string_view::npos) {
        EmitData(src_.substr(pos), pos);
        break;
      }
      std::string_view text = src_.substr(pos, k - pos);
      const char kind = src_[k + 1];
      size_t after_raw = 0;
      char raw_sign = 0;
      const bool is_raw = kind == '%' && MatchRawBegin(k, &after_raw, &raw_sign);
      const char sign =
          is_raw ? raw_sign
                 : ((k + 2 < n && (src_[k + 2] == '-' || src_[k + 2] == '+')) ? src_[k + 2] : 0);
      text = StripBeforeTag(text, sign, kind != '{');
      EmitData(text, pos);
      if (is_raw) {
        line_starting_ = src_[after_raw - 1] == '\n';
        CELLAR_ASSIGN_OR_RETURN(pos, LexRaw(k, after_raw));
        continue;
      }
      size_t body = k + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        CELLAR_ASSIGN_OR_RETURN(pos, SkipComment(k, body));
        continue;
      }
      Emit(kind == '{' ? TokenType::kVariableBegin : TokenType::kBlockBegin, "", k);
      CELLAR_ASSIGN_OR_RETURN(pos, LexTag(body, kind == '{'));
    }
    Emit(TokenType::kEof, "", static_cast<uint32_t>(n));
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t pos) const {
    while (true) {
      const size_t k = src_.find('{', pos);
      if (k == std::string_view::npos || k + 1 >= src_.size()) return std::string_view::npos;
      const char c = src_[k + 1];
      if (c == '{' || c == '%' || c == '#') return k;
      pos = k + 1;
    }
  }

  bool IsSpaceAt(size_t pos, size_t* next) const {
    size_t q = pos;
    const char32_t c = NextCodepoint(src_, &q);
    if (!IsPySpace(c)) return false;
    *next = q;
    return true;
  }

  size_t SkipSpace(size_t pos) const {
    size_t next;
    while (pos < src_.size() && IsSpaceAt(pos, &next)) pos = next;
    return pos;
  }

  bool StartsWith(size_t pos, std::string_view what) const {
    return src_.substr(pos, what.size()) == what;
  }

  // {%[-+]?\s*raw\s*(-%}\s*|%})
  bool MatchRawBegin(size_t k, size_t* after, char* sign) const {
    size_t p = k + 2;
    *sign = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) *sign = src_[p++];
    p = SkipSpace(p);
    if (!StartsWith(p, "raw")) return false;
    p = SkipSpace(p + 3);
    if (StartsWith(p, "-%}")) {
      *after = SkipSpace(p + 3);
      return true;
    }
    if (StartsWith(p, "%}")) {
      *after = p + 2;
      return true;
    }
    return false;
  }

  // Jinja's OptionalLStrip on the text before a tag.
  std::string_view StripBeforeTag(std::string_view text, char sign, bool is_block_or_comment) {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t q = start;
        if (!IsPySpace(NextCodepoint(text, &q))) break;
        end = start;
      }
      return text.substr(0, end);
    }
    if (sign != '+' && o_.lstrip_blocks && is_block_or_comment) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        bool only_blank = true;
        for (size_t i = l_pos; i < text.size(); ++i) {
          if (text[i] != ' ' && text[i] != '\t') {
            only_blank = false;
            break;
          }
        }
        if (only_blank) return text.substr(0, l_pos);
      }
    }
    return text;
  }

  void EmitData(std::string_view text, size_t offset) {
    if (text.empty()) return;
    Emit(TokenType::kData, std::string(text), offset);
  }

  void Emit(TokenType type, std::string text, size_t offset) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.offset = static_cast<uint32_t>(offset);
    tokens_.push_back(std::move(t));
  }

  Result<size_t> SkipComment(size_t start, size_t body) {
    size_t p = body;
    while (true) {
      const size_t hit = src_.find("#}", p);
      if (hit == std::string_view::npos) {
        return SyntaxError(src_, start, "Missing end of comment tag");
      }
      size_t end = hit + 2;
      if (hit > body && src_[hit - 1] == '-') {
        end = SkipSpace(end);
      } else if (hit > body && src_[hit - 1] == '+') {
        // no trimming
      } else if (o_.trim_blocks && end < src_.size() && src_[end] == '\n') {
        ++end;
      }
      line_starting_ = src_[end - 1] == '\n';
      return end;
    }
  }

  Result<size_t> LexRaw(size_t start, size_t body) {
    size_t p = body;
    while (true) {
      const size_t hit = src_.find("{%", p);
      if (hit == std::string_view::npos) {
        return SyntaxError(src_, start, "Missing end of raw directive");
      }
      size_t q = hit + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = SkipSpace(q);
      if (!StartsWith(q, "endraw")) {
        p = hit + 2;
        continue;
      }
      q = SkipSpace(q + 6);
      size_t end;
      if (StartsWith(q, "+%}")) {
        end = q + 3;
      } else if (StartsWith(q, "-%}")) {
        end = SkipSpace(q + 3);
      } else if (StartsWith(q, "%}")) {
        end = q + 2;
        if (o_.trim_blocks && end < src_.size() && src_[end] == '\n') ++end;
      } else {
        p = hit + 2;
        continue;
      }
      EmitData(StripBeforeTag(src_.substr(body, hit - body), sign, true), body);
      line_starting_ = src_[end - 1] == '\n';
      return end;
    }
  }

  Result<size_t> LexTag(size_t pos, bool variable) {
    const size_t n = src_.size();
    while (true) {
      if (pos >= n) {
        return SyntaxError(src_, n,
                           variable ? "unexpected end of template, expected '}}'"
                                    : "unexpected end of template, expected '%}'");
      }
      if (balance_.empty()) {
        size_t end = 0;
        if (variable) {
          if (StartsWith(pos, "-}}")) {
            end = SkipSpace(pos + 3);
          } else if (StartsWith(pos, "}}")) {
            end = pos + 2;
          }
        } else {
          if (StartsWith(pos, "+%}")) {
            end = pos + 3;
          } else if (StartsWith(pos, "-%}")) {
            end = SkipSpace(pos + 3);
          } else if (StartsWith(pos, "%}")) {
            end = pos + 2;
            if (o_.trim_blocks && end < n && src_[end] == '\n') ++end;
          }
        }
        if (end) {
          Emit(variable ? TokenType::kVariableEnd : TokenType::kBlockEnd, "", pos);
          line_starting_ = src_[end - 1] == '\n';
          return end;
        }
      }
      size_t next;
      if (IsSpaceAt(pos, &next)) {
        pos = SkipSpace(next);
        continue;
      }
      const char c = src_[pos];
      if (c >= '0' && c <= '9') {
        CELLAR_ASSIGN_OR_RETURN(pos, LexNumber(pos));
        continue;
      }
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        size_t e = pos + 1;
        while (e < n && ((src_[e] >= 'a' && src_[e] <= 'z') || (src_[e] >= 'A' && src_[e] <= 'Z') ||
                         (src_[e] >= '0' && src_[e] <= '9') || src_[e] == '_')) {
          ++e;
        }
        Emit(TokenType::kName, std::string(src_.substr(pos, e - pos)), pos);
        pos = e;
        continue;
      }
      if (c == '\'' || c == '"') {
        size_t e = pos + 1;
        while (e < n && src_[e] != c) e += src_[e] == '\\' ? 2 : 1;
        if (e >= n) return SyntaxError(src_, pos, "unexpected char '" + std::string(1, c) + "'");
        Result<std::string> decoded = DecodeStringLiteral(src_.substr(pos + 1, e - pos - 1));
        if (!decoded.ok()) return SyntaxError(src_, pos, decoded.status().message());
        Emit(TokenType::kString, std::move(decoded).value(), pos);
        pos = e + 1;
        continue;
      }
      CELLAR_ASSIGN_OR_RETURN(pos, LexOperator(pos));
    }
  }

  Result<size_t> LexOperator(size_t pos) {
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo) {
      if (StartsWith(pos, op)) {
        Emit(TokenType::kOperator, std::string(op), pos);
        return pos + 2;
      }
    }
    const char c = src_[pos];
    static constexpr std::string_view kOne = "+-/*%~[](){}><=.:|,;";
    if (kOne.find(c) == std::string_view::npos) {
      size_t q = pos;
      std::string ch;
      AppendUtf8(ch, NextCodepoint(src_, &q));
      return SyntaxError(src_, pos, "unexpected char '" + ch + "'");
    }
    if (c == '(' || c == '[' || c == '{') {
      balance_.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance_.empty()) return SyntaxError(src_, pos, std::string("unexpected '") + c + "'");
      if (balance_.back() != c) {
        return SyntaxError(
            src_, pos, std::string("unexpected '") + c + "', expected '" + balance_.back() + "'");
      }
      balance_.pop_back();
    }
    Emit(TokenType::kOperator, std::string(1, c), pos);
    return pos + 1;
  }

  // Digits with optional single underscores between them; returns the end.
  size_t ScanDigits(size_t pos, bool (*is_digit)(char)) const {
    const size_t n = src_.size();
    if (pos >= n || !is_digit(src_[pos])) return pos;
    size_t e = pos + 1;
    while (e < n) {
      if (is_digit(src_[e])) {
        ++e;
      } else if (src_[e] == '_' && e + 1 < n && is_digit(src_[e + 1])) {
        e += 2;
      } else {
        break;
      }
    }
    return e;
  }

  static bool IsDec(char c) { return c >= '0' && c <= '9'; }
  static bool IsHex(char c) { return HexValue(c) >= 0; }
  static bool IsOct(char c) { return c >= '0' && c <= '7'; }
  static bool IsBin(char c) { return c == '0' || c == '1'; }

  Result<size_t> LexNumber(size_t pos) {
    const size_t n = src_.size();
    // Float: digits then (fraction? exponent | fraction), not right after a '.'.
    if (pos == 0 || src_[pos - 1] != '.') {
      size_t e = ScanDigits(pos, IsDec);
      size_t f = e;
      bool is_float = false;
      if (f + 1 < n && src_[f] == '.' && IsDec(src_[f + 1])) {
        f = ScanDigits(f + 1, IsDec);
        is_float = true;
      }
      if (f < n && (src_[f] == 'e' || src_[f] == 'E')) {
        size_t x = f + 1;
        if (x < n && (src_[x] == '+' || src_[x] == '-')) ++x;
        const size_t xe = ScanDigits(x, IsDec);
        if (xe > x) {
          f = xe;
          is_float = true;
        }
      }
      if (is_float) {
        std::string text;
        for (size_t i = pos; i < f; ++i) {
          if (src_[i] != '_') text.push_back(src_[i]);
        }
        Token t;
        t.type = TokenType::kFloat;
        t.float_value = std::strtod(text.c_str(), nullptr);
        t.text = std::move(text);
        t.offset = static_cast<uint32_t>(pos);
        tokens_.push_back(std::move(t));
        return f;
      }
    }
    // Integer: 0b / 0o / 0x prefixes, decimal, or zeros.
    int base = 10;
    size_t digits_start = pos;
    size_t end;
    if (src_[pos] == '0' && pos + 1 < n && (src_[pos + 1] | 0x20) == 'x') {
      base = 16;
    } else if (src_[pos] == '0' && pos + 1 < n && (src_[pos + 1] | 0x20) == 'o') {
      base = 8;
    } else if (src_[pos] == '0' && pos + 1 < n && (src_[pos + 1] | 0x20) == 'b') {
      base = 2;
    }
    if (base != 10) {
      bool (*pred)(char) = base == 16 ? IsHex : (base == 8 ? IsOct : IsBin);
      digits_start = pos + 2;
      size_t s = digits_start;
      if (s < n && src_[s] == '_' && s + 1 < n && pred(src_[s + 1])) ++s;
      end = ScanDigits(s, pred);
      if (end == s) {
        base = 10;  // just "0"
        digits_start = pos;
      }
    }
    if (base == 10) {
      if (src_[pos] == '0') {
        end = pos + 1;
        while (end < n &&
               (src_[end] == '0' || (src_[end] == '_' && end + 1 < n && src_[end + 1] == '0'))) {
          end += src_[end] == '_' ? 2 : 1;
        }
      } else {
        end = ScanDigits(pos, IsDec);
      }
    }
    uint64_t v = 0;
    for (size_t i = digits_start; i < end; ++i) {
      if (src_[i] == '_') continue;
      const int d = HexValue(src_[i]);
      if (v >
          (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(d)) /
              static_cast<uint64_t>(base)) {
        return SyntaxError(src_, pos, "integer literal too large");
      }
      v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    Token t;
    t.type = TokenType::kInteger;
    t.int_value = static_cast<int64_t>(v);
    t.text = std::string(src_.substr(pos, end - pos));
    t.offset = static_cast<uint32_t>(pos);
    tokens_.push_back(std::move(t));
    return end;
  }

  std::string_view src_;
  const SyntaxOptions& o_;
  std::vector<Token> tokens_;
  std::vector<char> balance_;  // expected closing brackets
  bool line_starting_ = true;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source, const SyntaxOptions& options) {
  if (source.size() > std::numeric_limits<uint32_t>::max() / 2) {
    return InvalidArgument("template source too large");
  }
  return Lexer(source, options).Run();
}

}  // namespace cellar::jinja
