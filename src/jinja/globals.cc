// Template globals: Jinja's (namespace, range, dict, cycler, joiner) and
// transformers' (raise_exception, strftime_now). Also the argument binder shared
// by every built-in.
#include <locale.h>

#include <clocale>
#include <ctime>
#include <memory>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"
#include "jinja/operators.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

Result<ValueList> BindArgs(std::string_view function, const CallArgs& args,
                           std::initializer_list<Param> params, CallArgs* rest) {
  const size_t n = params.size();
  std::vector<std::optional<Value>> bound(n);
  size_t i = 0;
  for (; i < args.positional.size() && i < n; ++i) bound[i] = args.positional[i];
  if (i < args.positional.size()) {
    if (!rest) {
      return InvalidArgument(std::string(function) + "() takes at most " + std::to_string(n) +
                             " argument" + (n == 1 ? "" : "s") + " (" +
                             std::to_string(args.positional.size()) + " given)");
    }
    rest->positional.assign(args.positional.begin() + static_cast<long>(i), args.positional.end());
  }
  for (const auto& [key, value] : args.keyword) {
    size_t j = 0;
    for (const Param& p : params) {
      if (p.name == key) break;
      ++j;
    }
    if (j == n) {
      if (!rest) {
        return InvalidArgument(std::string(function) + "() got an unexpected keyword argument " +
                               PyReprString(key));
      }
      rest->keyword.emplace_back(key, value);
      continue;
    }
    if (bound[j]) {
      return InvalidArgument(std::string(function) + "() got multiple values for argument " +
                             PyReprString(key));
    }
    bound[j] = value;
  }
  ValueList out;
  out.reserve(n);
  size_t j = 0;
  for (const Param& p : params) {
    if (bound[j]) {
      out.push_back(std::move(*bound[j]));
    } else if (p.default_value) {
      out.push_back(*p.default_value);
    } else {
      return InvalidArgument(std::string(function) + "() missing required argument " +
                             PyReprString(p.name));
    }
    ++j;
  }
  return out;
}

namespace {

Result<DictData> DictFromArgs(std::string_view function, const CallArgs& args) {
  if (args.positional.size() > 1) {
    return InvalidArgument(std::string(function) + " expected at most 1 argument, got " +
                           std::to_string(args.positional.size()));
  }
  DictData d;
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      d = src.dict();
    } else {
      CELLAR_ASSIGN_OR_RETURN(ValueList pairs, Iterate(src));
      for (const Value& p : pairs) {
        CELLAR_ASSIGN_OR_RETURN(ValueList kv, Iterate(p));
        if (kv.size() != 2) {
          return InvalidArgument("dictionary update sequence element has length " +
                                 std::to_string(kv.size()) + "; 2 is required");
        }
        if (!Hashable(kv[0])) return InvalidArgument("unhashable type: '" + TypeName(kv[0]) + "'");
        d.Set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.keyword) d.Set(Value::String(k), v);
  return d;
}

Result<Value> NamespaceFn(Interpreter& in, CallArgs args) {
  CELLAR_ASSIGN_OR_RETURN(DictData d, DictFromArgs("namespace", args));
  auto ns = std::make_shared<NamespaceObject>(std::move(d));
  in.Track(ns);
  return Value::Obj(std::move(ns));
}

Result<Value> DictFn(Interpreter&, CallArgs args) {
  CELLAR_ASSIGN_OR_RETURN(DictData d, DictFromArgs("dict", args));
  return Value::Dict(std::move(d));
}

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Result<Value> RangeFn(Interpreter& in, CallArgs args) {
  if (!args.keyword.empty()) return InvalidArgument("range() takes no keyword arguments");
  const ValueList& p = args.positional;
  if (p.empty() || p.size() > 3) {
    return InvalidArgument("range expected at most 3 arguments, got " + std::to_string(p.size()));
  }
  for (const Value& v : p) {
    if (!v.is_integral()) {
      return InvalidArgument("'" + TypeName(v) + "' object cannot be interpreted as an integer");
    }
  }
  int64_t start = 0, stop, step = 1;
  if (p.size() == 1) {
    stop = p[0].as_int();
  } else {
    start = p[0].as_int();
    stop = p[1].as_int();
    if (p.size() == 3) step = p[2].as_int();
  }
  if (step == 0) return InvalidArgument("range() arg 3 must not be zero");
  // Length without overflow.
  int64_t len = 0;
  if (step > 0 && start < stop) {
    len = static_cast<int64_t>((static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) /
                               static_cast<uint64_t>(step)) +
          1;
  } else if (step < 0 && start > stop) {
    len = static_cast<int64_t>((static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) /
                               (0 - static_cast<uint64_t>(step))) +
          1;
  }
  if (len < 0 || len > kMaxRange) {
    return InvalidArgument(
        "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  CELLAR_RETURN_IF_ERROR(in.Tick(len));
  ValueList items;
  items.reserve(static_cast<size_t>(len));
  for (int64_t i = 0; i < len; ++i) items.push_back(Value::Int(start + i * step));
  std::string repr = "range(" + std::to_string(start) + ", " + std::to_string(stop);
  if (step != 1) repr += ", " + std::to_string(step);
  repr += ")";
  return Value::Obj(std::make_shared<SequenceObject>("range", std::move(items),
                                                     SequenceObject::Mode::kView, repr));
}

Result<Value> RaiseException(Interpreter& in, CallArgs args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("raise_exception", args, {Required("message")}));
  in.MarkRaised();
  return InvalidArgument(ToStr(a[0]));
}

Result<Value> StrftimeNow(Interpreter& in, CallArgs args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("strftime_now", args, {Required("format")}));
  if (!a[0].is_string()) {
    return InvalidArgument("strftime() argument 1 must be str, not " + TypeName(a[0]));
  }
  const std::string& fmt = a[0].as_string();
  if (fmt.size() > 1024) return InvalidArgument("strftime format too long");
  if (fmt.find('\0') != std::string::npos) return InvalidArgument("embedded null character");
  // Python formats with the C library in the C locale.
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  std::string buf(fmt.size() * 64 + 64, '\0');
  const std::tm tm = in.now();
  const size_t n = c_locale ? strftime_l(buf.data(), buf.size(), fmt.c_str(), &tm, c_locale)
                            : std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  if (n == 0 && !fmt.empty()) {
    // Either an empty result or a too-small buffer; the buffer is generous, so empty.
    return Value::String("");
  }
  buf.resize(n);
  return Value::String(std::move(buf));
}

// cycler(*items): .next(), .current, .reset().
class Cycler final : public Object, public std::enable_shared_from_this<Cycler> {
 public:
  explicit Cycler(ValueList items) : items_(std::move(items)) {}
  std::string TypeName() const override { return "Cycler"; }
  std::string TypeReprForMessages() const override { return "jinja2.utils.Cycler object"; }
  void Release() override { items_.clear(); }
  std::optional<Value> GetAttr(std::string_view name) const override {
    if (name == "current") return items_.empty() ? Value::None() : items_[pos_];
    if (name == "items") return Value::List(items_);
    if (name == "next" || name == "reset") {
      std::shared_ptr<const Cycler> self = shared_from_this();
      const bool next = name == "next";
      return Value::Obj(std::make_shared<BuiltinFunction>(
          std::string(name), [self, next](Interpreter&, CallArgs args) -> Result<Value> {
            CELLAR_RETURN_IF_ERROR(BindArgs(next ? "next" : "reset", args, {}).status());
            if (!next) {
              self->pos_ = 0;
              return Value::None();
            }
            if (self->items_.empty()) return Value::None();
            Value rv = self->items_[self->pos_];
            self->pos_ = (self->pos_ + 1) % self->items_.size();
            return rv;
          }));
    }
    return std::nullopt;
  }

 private:
  ValueList items_;
  mutable size_t pos_ = 0;
};

}  // namespace

void AddGlobals(DictData* globals) {
  auto add = [&](const char* name, BuiltinFunction::Fn fn) {
    globals->Set(Value::String(name),
                 Value::Obj(std::make_shared<BuiltinFunction>(name, std::move(fn))));
  };
  add("namespace", NamespaceFn);
  add("dict", DictFn);
  add("range", RangeFn);
  add("raise_exception", RaiseException);
  add("strftime_now", StrftimeNow);
  add("cycler", [](Interpreter& in, CallArgs args) -> Result<Value> {
    if (!args.keyword.empty()) return InvalidArgument("cycler() takes no keyword arguments");
    if (args.positional.empty()) return InvalidArgument("at least one item has to be provided");
    auto cycler = std::make_shared<Cycler>(std::move(args.positional));
    in.Track(cycler);
    return Value::Obj(std::move(cycler));
  });
  add("joiner", [](Interpreter&, CallArgs args) -> Result<Value> {
    CELLAR_ASSIGN_OR_RETURN(ValueList a,
                            BindArgs("joiner", args, {Optional("sep", Value::String(", "))}));
    auto used = std::make_shared<bool>(false);
    const std::string sep = ToStr(a[0]);
    return Value::Obj(std::make_shared<BuiltinFunction>(
        "joiner", [used, sep](Interpreter&, CallArgs call) -> Result<Value> {
          CELLAR_RETURN_IF_ERROR(BindArgs("joiner", call, {}).status());
          if (!*used) {
            *used = true;
            return Value::String("");
          }
          return Value::String(sep);
        }));
  });
}

}  // namespace cellar::jinja
