// Jinja's built-in filters (jinja2/filters.py, 3.1) plus transformers' tojson.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"
#include "jinja/json_value.h"
#include "jinja/operators.h"
#include "jinja/py_format.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {

// soft_str: strings (and Markup) as they are, anything else through str().
Value SoftStr(const Value& v) { return v.is_string() ? v : Value::String(ToStr(v)); }

Result<Value> IgnoreCase(const Value& v) {
  return v.is_string() ? Value::StringLike(PyLower(v.as_string()), v.is_markup()) : v;
}

// "a.b.0" -> ["a", "b", 0]; an int attribute -> [int].
ValueList AttributeParts(const Value& attribute) {
  ValueList parts;
  if (attribute.is_none() || attribute.is_undefined()) return parts;
  if (!attribute.is_string()) {
    parts.push_back(attribute);
    return parts;
  }
  for (const std::string& p : PySplit(attribute.as_string(), std::string("."), -1)) {
    const bool digits =
        !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && p.size() < 18) {
      parts.push_back(Value::Int(std::stoll(p)));
    } else {
      parts.push_back(Value::String(p));
    }
  }
  return parts;
}

// make_attrgetter: item[part][part]..., `default` replacing undefined results.
Result<Value> GetAttribute(const Value& item, const ValueList& parts, const Value* default_value,
                           bool ignore_case) {
  Value v = item;
  for (const Value& part : parts) {
    CELLAR_ASSIGN_OR_RETURN(v, GetItem(v, part));
    if (default_value && v.is_undefined()) v = *default_value;
  }
  if (ignore_case) return IgnoreCase(v);
  return v;
}

Value Generator(std::string name, ValueList items) {
  return Value::Obj(std::make_shared<SequenceObject>(std::move(name), std::move(items),
                                                     SequenceObject::Mode::kGenerator));
}

Result<ValueList> IterateCounted(Interpreter& in, const Value& v) {
  CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(items.size())));
  return items;
}

Status CheckString(Interpreter& in, const std::string& s) { return in.CheckSize(s.size()); }

// ---- filters ----

Result<Value> FilterAbs(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("abs", args, {}).status());
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min())
      return InvalidArgument("integer overflow");
    return Value::Int(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.is_float()) return Value::Float(std::fabs(v.as_double()));
  if (v.is_undefined()) return InvalidArgument(v.undefined_message());
  return InvalidArgument("bad operand type for abs(): '" + TypeName(v) + "'");
}

Result<Value> FilterAttr(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("attr", args, {Required("name")}));
  const std::string name = ToStr(a[0]);
  if (v.is_undefined()) return InvalidArgument(v.undefined_message());
  if (v.is_object()) {
    if (auto r = v.object()->GetAttr(name)) return *r;
  } else if (auto m = LookupMethod(v, name)) {
    return *m;
  }
  return MissingAttribute(v, name);
}

Result<Value> FilterBatch(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(
      ValueList a,
      BindArgs("batch", args, {Required("linecount"), Optional("fill_with", Value::None())}));
  if (!a[0].is_integral() || a[0].as_int() <= 0) {
    return InvalidArgument("batch linecount must be a positive integer");
  }
  const auto n = static_cast<size_t>(a[0].as_int());
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  ValueList out;
  ValueList tmp;
  for (Value& item : items) {
    tmp.push_back(std::move(item));
    if (tmp.size() == n) {
      out.push_back(Value::List(std::move(tmp)));
      tmp.clear();
    }
  }
  if (!tmp.empty()) {
    if (!a[1].is_none()) {
      while (tmp.size() < n) tmp.push_back(a[1]);
    }
    out.push_back(Value::List(std::move(tmp)));
  }
  return Generator("generator", std::move(out));
}

Result<Value> FilterCapitalize(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("capitalize", args, {}).status());
  const Value s = SoftStr(v);
  return Value::StringLike(PyCapitalize(s.as_string()), s.is_markup());
}

Result<Value> FilterCenter(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a,
                          BindArgs("center", args, {Optional("width", Value::Int(80))}));
  if (!a[0].is_integral()) return InvalidArgument("integer argument expected");
  const Value s = SoftStr(v);
  const int64_t width = a[0].as_int();
  CELLAR_RETURN_IF_ERROR(in.CheckSize(static_cast<size_t>(std::max<int64_t>(width, 0))));
  const int64_t len = static_cast<int64_t>(CodepointCount(s.as_string()));
  if (width <= len) return s;
  // CPython: left = pad/2 + (pad & width & 1).
  const int64_t pad = width - len;
  const int64_t left = pad / 2 + (pad & width & 1);
  std::string out(static_cast<size_t>(left), ' ');
  out += s.as_string();
  out.append(static_cast<size_t>(pad - left), ' ');
  return Value::StringLike(std::move(out), s.is_markup());
}

Result<Value> FilterDefault(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("default", args,
                                                {Optional("default_value", Value::String("")),
                                                 Optional("boolean", Value::Bool(false))}));
  if (v.is_undefined() || (Truthy(a[1]) && !Truthy(v))) return a[0];
  return v;
}

Result<Value> FilterDictsort(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("dictsort", args,
                                                {Optional("case_sensitive", Value::Bool(false)),
                                                 Optional("by", Value::String("key")),
                                                 Optional("reverse", Value::Bool(false))}));
  size_t pos;
  if (a[1].is_string() && a[1].as_string() == "key") {
    pos = 0;
  } else if (a[1].is_string() && a[1].as_string() == "value") {
    pos = 1;
  } else {
    return InvalidArgument("You can only sort by either \"key\" or \"value\"");
  }
  if (!v.is_dict()) return InvalidArgument("'" + TypeName(v) + "' object has no attribute 'items'");
  CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(v.dict().size())));
  struct Keyed {
    Value key;
    Value pair;
  };
  std::vector<Keyed> rows;
  for (const auto& [k, val] : v.dict().entries()) {
    Value key = pos == 0 ? k : val;
    if (!Truthy(a[0])) {
      CELLAR_ASSIGN_OR_RETURN(key, IgnoreCase(key));
    }
    rows.push_back({key, Value::Tuple({k, val})});
  }
  Status error;
  const bool reverse = Truthy(a[2]);
  RobustStableSort(rows, [&](const Keyed& x, const Keyed& y) {
    Result<int> c = reverse ? Compare(y.key, x.key) : Compare(x.key, y.key);
    if (!c.ok()) {
      if (error.ok()) error = c.status();
      return false;
    }
    return *c == -1;
  });
  CELLAR_RETURN_IF_ERROR(error);
  ValueList out;
  for (Keyed& r : rows) out.push_back(std::move(r.pair));
  return Value::List(std::move(out));
}

Result<Value> FilterEscape(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("escape", args, {}).status());
  if (v.is_markup()) return v;
  return Value::Markup(HtmlEscape(ToStr(v)));
}

Result<Value> FilterForceescape(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("forceescape", args, {}).status());
  return Value::Markup(HtmlEscape(ToStr(v)));
}

Result<Value> FilterFirst(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("first", args, {}).status());
  CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

Result<Value> FilterLast(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("last", args, {}).status());
  if (v.is_object()) {
    if (auto* seq = dynamic_cast<SequenceObject*>(v.object()); seq && seq->is_generator()) {
      return InvalidArgument("'" + seq->TypeName() + "' object is not reversible");
    }
  }
  CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

// Python float(x) for str: strips whitespace, accepts underscores between digits,
// inf/nan spellings.
std::optional<double> ParsePyFloat(const std::string& text) {
  std::string s = PyStrip(text, std::nullopt, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return std::nullopt;
      }
      continue;
    }
    clean.push_back(s[i]);
  }
  if (clean.empty()) return std::nullopt;
  std::string lower = PyLower(clean);
  std::string body = lower;
  double sign = 1.0;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    if (body[0] == '-') sign = -1.0;
    body = body.substr(1);
  }
  if (body == "inf" || body == "infinity") return sign * std::numeric_limits<double>::infinity();
  if (body == "nan") return std::numeric_limits<double>::quiet_NaN();
  for (char c : body) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' ||
          c == '-')) {
      return std::nullopt;
    }
  }
  char* end = nullptr;
  const double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

Result<Value> FilterFloat(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a,
                          BindArgs("float", args, {Optional("default", Value::Float(0.0))}));
  if (v.is_number()) return Value::Float(v.as_double());
  if (v.is_string()) {
    if (auto d = ParsePyFloat(v.as_string())) return Value::Float(*d);
  }
  return a[0];
}

Result<Value> FilterFormat(Interpreter& in, const Value& v, CallArgs& args) {
  if (!args.positional.empty() && !args.keyword.empty()) {
    return InvalidArgument("can't handle positional and keyword arguments at the same time");
  }
  const Value s = SoftStr(v);
  Value fmt_args;
  if (!args.keyword.empty()) {
    DictData d;
    for (auto& [k, val] : args.keyword) d.Set(Value::String(k), val);
    fmt_args = Value::Dict(std::move(d));
  } else {
    fmt_args = Value::Tuple(args.positional);
  }
  CELLAR_ASSIGN_OR_RETURN(std::string out, PercentFormat(s.as_string(), fmt_args, s.is_markup()));
  CELLAR_RETURN_IF_ERROR(CheckString(in, out));
  return Value::StringLike(std::move(out), s.is_markup());
}

Result<Value> FilterIndent(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("indent", args,
                                                {Optional("width", Value::Int(4)),
                                                 Optional("first", Value::Bool(false)),
                                                 Optional("blank", Value::Bool(false))}));
  std::string indention;
  if (a[0].is_string()) {
    indention = a[0].as_string();
  } else if (a[0].is_integral()) {
    const int64_t w = a[0].as_int();
    CELLAR_RETURN_IF_ERROR(in.CheckSize(static_cast<size_t>(std::max<int64_t>(w, 0))));
    if (w > 0) indention.assign(static_cast<size_t>(w), ' ');
  } else {
    return InvalidArgument("can't multiply sequence by non-int of type '" + TypeName(a[0]) + "'");
  }
  if (!v.is_string()) {
    if (v.is_undefined()) return InvalidArgument(v.undefined_message());
    return InvalidArgument("unsupported operand type(s) for +=: '" + TypeName(v) + "' and 'str'");
  }
  const std::string s = v.as_string() + "\n";
  std::vector<std::string> lines = PySplitlines(s, false);
  std::string rv;
  if (Truthy(a[2])) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? std::string() : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
      CELLAR_RETURN_IF_ERROR(CheckString(in, rv));
    }
  }
  if (Truthy(a[1])) rv = indention + rv;
  CELLAR_RETURN_IF_ERROR(CheckString(in, rv));
  return Value::StringLike(std::move(rv), v.is_markup());
}

std::optional<int64_t> ParsePyInt(const std::string& text, int64_t base) {
  std::string s = PyStrip(text, std::nullopt, true, true);
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (i + 1 < s.size() && s[i] == '0') {
      const char p = static_cast<char>(s[i + 1] | 0x20);
      const int64_t pb = p == 'x' ? 16 : (p == 'o' ? 8 : (p == 'b' ? 2 : 0));
      if (pb && (base == 0 || base == pb)) {
        base = pb;
        i += 2;
        if (i < s.size() && s[i] == '_') ++i;
      }
    }
    if (base == 0) base = 10;
  }
  if (base < 2 || base > 36 || i >= s.size()) return std::nullopt;
  int64_t v = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= s.size()) return std::nullopt;
      prev_digit = false;
      continue;
    }
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      d = (c | 0x20) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
      return std::nullopt;
    prev_digit = true;
  }
  if (!prev_digit) return std::nullopt;
  return neg ? -v : v;
}

Result<Value> FilterInt(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("int", args,
                                                {Optional("default", Value::Int(0)),
                                                 Optional("base", Value::Int(10))}));
  if (v.is_integral()) return Value::Int(v.as_int());
  if (v.is_float()) {
    const double d = v.as_double();
    if (std::isnan(d)) return InvalidArgument("cannot convert float NaN to integer");
    if (!std::isfinite(d)) return InvalidArgument("cannot convert float infinity to integer");
    if (std::fabs(d) >= 9.2e18) return InvalidArgument("integer overflow");
    return Value::Int(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    const int64_t base = a[1].is_integral() ? a[1].as_int() : 10;
    if (auto i = ParsePyInt(v.as_string(), base)) return Value::Int(*i);
    // "42.23" | int gives 42.
    if (auto d = ParsePyFloat(v.as_string())) {
      if (std::isfinite(*d) && std::fabs(*d) < 9.2e18) return Value::Int(static_cast<int64_t>(*d));
    }
  }
  return a[0];
}

Result<Value> FilterItems(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("items", args, {}).status());
  if (v.is_undefined()) return Generator("generator", {});
  if (!v.is_dict()) return InvalidArgument("Can only get item pairs from a mapping.");
  CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(v.dict().size())));
  ValueList out;
  for (const auto& [k, val] : v.dict().entries()) out.push_back(Value::Tuple({k, val}));
  return Generator("generator", std::move(out));
}

Result<Value> FilterJoin(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("join", args,
                                                {Optional("d", Value::String("")),
                                                 Optional("attribute", Value::None())}));
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  const ValueList parts = AttributeParts(a[1]);
  const std::string sep = ToStr(a[0]);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    if (!parts.empty()) {
      CELLAR_ASSIGN_OR_RETURN(Value item, GetAttribute(items[i], parts, nullptr, false));
      out += ToStr(item);
    } else {
      out += ToStr(items[i]);
    }
    CELLAR_RETURN_IF_ERROR(CheckString(in, out));
  }
  return Value::String(std::move(out));
}

Result<Value> FilterLength(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("length", args, {}).status());
  CELLAR_ASSIGN_OR_RETURN(int64_t n, Length(v));
  return Value::Int(n);
}

Result<Value> FilterList(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("list", args, {}).status());
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  return Value::List(std::move(items));
}

Result<Value> FilterLower(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("lower", args, {}).status());
  const Value s = SoftStr(v);
  return Value::StringLike(PyLower(s.as_string()), s.is_markup());
}

Result<Value> FilterUpper(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("upper", args, {}).status());
  const Value s = SoftStr(v);
  return Value::StringLike(PyUpper(s.as_string()), s.is_markup());
}

Result<Value> FilterMap(Interpreter& in, const Value& v, CallArgs& args) {
  // Jinja's map/select/reject yield nothing for a falsy input (even None) without
  // looking at their arguments.
  if (!Truthy(v)) return Generator("generator", {});
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  ValueList out;
  out.reserve(items.size());
  const bool by_attribute = args.positional.empty() &&
                            std::any_of(args.keyword.begin(), args.keyword.end(),
                                        [](const auto& kw) { return kw.first == "attribute"; });
  if (by_attribute) {
    CELLAR_ASSIGN_OR_RETURN(
        ValueList a,
        BindArgs("map", args, {Required("attribute"), Optional("default", Value::None())}));
    const ValueList parts = AttributeParts(a[0]);
    const Value* def = a[1].is_none() ? nullptr : &a[1];
    for (const Value& item : items) {
      CELLAR_ASSIGN_OR_RETURN(Value x, GetAttribute(item, parts, def, false));
      out.push_back(std::move(x));
    }
    return Generator("generator", std::move(out));
  }
  if (args.positional.empty()) return InvalidArgument("map requires a filter argument");
  const std::string name = ToStr(args.positional[0]);
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : items) {
    CELLAR_ASSIGN_OR_RETURN(Value x, in.CallFilter(name, item, rest));
    out.push_back(std::move(x));
  }
  return Generator("generator", std::move(out));
}

Result<Value> MinMax(Interpreter& in, const Value& v, CallArgs& args, bool want_max) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(want_max ? "max" : "min", args,
                                                {Optional("case_sensitive", Value::Bool(false)),
                                                 Optional("attribute", Value::None())}));
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  const ValueList parts = AttributeParts(a[1]);
  const bool ignore_case = !Truthy(a[0]);
  size_t best = 0;
  CELLAR_ASSIGN_OR_RETURN(Value best_key, GetAttribute(items[0], parts, nullptr, ignore_case));
  for (size_t i = 1; i < items.size(); ++i) {
    CELLAR_ASSIGN_OR_RETURN(Value key, GetAttribute(items[i], parts, nullptr, ignore_case));
    CELLAR_ASSIGN_OR_RETURN(int c, Compare(key, best_key, want_max ? ">" : "<"));
    if ((want_max && c == 1) || (!want_max && c == -1)) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}

Result<Value> FilterMax(Interpreter& in, const Value& v, CallArgs& args) {
  return MinMax(in, v, args, true);
}
Result<Value> FilterMin(Interpreter& in, const Value& v, CallArgs& args) {
  return MinMax(in, v, args, false);
}

// select / reject / selectattr / rejectattr.
Result<Value> SelectOrReject(Interpreter& in, const Value& v, CallArgs& args, bool select,
                             bool by_attribute) {
  if (!Truthy(v)) return Generator("generator", {});
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  size_t off = 0;
  ValueList parts;
  if (by_attribute) {
    if (args.positional.empty()) return InvalidArgument("Missing parameter for attribute name");
    parts = AttributeParts(args.positional[0]);
    off = 1;
  }
  std::optional<std::string> test;
  CallArgs test_args;
  if (args.positional.size() > off) {
    test = ToStr(args.positional[off]);
    test_args.positional.assign(args.positional.begin() + static_cast<long>(off) + 1,
                                args.positional.end());
    test_args.keyword = args.keyword;
  }
  ValueList out;
  for (const Value& item : items) {
    Value x = item;
    if (by_attribute) {
      CELLAR_ASSIGN_OR_RETURN(x, GetAttribute(item, parts, nullptr, false));
    }
    bool r;
    if (test) {
      CELLAR_ASSIGN_OR_RETURN(r, in.CallTest(*test, x, test_args));
    } else {
      r = Truthy(x);
    }
    if (r == select) out.push_back(item);
  }
  return Generator("generator", std::move(out));
}

Result<Value> FilterSelect(Interpreter& in, const Value& v, CallArgs& args) {
  return SelectOrReject(in, v, args, true, false);
}
Result<Value> FilterReject(Interpreter& in, const Value& v, CallArgs& args) {
  return SelectOrReject(in, v, args, false, false);
}
Result<Value> FilterSelectattr(Interpreter& in, const Value& v, CallArgs& args) {
  return SelectOrReject(in, v, args, true, true);
}
Result<Value> FilterRejectattr(Interpreter& in, const Value& v, CallArgs& args) {
  return SelectOrReject(in, v, args, false, true);
}

Result<Value> FilterReplace(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(
      ValueList a, BindArgs("replace", args,
                            {Required("old"), Required("new"), Optional("count", Value::None())}));
  int64_t count = -1;
  if (!a[2].is_none()) {
    if (!a[2].is_integral())
      return InvalidArgument("'" + TypeName(a[2]) + "' object cannot be interpreted as an integer");
    count = a[2].as_int();
  }
  const std::string s = ToStr(v);
  const std::string old = ToStr(a[0]);
  const std::string repl = ToStr(a[1]);
  if (!repl.empty()) {
    const size_t hits = old.empty() ? CodepointCount(s) + 1 : PyCount(s, old);
    CELLAR_RETURN_IF_ERROR(in.CheckSize(s.size() + hits * repl.size()));
  }
  return Value::String(PyReplace(s, old, repl, count));
}

Result<Value> FilterReverse(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("reverse", args, {}).status());
  if (v.is_string()) {
    std::vector<char32_t> cps = DecodeUtf8(v.as_string());
    std::reverse(cps.begin(), cps.end());
    return Value::String(EncodeUtf8(cps));
  }
  std::string type;
  if (v.is_list()) {
    type = v.is_tuple() ? "reversed" : "list_reverseiterator";
  } else if (v.is_dict()) {
    type = "dict_reversekeyiterator";
  } else if (v.is_undefined()) {
    type = "reversed";
  }
  CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
  std::reverse(items.begin(), items.end());
  if (!type.empty()) return Generator(type, std::move(items));
  return Value::List(std::move(items));
}

// Python round(x, n) for floats: correctly rounded, ties to even.
double RoundFloat(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits >= 0) {
    if (ndigits > 320) return x;
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  if (ndigits < -308) return std::copysign(0.0, x);
  const double p = std::pow(10.0, static_cast<double>(-ndigits));
  return std::nearbyint(x / p) * p;
}

Result<Value> FilterRound(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("round", args,
                                                {Optional("precision", Value::Int(0)),
                                                 Optional("method", Value::String("common"))}));
  const std::string method = ToStr(a[1]);
  if (method != "common" && method != "ceil" && method != "floor") {
    return InvalidArgument("method must be common, ceil or floor");
  }
  if (!a[0].is_integral()) {
    return InvalidArgument("'" + TypeName(a[0]) + "' object cannot be interpreted as an integer");
  }
  const int64_t precision = a[0].as_int();
  if (!v.is_number()) {
    if (v.is_undefined()) return InvalidArgument(v.undefined_message());
    return InvalidArgument("type " + TypeName(v) + " doesn't define __round__ method");
  }
  if (method == "common") {
    if (v.is_integral()) {
      int64_t x = v.as_int();
      if (precision >= 0) return Value::Int(x);
      if (precision < -18) return Value::Int(0);
      int64_t p = 1;
      for (int64_t i = 0; i < -precision; ++i) p *= 10;
      int64_t q = x / p;
      int64_t r = x % p;
      if (r < 0) {
        r += p;
        --q;
      }
      if (2 * r > p || (2 * r == p && (q & 1))) ++q;
      int64_t out;
      if (__builtin_mul_overflow(q, p, &out)) return InvalidArgument("integer overflow");
      return Value::Int(out);
    }
    return Value::Float(RoundFloat(v.as_double(), precision));
  }
  const double p = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.as_double() * p;
  return Value::Float((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / p);
}

Result<Value> FilterSafe(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("safe", args, {}).status());
  if (v.is_markup()) return v;
  return Value::Markup(ToStr(v));
}

Result<Value> FilterSlice(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(
      ValueList a,
      BindArgs("slice", args, {Required("slices"), Optional("fill_with", Value::None())}));
  if (!a[0].is_integral() || a[0].as_int() <= 0) return InvalidArgument("slices must be positive");
  CELLAR_ASSIGN_OR_RETURN(ValueList seq, IterateCounted(in, v));
  const auto slices = static_cast<size_t>(a[0].as_int());
  const size_t length = seq.size();
  const size_t items_per_slice = length / slices;
  const size_t slices_with_extra = length % slices;
  size_t offset = 0;
  ValueList out;
  for (size_t i = 0; i < slices; ++i) {
    const size_t start = offset + i * items_per_slice;
    if (i < slices_with_extra) ++offset;
    const size_t end = offset + (i + 1) * items_per_slice;
    ValueList tmp(seq.begin() + static_cast<long>(std::min(start, length)),
                  seq.begin() + static_cast<long>(std::min(end, length)));
    if (!a[1].is_none() && i >= slices_with_extra) tmp.push_back(a[1]);
    out.push_back(Value::List(std::move(tmp)));
  }
  return Generator("generator", std::move(out));
}

Result<Value> FilterSort(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("sort", args,
                                                {Optional("reverse", Value::Bool(false)),
                                                 Optional("case_sensitive", Value::Bool(false)),
                                                 Optional("attribute", Value::None())}));
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  // make_multi_attrgetter: "a,b" sorts by several attributes.
  std::vector<ValueList> attrs;
  if (a[2].is_string()) {
    for (const std::string& part : PySplit(a[2].as_string(), std::string(","), -1)) {
      attrs.push_back(AttributeParts(Value::String(part)));
    }
  } else {
    attrs.push_back(AttributeParts(a[2]));
  }
  const bool ignore_case = !Truthy(a[1]);
  struct Keyed {
    Value key;
    Value item;
  };
  std::vector<Keyed> rows;
  for (const Value& item : items) {
    ValueList key;
    for (const ValueList& parts : attrs) {
      CELLAR_ASSIGN_OR_RETURN(Value k, GetAttribute(item, parts, nullptr, ignore_case));
      key.push_back(std::move(k));
    }
    rows.push_back({Value::List(std::move(key)), item});
  }
  Status error;
  const bool reverse = Truthy(a[0]);
  RobustStableSort(rows, [&](const Keyed& x, const Keyed& y) {
    Result<int> c = reverse ? Compare(y.key, x.key) : Compare(x.key, y.key);
    if (!c.ok()) {
      if (error.ok()) error = c.status();
      return false;
    }
    return *c == -1;
  });
  CELLAR_RETURN_IF_ERROR(error);
  ValueList out;
  for (Keyed& r : rows) out.push_back(std::move(r.item));
  return Value::List(std::move(out));
}

Result<Value> FilterString(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("string", args, {}).status());
  return SoftStr(v);
}

Result<Value> FilterSum(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("sum", args,
                                                {Optional("attribute", Value::None()),
                                                 Optional("start", Value::Int(0))}));
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  const ValueList parts = AttributeParts(a[0]);
  Value total = a[1];
  if (total.is_string())
    return InvalidArgument("sum() can't sum strings [use ''.join(seq) instead]");
  for (const Value& item : items) {
    Value x = item;
    if (!parts.empty()) {
      CELLAR_ASSIGN_OR_RETURN(x, GetAttribute(item, parts, nullptr, false));
    }
    CELLAR_ASSIGN_OR_RETURN(
        total, BinaryOperation(BinaryOp::kAdd, total, x, in.limits().max_output_bytes));
  }
  return total;
}

Result<Value> FilterTitle(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("title", args, {}).status());
  // Words start after runs of - whitespace ( { [ <; each word gets its first
  // character uppercased and the rest lowercased.
  const std::string s = ToStr(v);
  std::string out;
  size_t pos = 0;
  auto is_sep = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || IsPySpace(c);
  };
  while (pos < s.size()) {
    size_t q = pos;
    const char32_t c = NextCodepoint(s, &q);
    if (is_sep(c)) {
      out.append(s, pos, q - pos);
      pos = q;
      continue;
    }
    size_t end = q;
    while (end < s.size()) {
      size_t r = end;
      if (is_sep(NextCodepoint(s, &r))) break;
      end = r;
    }
    out += PyUpper(s.substr(pos, q - pos));
    out += PyLower(s.substr(q, end - q));
    pos = end;
  }
  return Value::String(std::move(out));
}

Result<Value> FilterTojson(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(
      ValueList a,
      BindArgs("tojson", args,
               {Optional("ensure_ascii", Value::Bool(false)), Optional("indent", Value::None()),
                Optional("separators", Value::None()), Optional("sort_keys", Value::Bool(false))}));
  JsonDumpOptions o;
  o.ensure_ascii = Truthy(a[0]);
  if (a[1].is_integral()) {
    const int64_t n = a[1].as_int();
    CELLAR_RETURN_IF_ERROR(in.CheckSize(static_cast<size_t>(std::max<int64_t>(n, 0))));
    o.indent = std::string(static_cast<size_t>(std::max<int64_t>(n, 0)), ' ');
  } else if (a[1].is_string()) {
    o.indent = a[1].as_string();
  } else if (!a[1].is_none()) {
    return InvalidArgument("tojson indent must be an int, a string or None");
  }
  if (!a[2].is_none()) {
    if (!a[2].is_list() || a[2].items().size() != 2 || !a[2].items()[0].is_string() ||
        !a[2].items()[1].is_string()) {
      return InvalidArgument("tojson separators must be a pair of strings");
    }
    o.item_separator = a[2].items()[0].as_string();
    o.key_separator = a[2].items()[1].as_string();
  }
  o.sort_keys = Truthy(a[3]);
  CELLAR_ASSIGN_OR_RETURN(std::string out, PyJsonDumps(v, o, in.limits().max_output_bytes));
  return Value::String(std::move(out));
}

Result<Value> FilterTrim(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("trim", args, {Optional("chars", Value::None())}));
  const Value s = SoftStr(v);
  std::optional<std::string> chars;
  if (!a[0].is_none()) {
    if (!a[0].is_string()) return InvalidArgument("strip arg must be None or str");
    chars = s.is_markup() && !a[0].is_markup() ? HtmlEscape(a[0].as_string()) : a[0].as_string();
  }
  return Value::StringLike(PyStrip(s.as_string(), chars, true, true), s.is_markup());
}

Result<Value> FilterTruncate(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(
      ValueList a,
      BindArgs("truncate", args,
               {Optional("length", Value::Int(255)), Optional("killwords", Value::Bool(false)),
                Optional("end", Value::String("...")), Optional("leeway", Value::None())}));
  if (!a[0].is_integral()) return InvalidArgument("truncate length must be an integer");
  const int64_t length = a[0].as_int();
  const int64_t leeway = a[3].is_integral() ? a[3].as_int() : 5;
  const std::string end = ToStr(a[2]);
  const int64_t end_len = static_cast<int64_t>(CodepointCount(end));
  if (length < end_len) return InvalidArgument("expected length >= " + std::to_string(end_len));
  if (leeway < 0) return InvalidArgument("expected leeway >= 0");
  const std::string s = ToStr(v);
  const std::vector<size_t> offs = CodepointOffsets(s);
  const int64_t n = static_cast<int64_t>(offs.size()) - 1;
  if (n <= length + leeway) return Value::String(s);
  const std::string head = s.substr(0, offs[static_cast<size_t>(length - end_len)]);
  if (Truthy(a[1])) return Value::String(head + end);
  const std::vector<std::string> parts = PyRSplit(head, std::string(" "), 1);
  return Value::String(parts[0] + end);
}

Result<Value> FilterUnique(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("unique", args,
                                                {Optional("case_sensitive", Value::Bool(false)),
                                                 Optional("attribute", Value::None())}));
  CELLAR_ASSIGN_OR_RETURN(ValueList items, IterateCounted(in, v));
  const ValueList parts = AttributeParts(a[1]);
  const bool ignore_case = !Truthy(a[0]);
  ValueList seen;
  ValueList out;
  CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(items.size() * items.size() / 64)));
  for (const Value& item : items) {
    CELLAR_ASSIGN_OR_RETURN(Value key, GetAttribute(item, parts, nullptr, ignore_case));
    if (!Hashable(key)) return InvalidArgument("unhashable type: '" + TypeName(key) + "'");
    bool found = false;
    for (const Value& s : seen) {
      if (Equals(s, key)) {
        found = true;
        break;
      }
    }
    if (!found) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Generator("generator", std::move(out));
}

Result<Value> FilterWordcount(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(BindArgs("wordcount", args, {}).status());
  const std::string s = ToStr(v);
  int64_t words = 0;
  bool in_word = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = NextCodepoint(s, &pos);
    std::string one;
    AppendUtf8(one, c);
    const bool w = c == '_' || PyIsAlnum(one);
    if (w && !in_word) ++words;
    in_word = w;
  }
  return Value::Int(words);
}

constexpr FilterDef kFilters[] = {
    {"abs", FilterAbs},
    {"attr", FilterAttr},
    {"batch", FilterBatch},
    {"capitalize", FilterCapitalize},
    {"center", FilterCenter},
    {"count", FilterLength},
    {"d", FilterDefault},
    {"default", FilterDefault},
    {"dictsort", FilterDictsort},
    {"e", FilterEscape},
    {"escape", FilterEscape},
    {"first", FilterFirst},
    {"float", FilterFloat},
    {"forceescape", FilterForceescape},
    {"format", FilterFormat},
    {"indent", FilterIndent},
    {"int", FilterInt},
    {"items", FilterItems},
    {"join", FilterJoin},
    {"last", FilterLast},
    {"length", FilterLength},
    {"list", FilterList},
    {"lower", FilterLower},
    {"map", FilterMap},
    {"max", FilterMax},
    {"min", FilterMin},
    {"reject", FilterReject},
    {"rejectattr", FilterRejectattr},
    {"replace", FilterReplace},
    {"reverse", FilterReverse},
    {"round", FilterRound},
    {"safe", FilterSafe},
    {"select", FilterSelect},
    {"selectattr", FilterSelectattr},
    {"slice", FilterSlice},
    {"sort", FilterSort},
    {"string", FilterString},
    {"sum", FilterSum},
    {"title", FilterTitle},
    {"tojson", FilterTojson},
    {"trim", FilterTrim},
    {"truncate", FilterTruncate},
    {"unique", FilterUnique},
    {"upper", FilterUpper},
    {"wordcount", FilterWordcount},
};

}  // namespace

const FilterDef* FindFilter(std::string_view name) {
  for (const FilterDef& f : kFilters) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace cellar::jinja
