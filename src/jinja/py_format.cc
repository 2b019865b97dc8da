#include "jinja/py_format.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "jinja/operators.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {

constexpr int64_t kMaxWidth = 1 << 20;  // widths/precisions past this are refused

// Pads `body` (already signed/prefixed) to `width` code points.
std::string Pad(std::string body, int64_t width, char align, const std::string& fill,
                size_t sign_prefix_len) {
  const int64_t len = static_cast<int64_t>(CodepointCount(body));
  if (width <= len) return body;
  const int64_t n = width - len;
  auto fills = [&](int64_t k) {
    std::string s;
    for (int64_t i = 0; i < k; ++i) s += fill;
    return s;
  };
  switch (align) {
    case '<':
      return body + fills(n);
    case '^':
      return fills(n / 2) + body + fills(n - n / 2);
    case '=':
      return body.substr(0, sign_prefix_len) + fills(n) + body.substr(sign_prefix_len);
    default:
      return fills(n) + body;
  }
}

std::string GroupDigits(const std::string& digits, char sep, int group) {
  std::string out;
  const int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % group == 0) out.push_back(sep);
    out.push_back(digits[static_cast<size_t>(i)]);
  }
  return out;
}

std::string IntDigits(uint64_t v, int base, bool upper) {
  if (v == 0) return "0";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  while (v) {
    out.push_back(digits[v % static_cast<uint64_t>(base)]);
    v /= static_cast<uint64_t>(base);
  }
  return std::string(out.rbegin(), out.rend());
}

uint64_t Magnitude(int64_t v) {
  return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

std::string FormatDouble(double d, char type, int precision, bool alt) {
  char spec[16];
  std::snprintf(spec, sizeof(spec), "%%%s.*%c", alt ? "#" : "", type);
  const int n = std::snprintf(nullptr, 0, spec, precision, d);
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec, precision, d);
  out.resize(static_cast<size_t>(n));
  return out;
}

// ---- printf-style ----

Result<std::string> PercentOne(char type, const Value& v, bool left, bool plus, bool space,
                               bool alt, bool zero, int64_t width, int64_t precision, bool markup) {
  std::string body;
  size_t sign_len = 0;
  switch (type) {
    case 's':
    case 'r':
    case 'a': {
      body = type == 's' ? ToStr(v) : Repr(v);
      if (precision >= 0) {
        const std::vector<size_t> offs = CodepointOffsets(body);
        if (static_cast<int64_t>(offs.size()) - 1 > precision) {
          body.resize(offs[static_cast<size_t>(precision)]);
        }
      }
      if (markup && !v.is_markup()) body = HtmlEscape(body);
      zero = false;
      break;
    }
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
      int64_t i;
      if (v.is_integral()) {
        i = v.as_int();
      } else if (v.is_float() && (type == 'd' || type == 'i' || type == 'u')) {
        const double d = v.as_double();
        if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) {
          return InvalidArgument("cannot convert float to integer");
        }
        i = static_cast<int64_t>(d);
      } else {
        return InvalidArgument(
            std::string("%") + type + " format: " +
            (type == 'd' || type == 'i' || type == 'u' ? "a real number" : "an integer") +
            " is required, not " + TypeName(v));
      }
      const int base = (type == 'o') ? 8 : ((type == 'x' || type == 'X') ? 16 : 10);
      std::string digits = IntDigits(Magnitude(i), base, type == 'X');
      if (precision >= 0 && static_cast<int64_t>(digits.size()) < precision) {
        digits.insert(0, static_cast<size_t>(precision - static_cast<int64_t>(digits.size())), '0');
      }
      std::string prefix = i < 0 ? "-" : (plus ? "+" : (space ? " " : ""));
      if (alt && base == 16) prefix += type == 'X' ? "0X" : "0x";
      if (alt && base == 8) prefix += "0o";
      body = prefix + digits;
      sign_len = prefix.size();
      break;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (!v.is_number()) {
        return InvalidArgument("must be real number, not " + TypeName(v));
      }
      const double d = v.as_double();
      body =
          FormatDouble(std::fabs(d), type, precision >= 0 ? static_cast<int>(precision) : 6, alt);
      std::string prefix = std::signbit(d) ? "-" : (plus ? "+" : (space ? " " : ""));
      body = prefix + body;
      sign_len = prefix.size();
      if (!std::isfinite(d)) zero = false;
      break;
    }
    case 'c': {
      if (v.is_string()) {
        if (CodepointCount(v.as_string()) != 1) {
          return InvalidArgument("%c requires int or char");
        }
        body = v.as_string();
      } else if (v.is_integral()) {
        const int64_t c = v.as_int();
        if (c < 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
          return InvalidArgument("%c arg not in range(0x110000)");
        }
        AppendUtf8(body, static_cast<char32_t>(c));
      } else {
        return InvalidArgument("%c requires int or char");
      }
      zero = false;
      break;
    }
    default:
      return InvalidArgument(std::string("unsupported format character '") + type + "'");
  }
  if (left) return Pad(std::move(body), width, '<', " ", 0);
  if (zero) return Pad(std::move(body), width, '=', "0", sign_len);
  return Pad(std::move(body), width, '>', " ", 0);
}

}  // namespace

Result<std::string> PercentFormat(std::string_view fmt, const Value& args, bool markup) {
  ValueList positional;
  const DictData* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.items();
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.dict();
  }
  size_t next_arg = 0;
  std::string out;
  size_t i = 0;
  auto take = [&]() -> Result<Value> {
    if (next_arg >= positional.size()) {
      return InvalidArgument("not enough arguments for format string");
    }
    return positional[next_arg++];
  };
  while (i < fmt.size()) {
    const char c = fmt[i];
    if (c != '%') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    if (i >= fmt.size()) return InvalidArgument("incomplete format");
    std::optional<Value> keyed;
    if (fmt[i] == '(') {
      if (!mapping) return InvalidArgument("format requires a mapping");
      int depth = 1;
      size_t j = i + 1;
      while (j < fmt.size() && depth > 0) {
        if (fmt[j] == '(') ++depth;
        if (fmt[j] == ')') --depth;
        ++j;
      }
      if (depth) return InvalidArgument("incomplete format key");
      const std::string key(fmt.substr(i + 1, j - i - 2));
      const Value* v = mapping->Find(std::string_view(key));
      if (!v) return InvalidArgument("KeyError: " + PyReprString(key));
      keyed = *v;
      i = j;
    }
    bool left = false, plus = false, space = false, alt = false, zero = false;
    for (; i < fmt.size(); ++i) {
      const char f = fmt[i];
      if (f == '-') {
        left = true;
      } else if (f == '+') {
        plus = true;
      } else if (f == ' ') {
        space = true;
      } else if (f == '#') {
        alt = true;
      } else if (f == '0') {
        zero = true;
      } else {
        break;
      }
    }
    int64_t width = -1;
    int64_t precision = -1;
    auto number = [&](int64_t* outv) -> Status {
      if (i < fmt.size() && fmt[i] == '*') {
        ++i;
        CELLAR_ASSIGN_OR_RETURN(Value w, take());
        if (!w.is_integral()) return InvalidArgument("* wants int");
        *outv = w.as_int();
        return OkStatus();
      }
      if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        int64_t v = 0;
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
          v = v * 10 + (fmt[i] - '0');
          if (v > kMaxWidth) return InvalidArgument("width or precision too big");
          ++i;
        }
        *outv = v;
      }
      return OkStatus();
    };
    CELLAR_RETURN_IF_ERROR(number(&width));
    if (width < -1) {
      left = true;
      width = -width;
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      precision = 0;
      CELLAR_RETURN_IF_ERROR(number(&precision));
    }
    if (width > kMaxWidth || precision > kMaxWidth) {
      return InvalidArgument("width or precision too big");
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) return InvalidArgument("incomplete format");
    const char type = fmt[i++];
    if (type == '%') {
      out.push_back('%');
      continue;
    }
    Value v;
    if (keyed) {
      v = *keyed;
    } else {
      CELLAR_ASSIGN_OR_RETURN(v, take());
    }
    CELLAR_ASSIGN_OR_RETURN(std::string piece, PercentOne(type, v, left, plus, space, alt, zero,
                                                          width, precision, markup));
    out += piece;
  }
  // Python skips this check when the argument is a mapping (dicts, and lists too).
  const bool mapping_like = !args.is_tuple() && (args.is_dict() || args.is_list());
  if (!mapping_like && next_arg < positional.size()) {
    return InvalidArgument("not all arguments converted during string formatting");
  }
  return out;
}

namespace {

struct Spec {
  std::string fill = " ";
  char align = 0;
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int64_t width = -1;
  char grouping = 0;
  int64_t precision = -1;
  char type = 0;
};

Result<Spec> ParseSpec(std::string_view s) {
  Spec spec;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  // [[fill]align]
  if (!s.empty()) {
    size_t after_first = 0;
    NextCodepoint(s, &after_first);
    if (after_first < s.size() && is_align(s[after_first])) {
      spec.fill = std::string(s.substr(0, after_first));
      spec.align = s[after_first];
      i = after_first + 1;
    } else if (is_align(s[0])) {
      spec.align = s[0];
      i = 1;
    }
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == '#') {
    spec.alt = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    spec.zero = true;
    ++i;
  }
  auto digits = [&](int64_t* out) -> Status {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return OkStatus();
    int64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (v > kMaxWidth) return InvalidArgument("Too many decimal digits in format string");
      ++i;
    }
    *out = v;
    return OkStatus();
  };
  CELLAR_RETURN_IF_ERROR(digits(&spec.width));
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) spec.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    spec.precision = 0;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') {
      return InvalidArgument("Format specifier missing precision");
    }
    CELLAR_RETURN_IF_ERROR(digits(&spec.precision));
  }
  if (i < s.size()) spec.type = s[i++];
  if (i != s.size()) return InvalidArgument("Invalid format specifier");
  if (spec.zero && !spec.align) {
    spec.fill = "0";
    spec.align = '=';
  }
  return spec;
}

std::string SignPrefix(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

Result<std::string> FormatFloat(double d, const Spec& spec) {
  char type = spec.type;
  int precision = spec.precision >= 0 ? static_cast<int>(spec.precision) : 6;
  std::string body;
  const double mag = std::fabs(d);
  if (type == 0 && spec.precision < 0) {
    body = PyFloatRepr(mag);
  } else if (type == 0) {
    body = FormatDouble(mag, 'g', precision == 0 ? 1 : precision, spec.alt);
    if (std::isfinite(mag) && body.find_first_of(".e") == std::string::npos) body += ".0";
  } else if (type == '%') {
    body = FormatDouble(mag * 100.0, 'f', precision, spec.alt) + "%";
  } else if (type == 'n') {
    body = FormatDouble(mag, 'g', precision == 0 ? 1 : precision, spec.alt);
  } else if (type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' ||
             type == 'G') {
    body = FormatDouble(mag, type, (type == 'g' || type == 'G') && precision == 0 ? 1 : precision,
                        spec.alt);
  } else {
    return InvalidArgument(std::string("Unknown format code '") + type +
                           "' for object of type 'float'");
  }
  if (spec.grouping && std::isfinite(mag)) {
    size_t end = body.find_first_of(".e%");
    if (end == std::string::npos) end = body.size();
    body = GroupDigits(body.substr(0, end), spec.grouping, 3) + body.substr(end);
  }
  const std::string prefix = SignPrefix(std::signbit(d) && !std::isnan(d), spec.sign);
  return Pad(prefix + body, spec.width, spec.align ? spec.align : '>', spec.fill, prefix.size());
}

}  // namespace

Result<std::string> FormatWithSpec(const Value& v, std::string_view spec_text) {
  if (spec_text.empty()) return ToStr(v);
  CELLAR_ASSIGN_OR_RETURN(Spec spec, ParseSpec(spec_text));
  if (v.is_string()) {
    if (spec.type != 0 && spec.type != 's') {
      return InvalidArgument(std::string("Unknown format code '") + spec.type +
                             "' for object of type 'str'");
    }
    if (spec.sign != '-' || spec.alt || spec.grouping || spec.align == '=') {
      return InvalidArgument("invalid format specifier for a string");
    }
    std::string body = v.as_string();
    if (spec.precision >= 0) {
      const std::vector<size_t> offs = CodepointOffsets(body);
      if (static_cast<int64_t>(offs.size()) - 1 > spec.precision) {
        body.resize(offs[static_cast<size_t>(spec.precision)]);
      }
    }
    return Pad(std::move(body), spec.width, spec.align ? spec.align : '<', spec.fill, 0);
  }
  if (v.is_integral()) {
    const char t = spec.type;
    if (t == 'e' || t == 'E' || t == 'f' || t == 'F' || t == 'g' || t == 'G' || t == '%') {
      return FormatFloat(v.as_double(), spec);
    }
    if (spec.precision >= 0)
      return InvalidArgument("Precision not allowed in integer format specifier");
    const int64_t i = v.as_int();
    std::string digits;
    std::string prefix = SignPrefix(i < 0, spec.sign);
    switch (t) {
      case 0:
      case 'd':
      case 'n':
        digits = IntDigits(Magnitude(i), 10, false);
        break;
      case 'b':
        digits = IntDigits(Magnitude(i), 2, false);
        if (spec.alt) prefix += "0b";
        break;
      case 'o':
        digits = IntDigits(Magnitude(i), 8, false);
        if (spec.alt) prefix += "0o";
        break;
      case 'x':
      case 'X':
        digits = IntDigits(Magnitude(i), 16, t == 'X');
        if (spec.alt) prefix += t == 'X' ? "0X" : "0x";
        break;
      case 'c': {
        if (i < 0 || i > 0x10FFFF) return InvalidArgument("%c arg not in range(0x110000)");
        if (i >= 0xD800 && i <= 0xDFFF)
          return InvalidArgument("surrogate code points are not supported");
        AppendUtf8(digits, static_cast<char32_t>(i));
        prefix.clear();
        break;
      }
      default:
        return InvalidArgument(std::string("Unknown format code '") + t +
                               "' for object of type 'int'");
    }
    if (spec.grouping) digits = GroupDigits(digits, spec.grouping, (t == 'd' || t == 0) ? 3 : 4);
    return Pad(prefix + digits, spec.width, spec.align ? spec.align : '>', spec.fill,
               prefix.size());
  }
  if (v.is_float()) return FormatFloat(v.as_double(), spec);
  return InvalidArgument("unsupported format string passed to " + TypeName(v) + ".__format__");
}

Result<std::string> StrFormat(std::string_view fmt, const CallArgs& args, bool markup) {
  std::string out;
  size_t i = 0;
  int auto_index = 0;
  bool manual = false, automatic = false;
  while (i < fmt.size()) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        i += 2;
        continue;
      }
      return InvalidArgument("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      i += 2;
      continue;
    }
    // Find the matching '}' (one level of nested fields inside the spec).
    size_t j = i + 1;
    int depth = 1;
    while (j < fmt.size() && depth > 0) {
      if (fmt[j] == '{') ++depth;
      if (fmt[j] == '}') --depth;
      if (depth > 0) ++j;
    }
    if (j >= fmt.size()) return InvalidArgument("expected '}' before end of string");
    std::string_view field = fmt.substr(i + 1, j - i - 1);
    i = j + 1;
    std::string_view spec;
    char conversion = 0;
    const size_t colon = field.find(':');
    std::string_view head = field.substr(0, colon);
    if (colon != std::string_view::npos) spec = field.substr(colon + 1);
    const size_t bang = head.find('!');
    if (bang != std::string_view::npos) {
      if (bang + 2 != head.size())
        return InvalidArgument("expected ':' after conversion specifier");
      conversion = head[bang + 1];
      head = head.substr(0, bang);
    }
    // field_name: arg_name ("." attr | "[" key "]")*
    size_t k = 0;
    while (k < head.size() && head[k] != '.' && head[k] != '[') ++k;
    const std::string_view arg_name = head.substr(0, k);
    Value v;
    if (arg_name.empty()) {
      if (manual) {
        return InvalidArgument(
            "cannot switch from manual field specification to automatic field numbering");
      }
      automatic = true;
      if (static_cast<size_t>(auto_index) >= args.positional.size()) {
        return InvalidArgument("Replacement index " + std::to_string(auto_index) +
                               " out of range for positional args tuple");
      }
      v = args.positional[static_cast<size_t>(auto_index++)];
    } else if (arg_name[0] >= '0' && arg_name[0] <= '9') {
      if (automatic) {
        return InvalidArgument(
            "cannot switch from automatic field numbering to manual field specification");
      }
      manual = true;
      size_t idx = 0;
      for (char d : arg_name) {
        if (d < '0' || d > '9') return InvalidArgument("invalid field name");
        idx = idx * 10 + static_cast<size_t>(d - '0');
        if (idx > 1000000) return InvalidArgument("field index too large");
      }
      if (idx >= args.positional.size()) {
        return InvalidArgument("Replacement index " + std::to_string(idx) +
                               " out of range for positional args tuple");
      }
      v = args.positional[idx];
    } else {
      bool found = false;
      for (const auto& [name, val] : args.keyword) {
        if (name == arg_name) {
          v = val;
          found = true;
        }
      }
      if (!found) return InvalidArgument("KeyError: " + PyReprString(arg_name));
    }
    while (k < head.size()) {
      if (head[k] == '.') {
        size_t e = k + 1;
        while (e < head.size() && head[e] != '.' && head[e] != '[') ++e;
        const std::string_view attr = head.substr(k + 1, e - k - 1);
        if (attr.empty() || attr[0] == '_') return InvalidArgument("access to attribute is unsafe");
        CELLAR_ASSIGN_OR_RETURN(v, GetAttr(v, attr));
        k = e;
      } else {
        const size_t e = head.find(']', k);
        if (e == std::string_view::npos) return InvalidArgument("Missing ']' in format string");
        const std::string_view key = head.substr(k + 1, e - k - 1);
        bool numeric = !key.empty();
        int64_t n = 0;
        for (char d : key) {
          if (d < '0' || d > '9' || n > 100000000) {
            numeric = false;
            break;
          }
          n = n * 10 + (d - '0');
        }
        CELLAR_ASSIGN_OR_RETURN(
            v, GetItem(v, numeric ? Value::Int(n) : Value::String(std::string(key))));
        k = e + 1;
      }
    }
    if (v.is_undefined()) return InvalidArgument(v.undefined_message());
    if (conversion == 'r' || conversion == 'a') {
      v = Value::String(Repr(v));
    } else if (conversion == 's') {
      v = Value::String(ToStr(v));
    } else if (conversion != 0) {
      return InvalidArgument(std::string("Unknown conversion specifier ") + conversion);
    }
    // Nested replacement fields inside the spec.
    std::string spec_text;
    if (spec.find('{') != std::string_view::npos) {
      CELLAR_ASSIGN_OR_RETURN(spec_text, StrFormat(spec, args, false));
    } else {
      spec_text = std::string(spec);
    }
    CELLAR_ASSIGN_OR_RETURN(std::string piece, FormatWithSpec(v, spec_text));
    if (markup && !v.is_markup()) piece = HtmlEscape(piece);
    out += piece;
    if (out.size() > (size_t{1} << 30)) return ResourceExhausted("formatted string too large");
  }
  return out;
}

}  // namespace cellar::jinja
