// Jinja's built-in filters on lists, dicts and iterables (jinja2/filters.py, 3.1):
// batch, dictsort, first, last, items, join, length, list, map, min, max, select,
// reject, selectattr, rejectattr, reverse, slice, sort, sum, unique.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "jinja/filters_internal.h"
#include "jinja/json_value.h"
#include "jinja/operators.h"
#include "jinja/py_format.h"
#include "jinja/py_string.h"

namespace cellar::jinja::filters_internal {

namespace {

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

}  // namespace

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

Result<Value> FilterMax(Interpreter& in, const Value& v, CallArgs& args) {
  return MinMax(in, v, args, true);
}

Result<Value> FilterMin(Interpreter& in, const Value& v, CallArgs& args) {
  return MinMax(in, v, args, false);
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

}  // namespace cellar::jinja::filters_internal
