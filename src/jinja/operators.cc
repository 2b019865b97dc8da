#include "jinja/operators.h"

#include <cmath>
#include <limits>
#include <string>

#include "jinja/builtins.h"
#include "jinja/py_format.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {

Status Unsupported(std::string_view op, const Value& a, const Value& b) {
  return InvalidArgument("unsupported operand type(s) for " + std::string(op) + ": '" +
                         TypeName(a) + "' and '" + TypeName(b) + "'");
}

Status Overflow() { return InvalidArgument("integer overflow (integers are limited to 64 bits)"); }

Status TooBig(size_t max_bytes) {
  return ResourceExhausted("value larger than the output limit of " + std::to_string(max_bytes) +
                           " bytes");
}

const char* OpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "** or pow()";
    default:
      return "?";
  }
}

// Python's float divmod.
void FloatDivMod(double vx, double wx, double* floordiv, double* mod) {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) {
      m += wx;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv = fd;
  *mod = m;
}

Result<Value> IntPow(int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 0) return InvalidArgument("0.0 cannot be raised to a negative power");
    return Value::Float(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  int64_t result = 1;
  int64_t b = base;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, b, &result)) return Overflow();
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(b, b, &b)) return Overflow();
  }
  return Value::Int(result);
}

Result<Value> Repeat(const Value& seq, int64_t n, size_t max_bytes) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(n) > max_bytes / s.size()) return TooBig(max_bytes);
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value::StringLike(std::move(out), seq.is_markup());
  }
  const ValueList& items = seq.items();
  if (!items.empty() && static_cast<uint64_t>(n) > max_bytes / 16 / items.size()) {
    return TooBig(max_bytes);
  }
  ValueList out;
  out.reserve(items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

Result<Value> Add(const Value& a, const Value& b, size_t max_bytes) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) {
      int64_t r;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Overflow();
      return Value::Int(r);
    }
    return Value::Float(a.as_double() + b.as_double());
  }
  if (a.is_string() && b.is_string()) {
    if (a.as_string().size() + b.as_string().size() > max_bytes) return TooBig(max_bytes);
    if (a.is_markup() || b.is_markup()) {
      // markupsafe: the plain side is escaped.
      std::string left = a.is_markup() ? a.as_string() : HtmlEscape(a.as_string());
      left += b.is_markup() ? b.as_string() : HtmlEscape(b.as_string());
      return Value::Markup(std::move(left));
    }
    return Value::String(a.as_string() + b.as_string());
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    if ((a.items().size() + b.items().size()) * 16 > max_bytes) return TooBig(max_bytes);
    ValueList out = a.items();
    out.insert(out.end(), b.items().begin(), b.items().end());
    return a.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
  }
  if (a.is_string() || a.is_list()) {
    return InvalidArgument("can only concatenate " + TypeName(a) + " (not \"" + TypeName(b) +
                           "\") to " + TypeName(a));
  }
  return Unsupported("+", a, b);
}

}  // namespace

Result<Value> BinaryOperation(BinaryOp op, const Value& a, const Value& b, size_t max_bytes) {
  if (a.is_undefined()) return InvalidArgument(a.undefined_message());
  if (b.is_undefined()) return InvalidArgument(b.undefined_message());
  switch (op) {
    case BinaryOp::kAdd:
      return Add(a, b, max_bytes);
    case BinaryOp::kSub:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
          int64_t r;
          if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return Overflow();
          return Value::Int(r);
        }
        return Value::Float(a.as_double() - b.as_double());
      }
      return Unsupported("-", a, b);
    case BinaryOp::kMul:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
          int64_t r;
          if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return Overflow();
          return Value::Int(r);
        }
        return Value::Float(a.as_double() * b.as_double());
      }
      if ((a.is_string() || a.is_list()) && b.is_integral())
        return Repeat(a, b.as_int(), max_bytes);
      if (a.is_integral() && (b.is_string() || b.is_list()))
        return Repeat(b, a.as_int(), max_bytes);
      if (a.is_string() || a.is_list() || b.is_string() || b.is_list()) {
        return InvalidArgument("can't multiply sequence by non-int of type '" +
                               TypeName(a.is_string() || a.is_list() ? b : a) + "'");
      }
      return Unsupported("*", a, b);
    case BinaryOp::kDiv:
      if (a.is_number() && b.is_number()) {
        if (b.as_double() == 0.0) return InvalidArgument("division by zero");
        return Value::Float(a.as_double() / b.as_double());
      }
      return Unsupported("/", a, b);
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod:
      if (a.is_string() && op == BinaryOp::kMod) {
        CELLAR_ASSIGN_OR_RETURN(std::string s, PercentFormat(a.as_string(), b, a.is_markup()));
        if (s.size() > max_bytes) return TooBig(max_bytes);
        return Value::StringLike(std::move(s), a.is_markup());
      }
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
          const int64_t x = a.as_int();
          const int64_t y = b.as_int();
          if (y == 0) return InvalidArgument("integer division or modulo by zero");
          if (x == std::numeric_limits<int64_t>::min() && y == -1) {
            if (op == BinaryOp::kMod) return Value::Int(0);
            return Overflow();
          }
          int64_t q = x / y;
          int64_t r = x % y;
          if (r != 0 && ((r < 0) != (y < 0))) {
            --q;
            r += y;
          }
          return Value::Int(op == BinaryOp::kFloorDiv ? q : r);
        }
        const double y = b.as_double();
        if (y == 0.0) {
          return InvalidArgument(op == BinaryOp::kMod ? "float modulo"
                                                      : "float floor division by zero");
        }
        double fd, m;
        FloatDivMod(a.as_double(), y, &fd, &m);
        return Value::Float(op == BinaryOp::kFloorDiv ? fd : m);
      }
      return Unsupported(OpText(op), a, b);
    case BinaryOp::kPow:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) return IntPow(a.as_int(), b.as_int());
        const double x = a.as_double();
        const double y = b.as_double();
        if (x == 0.0 && y < 0) return InvalidArgument("0.0 cannot be raised to a negative power");
        if (x < 0 && std::floor(y) != y) {
          return InvalidArgument("negative number raised to a fractional power (complex result)");
        }
        return Value::Float(std::pow(x, y));
      }
      return Unsupported(OpText(op), a, b);
    default:
      return Internal("not an arithmetic operator");
  }
}

Result<Value> Negate(const Value& v) {
  if (v.is_undefined()) return InvalidArgument(v.undefined_message());
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) return Overflow();
    return Value::Int(-v.as_int());
  }
  if (v.is_float()) return Value::Float(-v.as_double());
  return InvalidArgument("bad operand type for unary -: '" + TypeName(v) + "'");
}

Result<Value> UnaryPlus(const Value& v) {
  if (v.is_undefined()) return InvalidArgument(v.undefined_message());
  if (v.is_integral()) return Value::Int(v.as_int());
  if (v.is_float()) return v;
  return InvalidArgument("bad operand type for unary +: '" + TypeName(v) + "'");
}

Result<bool> CompareOperation(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq:
      return Equals(a, b);
    case CompareOp::kNe:
      return !Equals(a, b);
    case CompareOp::kIn:
      return Contains(b, a);
    case CompareOp::kNotIn: {
      CELLAR_ASSIGN_OR_RETURN(bool in, Contains(b, a));
      return !in;
    }
    default:
      break;
  }
  const char* text = op == CompareOp::kLt   ? "<"
                     : op == CompareOp::kLe ? "<="
                     : op == CompareOp::kGt ? ">"
                                            : ">=";
  CELLAR_ASSIGN_OR_RETURN(int c, Compare(a, b, text));
  switch (op) {
    case CompareOp::kLt:
      return c == -1;
    case CompareOp::kLe:
      return c == -1 || c == 0;
    case CompareOp::kGt:
      return c == 1;
    case CompareOp::kGe:
      return c == 1 || c == 0;
    default:
      return false;
  }
}

Result<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        return InvalidArgument("'in <string>' requires string as left operand, not " +
                               TypeName(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.items()) {
        if (Equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      if (!Hashable(item)) return InvalidArgument("unhashable type: '" + TypeName(item) + "'");
      return container.dict().Find(item) != nullptr;
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kObject:
      if (auto* seq = dynamic_cast<SequenceObject*>(container.object())) {
        for (const Value& v : seq->Iterate()) {
          if (Equals(v, item)) return true;
        }
        return false;
      }
      break;
    default:
      break;
  }
  return InvalidArgument("argument of type '" + TypeName(container) + "' is not iterable");
}

Result<ValueList> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kList:
      return v.items();
    case Value::Kind::kDict: {
      ValueList keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, val] : v.dict().entries()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      const std::string& s = v.as_string();
      size_t pos = 0;
      while (pos < s.size()) {
        const size_t start = pos;
        NextCodepoint(s, &pos);
        chars.push_back(Value::String(s.substr(start, pos - start)));
      }
      return chars;
    }
    case Value::Kind::kUndefined:
      return ValueList{};
    case Value::Kind::kObject:
      if (auto* seq = dynamic_cast<SequenceObject*>(v.object())) return seq->Iterate();
      break;
    default:
      break;
  }
  return InvalidArgument("'" + TypeName(v) + "' object is not iterable");
}

Result<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return static_cast<int64_t>(CodepointCount(v.as_string()));
    case Value::Kind::kList:
      return static_cast<int64_t>(v.items().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.dict().size());
    case Value::Kind::kUndefined:
      return int64_t{0};
    case Value::Kind::kObject:
      if (auto* seq = dynamic_cast<SequenceObject*>(v.object())) {
        if (seq->has_len()) return static_cast<int64_t>(seq->size());
      }
      break;
    default:
      break;
  }
  return InvalidArgument("object of type '" + TypeName(v) + "' has no len()");
}

Value MissingAttribute(const Value& obj, std::string_view name) {
  return Value::Undefined(PyReprString(ObjectTypeRepr(obj)) + " has no attribute " +
                          PyReprString(name));
}

namespace {

Value MissingElement(const Value& obj, const Value& key) {
  return Value::Undefined(ObjectTypeRepr(obj) + " has no element " + Repr(key));
}

// obj[key] without the attribute fallback; nullopt when Python raises
// TypeError/LookupError.
std::optional<Value> RawGetItem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::kDict:
      if (!Hashable(key)) return std::nullopt;
      if (const Value* v = obj.dict().Find(key)) return *v;
      return std::nullopt;
    case Value::Kind::kList: {
      if (!key.is_integral()) return std::nullopt;
      const ValueList& items = obj.items();
      int64_t i = key.as_int();
      if (i < 0) i += static_cast<int64_t>(items.size());
      if (i < 0 || i >= static_cast<int64_t>(items.size())) return std::nullopt;
      return items[static_cast<size_t>(i)];
    }
    case Value::Kind::kString: {
      if (!key.is_integral()) return std::nullopt;
      const std::string& s = obj.as_string();
      int64_t i = key.as_int();
      if (IsAscii(s)) {
        if (i < 0) i += static_cast<int64_t>(s.size());
        if (i < 0 || i >= static_cast<int64_t>(s.size())) return std::nullopt;
        return Value::String(std::string(1, s[static_cast<size_t>(i)]));
      }
      const std::vector<size_t> offsets = CodepointOffsets(s);
      const int64_t n = static_cast<int64_t>(offsets.size()) - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) return std::nullopt;
      const size_t a = offsets[static_cast<size_t>(i)];
      const size_t b = offsets[static_cast<size_t>(i) + 1];
      return Value::String(s.substr(a, b - a));
    }
    case Value::Kind::kObject: {
      // range objects support indexing.
      auto* seq = dynamic_cast<SequenceObject*>(obj.object());
      if (!seq || seq->TypeName() != "range" || !key.is_integral()) return std::nullopt;
      const ValueList& items = seq->peek_items();
      int64_t i = key.as_int();
      if (i < 0) i += static_cast<int64_t>(items.size());
      if (i < 0 || i >= static_cast<int64_t>(items.size())) return std::nullopt;
      return items[static_cast<size_t>(i)];
    }
    default:
      return std::nullopt;
  }
}

// Python attributes of numbers (x.real, x.imag, x.numerator, x.denominator).
std::optional<Value> NumberAttribute(const Value& v, std::string_view name) {
  if (v.is_integral()) {
    if (name == "real" || name == "numerator") return Value::Int(v.as_int());
    if (name == "imag") return Value::Int(0);
    if (name == "denominator") return Value::Int(1);
  } else if (v.is_float()) {
    if (name == "real") return v;
    if (name == "imag") return Value::Float(0.0);
  }
  return std::nullopt;
}

}  // namespace

Result<Value> GetAttr(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) return InvalidArgument(obj.undefined_message());
  if (obj.is_object()) {
    if (std::optional<Value> v = obj.object()->GetAttr(name)) return *v;
    return MissingAttribute(obj, name);
  }
  if (std::optional<Value> m = LookupMethod(obj, name)) return *m;
  if (std::optional<Value> a = NumberAttribute(obj, name)) return *a;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().Find(name)) return *v;
  }
  return MissingAttribute(obj, name);
}

Result<Value> GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return InvalidArgument(obj.undefined_message());
  if (std::optional<Value> v = RawGetItem(obj, key)) return *v;
  if (key.is_string()) {
    if (obj.is_object()) {
      if (std::optional<Value> v = obj.object()->GetAttr(key.as_string())) return *v;
    } else if (std::optional<Value> m = LookupMethod(obj, key.as_string())) {
      return *m;
    }
    return MissingAttribute(obj, key.as_string());
  }
  return MissingElement(obj, key);
}

Result<Value> GetSlice(const Value& obj, const Value& start_v, const Value& stop_v,
                       const Value& step_v) {
  if (obj.is_undefined()) return InvalidArgument(obj.undefined_message());
  auto index = [](const Value& v, std::optional<int64_t>* out) -> Status {
    if (v.is_none()) return OkStatus();
    if (!v.is_integral()) {
      return InvalidArgument("slice indices must be integers or None or have an __index__ method");
    }
    *out = v.as_int();
    return OkStatus();
  };
  std::optional<int64_t> start, stop, step;
  CELLAR_RETURN_IF_ERROR(index(start_v, &start));
  CELLAR_RETURN_IF_ERROR(index(stop_v, &stop));
  CELLAR_RETURN_IF_ERROR(index(step_v, &step));
  if (!obj.is_string() && !obj.is_list()) {
    return Value::Undefined(ObjectTypeRepr(obj) + " has no element slice");
  }
  const int64_t st = step.value_or(1);
  if (st == 0) return InvalidArgument("slice step cannot be zero");
  std::vector<size_t> offsets;
  int64_t len;
  if (obj.is_string()) {
    if (IsAscii(obj.as_string())) {
      len = static_cast<int64_t>(obj.as_string().size());
    } else {
      offsets = CodepointOffsets(obj.as_string());
      len = static_cast<int64_t>(offsets.size()) - 1;
    }
  } else {
    len = static_cast<int64_t>(obj.items().size());
  }
  // PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, bool is_start) -> int64_t {
    if (!v) {
      if (st > 0) return is_start ? 0 : len;
      return is_start ? len - 1 : -1;
    }
    int64_t x = *v;
    if (x < 0) {
      x += len;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= len) {
      x = st < 0 ? len - 1 : len;
    }
    return x;
  };
  const int64_t a = adjust(start, true);
  const int64_t b = adjust(stop, false);
  std::vector<int64_t> picks;
  if (st > 0) {
    for (int64_t i = a; i < b; i += st) picks.push_back(i);
  } else {
    for (int64_t i = a; i > b; i += st) picks.push_back(i);
  }
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    std::string out;
    if (offsets.empty()) {
      if (st == 1) return Value::String(a < b ? s.substr(static_cast<size_t>(a), b - a) : "");
      for (int64_t i : picks) out.push_back(s[static_cast<size_t>(i)]);
    } else {
      for (int64_t i : picks) {
        const size_t x = offsets[static_cast<size_t>(i)];
        out.append(s, x, offsets[static_cast<size_t>(i) + 1] - x);
      }
    }
    return Value::String(std::move(out));
  }
  ValueList out;
  out.reserve(picks.size());
  for (int64_t i : picks) out.push_back(obj.items()[static_cast<size_t>(i)]);
  return obj.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

}  // namespace cellar::jinja
