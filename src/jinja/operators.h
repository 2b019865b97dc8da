// Python semantics of the operations a template performs on values: arithmetic,
// comparison, membership, iteration, len(), and Jinja's sandboxed attribute and
// item access (environment.getattr / getitem: a missing key is an undefined value,
// a mutating method is "unsafe").
//
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "jinja/ast.h"
#include "jinja/value.h"

namespace cellar::jinja {

// a op b for + - * / // % ** (not and/or). Strings and lists built by + and *
// may not pass `max_bytes` (list items count as 16 bytes each).
Result<Value> BinaryOperation(BinaryOp op, const Value& a, const Value& b, size_t max_bytes);
Result<Value> Negate(const Value& v);
Result<Value> UnaryPlus(const Value& v);
Result<bool> CompareOperation(CompareOp op, const Value& a, const Value& b);

// `item in container`.
Result<bool> Contains(const Value& container, const Value& item);
// iter(v): list/tuple items, dict keys, str code points; undefined is empty.
Result<ValueList> Iterate(const Value& v);
// len(v); undefined has length 0.
Result<int64_t> Length(const Value& v);

// Jinja's sandboxed getattr (x.name) and getitem (x[key]).
Result<Value> GetAttr(const Value& obj, std::string_view name);
Result<Value> GetItem(const Value& obj, const Value& key);
// x[start:stop:step] on str, list and tuple (anything else gives undefined).
Result<Value> GetSlice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// "'dict object' has no attribute 'x'", as Jinja's Undefined words it.
Value MissingAttribute(const Value& obj, std::string_view name);

}  // namespace cellar::jinja
