// Python methods called on template values: str (strip, split, startswith, format,
// ...), dict (get, items, keys, values) and list/tuple (count, index). Mutating
// methods exist but are "unsafe", as in Jinja's ImmutableSandboxedEnvironment.
#include <algorithm>
#include <array>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"
#include "jinja/operators.h"
#include "jinja/py_format.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {

constexpr std::string_view kStrMethods[] = {
    "capitalize",   "casefold",     "center",  "count",     "endswith",   "expandtabs",
    "find",         "format",       "index",   "isalnum",   "isalpha",    "isascii",
    "isdecimal",    "isdigit",      "islower", "isnumeric", "isspace",    "istitle",
    "isupper",      "join",         "ljust",   "lower",     "lstrip",     "partition",
    "removeprefix", "removesuffix", "replace", "rfind",     "rindex",     "rjust",
    "rpartition",   "rsplit",       "rstrip",  "split",     "splitlines", "startswith",
    "strip",        "swapcase",     "title",   "upper",     "zfill",
};
constexpr std::string_view kDictMethods[] = {"copy", "get", "items", "keys", "values"};
constexpr std::string_view kDictUnsafe[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kListMethods[] = {"copy", "count", "index"};
constexpr std::string_view kListUnsafe[] = {"append", "clear",  "extend",  "insert",
                                            "pop",    "remove", "reverse", "sort"};

template <size_t N>
bool In(const std::string_view (&table)[N], std::string_view name) {
  return std::find(std::begin(table), std::end(table), name) != std::end(table);
}

Result<Value> CallStrMethod(Interpreter& in, const Value& self, std::string_view name,
                            CallArgs& args);
Result<Value> CallDictMethod(Interpreter& in, const Value& self, std::string_view name,
                             CallArgs& args);
Result<Value> CallListMethod(Interpreter& in, const Value& self, std::string_view name,
                             CallArgs& args);

// A method bound to its receiver: "abc".upper, d.items, ...
class BoundMethod final : public Object {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  std::string TypeName() const override { return "builtin_function_or_method"; }
  std::string Repr() const override {
    return "<built-in method " + name_ + " of " + jinja::TypeName(self_) + " object>";
  }
  bool callable() const override { return true; }
  Result<Value> Call(Interpreter& in, CallArgs args) const override {
    if (self_.is_string()) return CallStrMethod(in, self_, name_, args);
    if (self_.is_dict()) return CallDictMethod(in, self_, name_, args);
    return CallListMethod(in, self_, name_, args);
  }

 private:
  Value self_;
  std::string name_;
};

// ---- str ----

// markupsafe escapes string arguments of Markup methods.
Value EscapeArgFor(const Value& self, const Value& arg) {
  if (self.is_markup() && arg.is_string() && !arg.is_markup()) {
    return Value::Markup(HtmlEscape(arg.as_string()));
  }
  return arg;
}

Result<std::optional<std::string>> OptionalStrArg(const Value& v, std::string_view what) {
  if (v.is_none()) return std::optional<std::string>();
  if (!v.is_string()) {
    return InvalidArgument(std::string(what) + " arg must be None or str");
  }
  return std::optional<std::string>(v.as_string());
}

Result<int64_t> IntArg(const Value& v) {
  if (!v.is_integral()) {
    return InvalidArgument("'" + TypeName(v) + "' object cannot be interpreted as an integer");
  }
  return v.as_int();
}

// Code point range [start, end) of s[start:end] with Python's clamping.
void ClampRange(int64_t len, const Value& start_v, const Value& end_v, int64_t* start,
                int64_t* end) {
  int64_t a = start_v.is_integral() ? start_v.as_int() : 0;
  int64_t b = end_v.is_integral() ? end_v.as_int() : len;
  if (a < 0) a = std::max<int64_t>(0, a + len);
  if (b < 0) b = std::max<int64_t>(0, b + len);
  a = std::min(a, len);
  b = std::min(b, len);
  *start = a;
  *end = b;
}

// s.find(sub, start, end) in code points; -1 when absent.
int64_t FindIn(const std::string& s, const std::string& sub, const Value& start_v,
               const Value& end_v, bool reverse) {
  const std::vector<size_t> offs = CodepointOffsets(s);
  const int64_t len = static_cast<int64_t>(offs.size()) - 1;
  int64_t a, b;
  ClampRange(len, start_v, end_v, &a, &b);
  if (b - a < static_cast<int64_t>(CodepointCount(sub))) return -1;
  const std::string_view window(s.data() + offs[static_cast<size_t>(a)],
                                offs[static_cast<size_t>(b)] - offs[static_cast<size_t>(a)]);
  const size_t hit = reverse ? window.rfind(sub) : window.find(sub);
  if (hit == std::string_view::npos) return -1;
  return a + static_cast<int64_t>(CodepointCount(window.substr(0, hit)));
}

Result<bool> AffixMatch(const std::string& s, const Value& affix, const Value& start_v,
                        const Value& end_v, bool prefix) {
  const std::vector<size_t> offs = CodepointOffsets(s);
  const int64_t len = static_cast<int64_t>(offs.size()) - 1;
  int64_t a, b;
  ClampRange(len, start_v, end_v, &a, &b);
  if (a > b) return false;
  const std::string_view window(s.data() + offs[static_cast<size_t>(a)],
                                offs[static_cast<size_t>(b)] - offs[static_cast<size_t>(a)]);
  ValueList candidates;
  if (affix.is_tuple()) {
    candidates = affix.items();
  } else {
    candidates.push_back(affix);
  }
  for (const Value& c : candidates) {
    if (!c.is_string()) {
      return InvalidArgument(std::string(prefix ? "startswith" : "endswith") +
                             " first arg must be str or a tuple of str, not " + TypeName(c));
    }
    const std::string& x = c.as_string();
    if (x.size() > window.size()) continue;
    if (prefix ? window.substr(0, x.size()) == x : window.substr(window.size() - x.size()) == x) {
      return true;
    }
  }
  return false;
}

Value StrList(const std::vector<std::string>& parts, bool markup) {
  ValueList out;
  out.reserve(parts.size());
  for (const std::string& p : parts) out.push_back(Value::StringLike(p, markup));
  return Value::List(std::move(out));
}

Result<Value> Justify(Interpreter& in, const Value& self, CallArgs& args, char how,
                      std::string_view name) {
  CELLAR_ASSIGN_OR_RETURN(
      ValueList a,
      BindArgs(name, args, {Required("width"), Optional("fillchar", Value::String(" "))}));
  CELLAR_ASSIGN_OR_RETURN(int64_t width, IntArg(a[0]));
  if (!a[1].is_string() || CodepointCount(a[1].as_string()) != 1) {
    return InvalidArgument("The fill character must be exactly one character long");
  }
  CELLAR_RETURN_IF_ERROR(in.CheckSize(static_cast<size_t>(std::max<int64_t>(width, 0)) * 4));
  const std::string& s = self.as_string();
  const int64_t len = static_cast<int64_t>(CodepointCount(s));
  if (width <= len) return self;
  const int64_t pad = width - len;
  int64_t left = 0;
  if (how == '>') left = pad;
  if (how == '^') left = pad / 2 + (pad & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += a[1].as_string();
  out += s;
  for (int64_t i = left; i < pad; ++i) out += a[1].as_string();
  return Value::StringLike(std::move(out), self.is_markup());
}

Result<Value> CallStrMethod(Interpreter& in, const Value& self, std::string_view name,
                            CallArgs& args) {
  const std::string& s = self.as_string();
  const bool markup = self.is_markup();
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Optional("chars", Value::None())}));
    CELLAR_ASSIGN_OR_RETURN(auto chars, OptionalStrArg(EscapeArgFor(self, a[0]), name));
    return Value::StringLike(PyStrip(s, chars, name != "rstrip", name != "lstrip"), markup);
  }
  if (name == "split" || name == "rsplit") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args,
                                                  {Optional("sep", Value::None()),
                                                   Optional("maxsplit", Value::Int(-1))}));
    CELLAR_ASSIGN_OR_RETURN(auto sep, OptionalStrArg(a[0], "sep"));
    if (sep && sep->empty()) return InvalidArgument("empty separator");
    CELLAR_ASSIGN_OR_RETURN(int64_t maxsplit, IntArg(a[1]));
    CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(s.size() / 64)));
    return StrList(name == "split" ? PySplit(s, sep, maxsplit) : PyRSplit(s, sep, maxsplit),
                   markup);
  }
  if (name == "splitlines") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a,
                            BindArgs(name, args, {Optional("keepends", Value::Bool(false))}));
    return StrList(PySplitlines(s, Truthy(a[0])), markup);
  }
  if (name == "startswith" || name == "endswith") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a,
                            BindArgs(name, args,
                                     {Required("affix"), Optional("start", Value::None()),
                                      Optional("end", Value::None())}));
    CELLAR_ASSIGN_OR_RETURN(bool r, AffixMatch(s, a[0], a[1], a[2], name == "startswith"));
    return Value::Bool(r);
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "swapcase" || name == "casefold") {
    CELLAR_RETURN_IF_ERROR(BindArgs(name, args, {}).status());
    std::string out;
    if (name == "upper") {
      out = PyUpper(s);
    } else if (name == "lower") {
      out = PyLower(s);
    } else if (name == "casefold") {
      out = PyCasefold(s);
    } else if (name == "title") {
      out = PyTitle(s);
    } else if (name == "capitalize") {
      out = PyCapitalize(s);
    } else {
      out = PySwapcase(s);
    }
    return Value::StringLike(std::move(out), markup);
  }
  if (name == "replace") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args,
                                                  {Required("old"), Required("new"),
                                                   Optional("count", Value::Int(-1))}));
    const Value old = EscapeArgFor(self, a[0]);
    const Value repl = EscapeArgFor(self, a[1]);
    if (!old.is_string() || !repl.is_string()) {
      return InvalidArgument("replace() argument must be str, not " +
                             TypeName(old.is_string() ? repl : old));
    }
    CELLAR_ASSIGN_OR_RETURN(int64_t count, IntArg(a[2]));
    if (!repl.as_string().empty()) {
      const size_t hits =
          old.as_string().empty() ? CodepointCount(s) + 1 : PyCount(s, old.as_string());
      CELLAR_RETURN_IF_ERROR(in.CheckSize(s.size() + hits * repl.as_string().size()));
    }
    return Value::StringLike(PyReplace(s, old.as_string(), repl.as_string(), count), markup);
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a,
                            BindArgs(name, args,
                                     {Required("sub"), Optional("start", Value::None()),
                                      Optional("end", Value::None())}));
    if (!a[0].is_string()) {
      return InvalidArgument("must be str, not " + TypeName(a[0]));
    }
    if (name == "count") {
      const std::vector<size_t> offs = CodepointOffsets(s);
      int64_t x, y;
      ClampRange(static_cast<int64_t>(offs.size()) - 1, a[1], a[2], &x, &y);
      if (x > y) return Value::Int(0);
      const std::string_view window(s.data() + offs[static_cast<size_t>(x)],
                                    offs[static_cast<size_t>(y)] - offs[static_cast<size_t>(x)]);
      return Value::Int(static_cast<int64_t>(PyCount(window, a[0].as_string())));
    }
    const int64_t r = FindIn(s, a[0].as_string(), a[1], a[2], name[0] == 'r');
    if (r < 0 && (name == "index" || name == "rindex")) {
      return InvalidArgument("substring not found");
    }
    return Value::Int(r);
  }
  if (name == "join") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Required("iterable")}));
    CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(a[0]));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      const Value item = EscapeArgFor(self, items[i]);
      if (!item.is_string()) {
        return InvalidArgument("sequence item " + std::to_string(i) + ": expected str instance, " +
                               TypeName(item) + " found");
      }
      if (i) out += s;
      out += item.as_string();
      CELLAR_RETURN_IF_ERROR(in.CheckSize(out.size()));
    }
    return Value::StringLike(std::move(out), markup);
  }
  if (name == "format") {
    CELLAR_ASSIGN_OR_RETURN(std::string out, StrFormat(s, args, markup));
    CELLAR_RETURN_IF_ERROR(in.CheckSize(out.size()));
    return Value::StringLike(std::move(out), markup);
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    return Justify(in, self, args, name == "center" ? '^' : (name == "ljust" ? '<' : '>'), name);
  }
  if (name == "zfill") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Required("width")}));
    CELLAR_ASSIGN_OR_RETURN(int64_t width, IntArg(a[0]));
    CELLAR_RETURN_IF_ERROR(in.CheckSize(static_cast<size_t>(std::max<int64_t>(width, 0))));
    const int64_t len = static_cast<int64_t>(CodepointCount(s));
    if (width <= len) return self;
    std::string out = s;
    const size_t at = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    out.insert(at, static_cast<size_t>(width - len), '0');
    return Value::StringLike(std::move(out), markup);
  }
  if (name == "partition" || name == "rpartition") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Required("sep")}));
    if (!a[0].is_string()) return InvalidArgument("must be str, not " + TypeName(a[0]));
    const std::string& sep = a[0].as_string();
    if (sep.empty()) return InvalidArgument("empty separator");
    const size_t hit = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (hit == std::string::npos) {
      if (name == "partition") {
        return Value::Tuple({self, Value::StringLike("", markup), Value::StringLike("", markup)});
      }
      return Value::Tuple({Value::StringLike("", markup), Value::StringLike("", markup), self});
    }
    return Value::Tuple({Value::StringLike(s.substr(0, hit), markup),
                         Value::StringLike(sep, markup),
                         Value::StringLike(s.substr(hit + sep.size()), markup)});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Required("affix")}));
    if (!a[0].is_string()) return InvalidArgument("must be str, not " + TypeName(a[0]));
    const std::string& x = a[0].as_string();
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) {
      return Value::StringLike(s.substr(x.size()), markup);
    }
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() &&
        s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return Value::StringLike(s.substr(0, s.size() - x.size()), markup);
    }
    return self;
  }
  if (name == "expandtabs") {
    CELLAR_ASSIGN_OR_RETURN(ValueList a,
                            BindArgs(name, args, {Optional("tabsize", Value::Int(8))}));
    CELLAR_ASSIGN_OR_RETURN(int64_t tab, IntArg(a[0]));
    std::string out;
    int64_t col = 0;
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t start = pos;
      const char32_t c = NextCodepoint(s, &pos);
      if (c == '\t') {
        if (tab > 0) {
          const int64_t n = tab - (col % tab);
          CELLAR_RETURN_IF_ERROR(in.CheckSize(out.size() + static_cast<size_t>(n)));
          out.append(static_cast<size_t>(n), ' ');
          col += n;
        }
      } else {
        out.append(s, start, pos - start);
        col = (c == '\n' || c == '\r') ? 0 : col + 1;
      }
    }
    return Value::StringLike(std::move(out), markup);
  }
  // Predicates.
  CELLAR_RETURN_IF_ERROR(BindArgs(name, args, {}).status());
  if (name == "isalnum") return Value::Bool(PyIsAlnum(s));
  if (name == "isalpha") return Value::Bool(PyIsAlpha(s));
  if (name == "isascii") return Value::Bool(IsAscii(s));
  if (name == "isdigit" || name == "isdecimal") return Value::Bool(PyIsDigit(s));
  if (name == "isnumeric") return Value::Bool(PyIsNumeric(s));
  if (name == "islower") return Value::Bool(PyIsLower(s));
  if (name == "isupper") return Value::Bool(PyIsUpper(s));
  if (name == "isspace") return Value::Bool(PyIsSpaceStr(s));
  if (name == "istitle") return Value::Bool(!s.empty() && PyTitle(s) == s && PyIsUpper(PyUpper(s)));
  return Unimplemented("str." + std::string(name) + "() is not supported");
}

// ---- dict ----

Result<Value> CallDictMethod(Interpreter& in, const Value& self, std::string_view name,
                             CallArgs& args) {
  const DictData& d = self.dict();
  if (name == "get") {
    CELLAR_ASSIGN_OR_RETURN(
        ValueList a, BindArgs(name, args, {Required("key"), Optional("default", Value::None())}));
    if (!Hashable(a[0])) return InvalidArgument("unhashable type: '" + TypeName(a[0]) + "'");
    if (const Value* v = d.Find(a[0])) return *v;
    return a[1];
  }
  CELLAR_RETURN_IF_ERROR(BindArgs(name, args, {}).status());
  CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(d.size())));
  if (name == "copy") return self;
  ValueList items;
  items.reserve(d.size());
  for (const auto& [k, v] : d.entries()) {
    if (name == "items") {
      items.push_back(Value::Tuple({k, v}));
    } else if (name == "keys") {
      items.push_back(k);
    } else {
      items.push_back(v);
    }
  }
  const std::string type = "dict_" + std::string(name);
  return Value::Obj(
      std::make_shared<SequenceObject>(type, std::move(items), SequenceObject::Mode::kView));
}

// ---- list / tuple ----

Result<Value> CallListMethod(Interpreter& in, const Value& self, std::string_view name,
                             CallArgs& args) {
  const ValueList& items = self.items();
  if (name == "copy") {
    CELLAR_RETURN_IF_ERROR(BindArgs(name, args, {}).status());
    return Value::List(items);
  }
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Required("value")}));
  CELLAR_RETURN_IF_ERROR(in.Tick(static_cast<int64_t>(items.size())));
  if (name == "count") {
    return Value::Int(static_cast<int64_t>(std::count_if(
        items.begin(), items.end(), [&](const Value& v) { return Equals(v, a[0]); })));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (Equals(items[i], a[0])) return Value::Int(static_cast<int64_t>(i));
  }
  return InvalidArgument(Repr(a[0]) + " is not in list");
}

Value Unsafe(const Value& self, std::string_view name) {
  return Value::Undefined("access to attribute " + PyReprString(name) + " of " +
                          PyReprString(TypeName(self)) + " object is unsafe.");
}

}  // namespace

std::optional<Value> LookupMethod(const Value& self, std::string_view name) {
  auto bind = [&] { return Value::Obj(std::make_shared<BoundMethod>(self, std::string(name))); };
  switch (self.kind()) {
    case Value::Kind::kString:
      if (In(kStrMethods, name)) return bind();
      break;
    case Value::Kind::kDict:
      if (In(kDictMethods, name)) return bind();
      if (In(kDictUnsafe, name)) return Unsafe(self, name);
      break;
    case Value::Kind::kList:
      if (self.is_tuple()) {
        if (name == "count" || name == "index") return bind();
        break;
      }
      if (In(kListMethods, name)) return bind();
      if (In(kListUnsafe, name)) return Unsafe(self, name);
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace cellar::jinja
