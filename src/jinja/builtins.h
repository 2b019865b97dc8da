// The built-in vocabulary of templates: filters (x | name), tests (x is name),
// methods of str/dict/list (x.strip()), and globals (namespace, range,
// raise_exception, strftime_now, ...). Each kind lives in its own file
// (filters.cc, tests.cc, methods.cc, globals.cc); this header is their registry.
//
// The tables are constant; lookups are thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jinja/value.h"

namespace cellar::jinja {

class Interpreter;

using FilterFn = Result<Value> (*)(Interpreter& in, const Value& input, CallArgs& args);
struct FilterDef {
  std::string_view name;
  FilterFn fn;
};
// nullptr when there is no such filter.
const FilterDef* FindFilter(std::string_view name);

using TestFn = Result<bool> (*)(Interpreter& in, const Value& v, CallArgs& args);
struct TestDef {
  std::string_view name;
  TestFn fn;
};
const TestDef* FindTest(std::string_view name);

// Python attribute lookup of a method on a str, list, tuple or dict: a bound method
// object; for mutating methods (list.append, dict.pop, ...) an undefined value whose
// use fails like the sandbox ("access to attribute 'append' of 'list' object is
// unsafe."); nullopt when the type has no such attribute.
std::optional<Value> LookupMethod(const Value& self, std::string_view name);

// The template globals (namespace, range, dict, cycler, joiner, raise_exception,
// strftime_now) added to `globals`.
void AddGlobals(DictData* globals);

// ---- argument binding for built-ins ----

// One parameter of a built-in: required (no default) or with a default.
struct Param {
  std::string_view name;
  std::optional<Value> default_value;
};
inline Param Required(std::string_view name) { return Param{name, std::nullopt}; }
inline Param Optional(std::string_view name, Value def) { return Param{name, std::move(def)}; }

// Binds `args` to `params` like a Python call: positional first, then keywords by
// name, then defaults. Errors name `function`. Extra positional or unknown keyword
// arguments are errors unless `rest` receives them.
Result<ValueList> BindArgs(std::string_view function, const CallArgs& args,
                           std::initializer_list<Param> params, CallArgs* rest = nullptr);

// A callable implemented in C++ (globals, loop.cycle, joiner(), ...).
class BuiltinFunction final : public Object {
 public:
  using Fn = std::function<Result<Value>(Interpreter&, CallArgs)>;
  BuiltinFunction(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string TypeName() const override { return "builtin_function_or_method"; }
  std::string Repr() const override { return "<built-in function " + name_ + ">"; }
  bool callable() const override { return true; }
  Result<Value> Call(Interpreter& in, CallArgs args) const override {
    return fn_(in, std::move(args));
  }

 private:
  std::string name_;
  Fn fn_;
};

// A stable merge sort that stays in bounds even when `less` is not a strict weak
// order (Python sorts mixed or NaN keys without crashing; so must we).
template <typename T, typename Less>
void RobustStableSort(std::vector<T>& v, Less less) {
  if (v.size() < 2) return;
  std::vector<T> buf(v.size());
  for (size_t width = 1; width < v.size(); width *= 2) {
    for (size_t lo = 0; lo < v.size(); lo += 2 * width) {
      const size_t mid = std::min(lo + width, v.size());
      const size_t hi = std::min(lo + 2 * width, v.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) buf[k++] = less(v[j], v[i]) ? std::move(v[j++]) : std::move(v[i++]);
      while (i < mid) buf[k++] = std::move(v[i++]);
      while (j < hi) buf[k++] = std::move(v[j++]);
    }
    v.swap(buf);
  }
}

}  // namespace cellar::jinja
