#include "jinja/json_value.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {

Result<Value> FromJson(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxJsonInputDepth) {
    return InvalidArgument("JSON input nested deeper than " + std::to_string(kMaxJsonInputDepth));
  }
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
    case nlohmann::ordered_json::value_t::discarded:
      return Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::Int(static_cast<int64_t>(u));
      }
      return Value::Float(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) {
        CELLAR_ASSIGN_OR_RETURN(Value v, FromJson(e, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictData d;
      for (const auto& [k, e] : j.items()) {
        CELLAR_ASSIGN_OR_RETURN(Value v, FromJson(e, depth + 1));
        d.Set(Value::String(k), std::move(v));
      }
      return Value::Dict(std::move(d));
    }
    case nlohmann::ordered_json::value_t::binary:
      return InvalidArgument("binary JSON values are not supported");
  }
  return Value::None();
}

void AppendHex4(std::string& out, unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", v & 0xFFFF);
  out += buf;
}

class Dumper {
 public:
  Dumper(const JsonDumpOptions& o, size_t max_bytes) : o_(o), max_bytes_(max_bytes) {
    item_sep_ = o.item_separator ? *o.item_separator : (o.indent ? "," : ", ");
  }

  Status Dump(const Value& v, int level) {
    if (out_.size() > max_bytes_) {
      return ResourceExhausted("tojson output exceeds " + std::to_string(max_bytes_) + " bytes");
    }
    switch (v.kind()) {
      case Value::Kind::kNone:
        out_ += "null";
        return OkStatus();
      case Value::Kind::kBool:
        out_ += v.as_bool() ? "true" : "false";
        return OkStatus();
      case Value::Kind::kInt:
        out_ += std::to_string(v.as_int());
        return OkStatus();
      case Value::Kind::kFloat:
        out_ += FloatText(v.as_double());
        return OkStatus();
      case Value::Kind::kString:
        AppendJsonString(out_, v.as_string(), o_.ensure_ascii);
        return OkStatus();
      case Value::Kind::kList:
        return DumpList(v.items(), level);
      case Value::Kind::kDict:
        return DumpDict(v.dict(), level);
      default:
        return InvalidArgument("Object of type " + TypeName(v) + " is not JSON serializable");
    }
  }

  std::string& out() { return out_; }

 private:
  static std::string FloatText(double d) {
    if (d != d) return "NaN";
    if (d == std::numeric_limits<double>::infinity()) return "Infinity";
    if (d == -std::numeric_limits<double>::infinity()) return "-Infinity";
    return PyFloatRepr(d);
  }

  void Newline(int level) {
    out_.push_back('\n');
    for (int i = 0; i < level; ++i) out_ += *o_.indent;
  }

  Status DumpList(const ValueList& items, int level) {
    if (items.empty()) {
      out_ += "[]";
      return OkStatus();
    }
    out_.push_back('[');
    if (o_.indent) Newline(level + 1);
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) {
        out_ += item_sep_;
        if (o_.indent) Newline(level + 1);
      }
      CELLAR_RETURN_IF_ERROR(Dump(items[i], level + 1));
    }
    if (o_.indent) Newline(level);
    out_.push_back(']');
    return OkStatus();
  }

  Result<std::string> KeyText(const Value& k) {
    switch (k.kind()) {
      case Value::Kind::kString:
        return k.as_string();
      case Value::Kind::kNone:
        return std::string("null");
      case Value::Kind::kBool:
        return std::string(k.as_bool() ? "true" : "false");
      case Value::Kind::kInt:
        return std::to_string(k.as_int());
      case Value::Kind::kFloat:
        return FloatText(k.as_double());
      default:
        return InvalidArgument("keys must be str, int, float, bool or None, not " + TypeName(k));
    }
  }

  Status DumpDict(const DictData& d, int level) {
    if (d.size() == 0) {
      out_ += "{}";
      return OkStatus();
    }
    std::vector<const DictData::Entry*> entries;
    entries.reserve(d.size());
    for (const auto& e : d.entries()) entries.push_back(&e);
    if (o_.sort_keys) {
      Status error;
      std::stable_sort(entries.begin(), entries.end(), [&](const auto* a, const auto* b) {
        Result<int> c = Compare(a->first, b->first);
        if (!c.ok()) {
          if (error.ok()) error = c.status();
          return false;
        }
        return *c == -1;
      });
      CELLAR_RETURN_IF_ERROR(error);
    }
    out_.push_back('{');
    if (o_.indent) Newline(level + 1);
    bool first = true;
    for (const auto* e : entries) {
      if (!first) {
        out_ += item_sep_;
        if (o_.indent) Newline(level + 1);
      }
      first = false;
      CELLAR_ASSIGN_OR_RETURN(std::string key, KeyText(e->first));
      AppendJsonString(out_, key, o_.ensure_ascii);
      out_ += o_.key_separator;
      CELLAR_RETURN_IF_ERROR(Dump(e->second, level + 1));
    }
    if (o_.indent) Newline(level);
    out_.push_back('}');
    return OkStatus();
  }

  const JsonDumpOptions& o_;
  size_t max_bytes_;
  std::string item_sep_;
  std::string out_;
};

}  // namespace

Result<Value> ValueFromJson(const nlohmann::ordered_json& json) { return FromJson(json, 0); }

void AppendJsonString(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  size_t pos = 0;
  while (pos < s.size()) {
    const auto byte = static_cast<unsigned char>(s[pos]);
    if (byte >= 0x80) {
      const size_t start = pos;
      const char32_t cp = NextCodepoint(s, &pos);
      if (!ensure_ascii) {
        out.append(s.substr(start, pos - start));
      } else if (cp >= 0x10000) {
        const char32_t v = cp - 0x10000;
        AppendHex4(out, 0xD800 | static_cast<unsigned>(v >> 10));
        AppendHex4(out, 0xDC00 | static_cast<unsigned>(v & 0x3FF));
      } else {
        AppendHex4(out, static_cast<unsigned>(cp));
      }
      continue;
    }
    ++pos;
    switch (byte) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (byte < 0x20 || (ensure_ascii && byte == 0x7F)) {
          AppendHex4(out, byte);
        } else {
          out.push_back(static_cast<char>(byte));
        }
    }
  }
  out.push_back('"');
}

Result<std::string> PyJsonDumps(const Value& v, const JsonDumpOptions& options, size_t max_bytes) {
  Dumper d(options, max_bytes);
  CELLAR_RETURN_IF_ERROR(d.Dump(v, 0));
  if (d.out().size() > max_bytes) {
    return ResourceExhausted("tojson output exceeds " + std::to_string(max_bytes) + " bytes");
  }
  return std::move(d.out());
}

}  // namespace cellar::jinja
