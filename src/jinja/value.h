// Value: what a Jinja expression evaluates to, modelled on the Python objects that
// Jinja2 templates see (str, int, float, bool, None, list, tuple, dict, Undefined,
// markupsafe.Markup, and a few objects: namespace, macro, loop, generators).
//
// Strings, lists and dicts are immutable once built (transformers renders in an
// ImmutableSandboxedEnvironment, which forbids list.append and friends), so they are
// shared by pointer: copying a Value is cheap. The only mutable object is a
// namespace. Dicts keep insertion order, as Python's do.
//
// A Value is created and used by one render (one thread); values are never shared
// between concurrent renders.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cellar::jinja {

class Value;
class Object;
class Interpreter;
using ValueList = std::vector<Value>;

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,  // list or tuple (is_tuple())
    kDict,
    kObject,
  };

  Value() = default;  // undefined, no hint
  static Value Undefined(std::string hint);
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value Markup(std::string s);  // markupsafe.Markup: + and % escape the other side
  static Value StringLike(std::string s, bool markup) {
    return markup ? Markup(std::move(s)) : String(std::move(s));
  }
  static Value List(ValueList items);
  static Value Tuple(ValueList items);
  static Value Dict(class DictData d);
  static Value Obj(std::shared_ptr<Object> o);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // bool, int or float (Python numbers; bool is an int subclass).
  bool is_number() const {
    return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat;
  }
  // bool or int.
  bool is_integral() const { return kind_ == Kind::kBool || kind_ == Kind::kInt; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && flag_; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && flag_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // REQUIRES: the matching kind.
  bool as_bool() const { return b_; }
  // REQUIRES: is_integral().
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  // REQUIRES: is_number().
  double as_double() const;
  const std::string& as_string() const;
  const ValueList& items() const;
  const class DictData& dict() const;
  Object* object() const;
  std::shared_ptr<Object> object_ptr() const;
  // The message an undefined value raises when used ("'x' is undefined").
  std::string undefined_message() const;
  // Nesting depth of lists/dicts/views (0 for scalars), saturating at 65535. The
  // interpreter caps it so that recursive helpers (repr, ==, json) stay shallow.
  int depth() const { return depth_; }

 private:
  Kind kind_ = Kind::kUndefined;
  bool flag_ = false;  // markup (string), tuple (list)
  uint16_t depth_ = 0;
  union {
    bool b_;
    int64_t i_ = 0;
    double d_;
  };
  // Payload: std::string (string, undefined hint), ListData, DictData or Object.
  // Strings, lists and dicts are never modified after construction.
  std::shared_ptr<void> ptr_;
};

// An insertion-ordered dict with Python key equality (1 == 1.0 == True).
class DictData {
 public:
  using Entry = std::pair<Value, Value>;
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  const Value* Find(const Value& key) const;
  const Value* Find(std::string_view key) const;
  // Inserts or replaces (keeping the first position, as Python does).
  void Set(Value key, Value value);

 private:
  std::vector<Entry> entries_;
};

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Objects other than plain data: namespaces, macros, the loop variable, bound
// methods, builtin functions, generators and dict views.
class Object {
 public:
  virtual ~Object() = default;
  // Python's type name, used in messages ("namespace", "generator", "function").
  virtual std::string TypeName() const = 0;
  // Jinja's object_type_repr ("jinja2.utils.Namespace object").
  virtual std::string TypeReprForMessages() const { return TypeName() + " object"; }
  // str() / repr().
  virtual std::string Repr() const { return "<" + TypeName() + " object>"; }
  // Attribute lookup; nullopt when there is no such attribute.
  virtual std::optional<Value> GetAttr(std::string_view /*name*/) const { return std::nullopt; }
  virtual bool callable() const { return false; }
  virtual Result<Value> Call(Interpreter& in, CallArgs args) const;
  virtual bool Truthy() const { return true; }
  // Nesting depth of the values it holds (see Value::depth()).
  virtual int depth() const { return 0; }
  // Drops the values and scopes it holds. Called on every object that can be part of
  // a reference cycle (ns.x = ns, a macro stored in its own scope) when a render
  // ends, so that shared pointers never leak.
  virtual void Release() {}
};

// A namespace() object: the one mutable value ({% set ns.x = ... %}).
class NamespaceObject final : public Object {
 public:
  explicit NamespaceObject(DictData attrs) : attrs_(std::move(attrs)) {}
  std::string TypeName() const override { return "Namespace"; }
  std::string TypeReprForMessages() const override { return "jinja2.utils.Namespace object"; }
  std::string Repr() const override;  // guards against cycles (ns.x = ns)
  std::optional<Value> GetAttr(std::string_view name) const override;
  void SetAttr(std::string_view name, Value v) { attrs_.Set(Value::String(std::string(name)), v); }
  const DictData& attrs() const { return attrs_; }
  void Release() override { attrs_ = DictData(); }

 private:
  DictData attrs_;
  mutable bool in_repr_ = false;
};

// Python iterables that are not lists: generators (map, select, items, ...; one pass,
// no len()) and views (dict_items/keys/values, range; reusable, with len()).
class SequenceObject final : public Object {
 public:
  enum class Mode { kGenerator, kView };
  SequenceObject(std::string type_name, ValueList items, Mode mode, std::string repr = "")
      : type_name_(std::move(type_name)),
        items_(std::move(items)),
        mode_(mode),
        repr_(std::move(repr)) {}
  std::string TypeName() const override { return type_name_; }
  std::string Repr() const override;
  bool Truthy() const override { return mode_ == Mode::kGenerator || !items_.empty(); }
  int depth() const override;
  bool is_generator() const { return mode_ == Mode::kGenerator; }
  bool has_len() const { return mode_ == Mode::kView; }
  size_t size() const { return items_.size(); }
  // The items an iteration sees now: a generator yields its items once, then nothing.
  ValueList Iterate() const;
  const ValueList& peek_items() const { return items_; }

 private:
  std::string type_name_;
  mutable ValueList items_;
  Mode mode_;
  mutable bool consumed_ = false;
  std::string repr_;
};

// Python truthiness.
bool Truthy(const Value& v);
// Python type name of a value ("str", "int", "dict", "NoneType", "Undefined", ...).
std::string TypeName(const Value& v);
// Jinja's object_type_repr, used in "'dict object' has no attribute 'x'".
std::string ObjectTypeRepr(const Value& v);
// str(v): what {{ v }} prints (undefined -> "").
std::string ToStr(const Value& v);
// repr(v).
std::string Repr(const Value& v);
// Python ==.
bool Equals(const Value& a, const Value& b);
// Python <, for sorting and comparisons: -1, 0, 1, or an error for unorderable types.
// `op` names the operator for the message.
Result<int> Compare(const Value& a, const Value& b, std::string_view op = "<");
// Python hashability (for dict keys and `in` on dicts).
bool Hashable(const Value& v);

}  // namespace cellar::jinja
