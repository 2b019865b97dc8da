// Internal to the filter files (filters.cc: strings and numbers, plus the table;
// filters_sequence.cc: lists, dicts and iteration): shared helpers and the filter
// functions the table refers to.
#pragma once

#include <string>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"

namespace cellar::jinja::filters_internal {

// soft_str: strings (and Markup) as they are, anything else through str().
Value SoftStr(const Value& v);
// Lowercases strings (the case_sensitive=False key of sort, unique, min, max).
Result<Value> IgnoreCase(const Value& v);
// "a.b.0" -> ["a", "b", 0]; an int attribute -> [int]; None -> [].
ValueList AttributeParts(const Value& attribute);
// make_attrgetter: item[part][part]..., `default_value` replacing undefined results.
Result<Value> GetAttribute(const Value& item, const ValueList& parts, const Value* default_value,
                           bool ignore_case);
// A one-pass generator value of `items`.
Value Generator(std::string name, ValueList items);
// iter(v), counting the items against the render's step budget.
Result<ValueList> IterateCounted(Interpreter& in, const Value& v);
Status CheckString(Interpreter& in, const std::string& s);

Result<Value> FilterBatch(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterDictsort(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterFirst(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterLast(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterItems(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterJoin(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterLength(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterList(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterMap(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterMax(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterMin(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterSelect(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterReject(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterSelectattr(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterRejectattr(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterReverse(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterSlice(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterSort(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterSum(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterUnique(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterAbs(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterAttr(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterCapitalize(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterCenter(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterDefault(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterEscape(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterForceescape(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterFloat(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterFormat(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterIndent(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterInt(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterLower(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterUpper(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterReplace(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterRound(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterSafe(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterString(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterTitle(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterTojson(Interpreter& in, const Value& v, CallArgs& args);
Result<Value> FilterTrim(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterTruncate(Interpreter&, const Value& v, CallArgs& args);
Result<Value> FilterWordcount(Interpreter&, const Value& v, CallArgs& args);

}  // namespace cellar::jinja::filters_internal
