#include "jinja/value.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
const ValueList& EmptyList() {
  static const ValueList* empty = new ValueList();
  return *empty;
}
const DictData& EmptyDict() {
  static const DictData* empty = new DictData();
  return *empty;
}
}  // namespace

Value Value::Undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.ptr_ = std::make_shared<std::string>(std::move(hint));
  return v;
}

Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.d_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}

Value Value::Markup(std::string s) {
  Value v = String(std::move(s));
  v.flag_ = true;
  return v;
}

namespace {
uint16_t ChildDepth(int d) { return static_cast<uint16_t>(d >= 65535 ? 65535 : d + 1); }
}  // namespace

Value Value::List(ValueList items) {
  Value v;
  v.kind_ = Kind::kList;
  int d = 0;
  for (const Value& item : items) d = std::max(d, item.depth());
  v.depth_ = ChildDepth(d);
  v.ptr_ = std::make_shared<ValueList>(std::move(items));
  return v;
}

Value Value::Tuple(ValueList items) {
  Value v = List(std::move(items));
  v.flag_ = true;
  return v;
}

Value Value::Dict(DictData d) {
  Value v;
  v.kind_ = Kind::kDict;
  int depth = 0;
  for (const auto& [key, val] : d.entries()) depth = std::max({depth, key.depth(), val.depth()});
  v.depth_ = ChildDepth(depth);
  v.ptr_ = std::make_shared<DictData>(std::move(d));
  return v;
}

Value Value::Obj(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::kObject;
  v.depth_ = static_cast<uint16_t>(std::min(o->depth(), 65535));
  v.ptr_ = std::move(o);
  return v;
}

double Value::as_double() const {
  switch (kind_) {
    case Kind::kBool:
      return b_ ? 1.0 : 0.0;
    case Kind::kInt:
      return static_cast<double>(i_);
    case Kind::kFloat:
      return d_;
    default:
      return 0.0;
  }
}

const std::string& Value::as_string() const {
  if (kind_ != Kind::kString || !ptr_) return EmptyString();
  return *static_cast<const std::string*>(ptr_.get());
}

const ValueList& Value::items() const {
  if (kind_ != Kind::kList || !ptr_) return EmptyList();
  return *static_cast<const ValueList*>(ptr_.get());
}

const DictData& Value::dict() const {
  if (kind_ != Kind::kDict || !ptr_) return EmptyDict();
  return *static_cast<const DictData*>(ptr_.get());
}

Object* Value::object() const {
  if (kind_ != Kind::kObject) return nullptr;
  return static_cast<Object*>(ptr_.get());
}

std::shared_ptr<Object> Value::object_ptr() const {
  if (kind_ != Kind::kObject) return nullptr;
  return std::static_pointer_cast<Object>(ptr_);
}

std::string Value::undefined_message() const {
  if (kind_ == Kind::kUndefined && ptr_) return *static_cast<const std::string*>(ptr_.get());
  return "value is undefined";
}

const Value* DictData::Find(const Value& key) const {
  if (key.is_string()) return Find(std::string_view(key.as_string()));
  for (const auto& [k, v] : entries_) {
    if (Equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* DictData::Find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k.is_string() && k.as_string() == key) return &v;
  }
  return nullptr;
}

void DictData::Set(Value key, Value value) {
  for (auto& [k, v] : entries_) {
    if (Equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

Result<Value> Object::Call(Interpreter& /*in*/, CallArgs /*args*/) const {
  return InvalidArgument("'" + TypeName() + "' object is not callable");
}

std::string NamespaceObject::Repr() const {
  // Python prints a dict that contains itself as {...}; chains of namespaces are
  // cut at a fixed depth so that printing never exhausts the stack.
  thread_local int repr_depth = 0;
  if (in_repr_ || repr_depth > 64) return "<Namespace {...}>";
  in_repr_ = true;
  ++repr_depth;
  std::string out = "<Namespace " + jinja::Repr(Value::Dict(attrs_)) + ">";
  --repr_depth;
  in_repr_ = false;
  return out;
}

std::optional<Value> NamespaceObject::GetAttr(std::string_view name) const {
  if (const Value* v = attrs_.Find(name)) return *v;
  return std::nullopt;
}

std::string SequenceObject::Repr() const {
  if (!repr_.empty()) return repr_;
  if (mode_ == Mode::kGenerator) return "<" + type_name_ + " object>";
  return type_name_ + "(" + jinja::Repr(Value::List(items_)) + ")";
}

int SequenceObject::depth() const {
  int d = 0;
  for (const Value& item : items_) d = std::max(d, item.depth());
  return d + 1;
}

ValueList SequenceObject::Iterate() const {
  if (mode_ == Mode::kView) return items_;
  if (consumed_) return {};
  consumed_ = true;
  return std::move(items_);
}

bool Truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kInt:
      return v.as_int() != 0;
    case Value::Kind::kFloat:
      return v.as_double() != 0.0;
    case Value::Kind::kString:
      return !v.as_string().empty();
    case Value::Kind::kList:
      return !v.items().empty();
    case Value::Kind::kDict:
      return v.dict().size() != 0;
    case Value::Kind::kObject:
      return v.object()->Truthy();
  }
  return false;
}

std::string TypeName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "NoneType";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kFloat:
      return "float";
    case Value::Kind::kString:
      return v.is_markup() ? "Markup" : "str";
    case Value::Kind::kList:
      return v.is_tuple() ? "tuple" : "list";
    case Value::Kind::kDict:
      return "dict";
    case Value::Kind::kObject:
      return v.object()->TypeName();
  }
  return "object";
}

std::string ObjectTypeRepr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kUndefined:
      return "jinja2.runtime.Undefined object";
    case Value::Kind::kString:
      return v.is_markup() ? "markupsafe.Markup object" : "str object";
    case Value::Kind::kObject:
      return v.object()->TypeReprForMessages();
    default:
      return TypeName(v) + " object";
  }
}

std::string ToStr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kString:
      return v.as_string();
    default:
      return Repr(v);
  }
}

std::string Repr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.as_int());
    case Value::Kind::kFloat:
      return PyFloatRepr(v.as_double());
    case Value::Kind::kString:
      if (v.is_markup()) return "Markup(" + PyReprString(v.as_string()) + ")";
      return PyReprString(v.as_string());
    case Value::Kind::kList: {
      std::string out = v.is_tuple() ? "(" : "[";
      const ValueList& items = v.items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += Repr(items[i]);
      }
      if (v.is_tuple() && items.size() == 1) out += ",";
      out += v.is_tuple() ? ")" : "]";
      return out;
    }
    case Value::Kind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, val] : v.dict().entries()) {
        if (!first) out += ", ";
        first = false;
        out += Repr(k);
        out += ": ";
        out += Repr(val);
      }
      out += "}";
      return out;
    }
    case Value::Kind::kObject:
      return v.object()->Repr();
  }
  return "";
}

namespace {

bool NumberEquals(const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
  if (a.is_float() && b.is_float()) return a.as_double() == b.as_double();
  // int vs float: exact comparison, as Python does.
  const Value& f = a.is_float() ? a : b;
  const Value& i = a.is_float() ? b : a;
  const double d = f.as_double();
  if (!std::isfinite(d) || std::floor(d) != d) return false;
  if (d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) return false;
  return static_cast<int64_t>(d) == i.as_int();
}

}  // namespace

bool Equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return NumberEquals(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      if (a.is_tuple() != b.is_tuple()) return false;
      const ValueList& x = a.items();
      const ValueList& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equals(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const DictData& x = a.dict();
      const DictData& y = b.dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.Find(k);
        if (!other || !Equals(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kObject:
      return a.object() == b.object();
    default:
      return false;
  }
}

Result<int> Compare(const Value& a, const Value& b, std::string_view op) {
  if (a.is_undefined()) return InvalidArgument(a.undefined_message());
  if (b.is_undefined()) return InvalidArgument(b.undefined_message());
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) {
      const int64_t x = a.as_int();
      const int64_t y = b.as_int();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    const double x = a.as_double();
    const double y = b.as_double();
    if (std::isnan(x) || std::isnan(y)) return 2;  // unordered
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const ValueList& x = a.items();
    const ValueList& y = b.items();
    const size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!Equals(x[i], y[i])) return Compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return InvalidArgument("'" + std::string(op) + "' not supported between instances of '" +
                         TypeName(a) + "' and '" + TypeName(b) + "'");
}

bool Hashable(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kList:
      if (!v.is_tuple()) return false;
      for (const Value& item : v.items()) {
        if (!Hashable(item)) return false;
      }
      return true;
    case Value::Kind::kDict:
      return false;
    default:
      return true;
  }
}

}  // namespace cellar::jinja
