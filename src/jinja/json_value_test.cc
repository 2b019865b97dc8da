#include "jinja/json_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cellar::jinja {
namespace {

using Json = nlohmann::ordered_json;

std::string Dumps(const Value& v, JsonDumpOptions o = {}) {
  Result<std::string> r = PyJsonDumps(v, o, 1 << 20);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

Value FromJson(std::string_view text) { return ValueFromJson(Json::parse(text)).value(); }

TEST(JsonValue, KeepsKeyOrderAndTypes) {
  const Value v = FromJson(R"({"z": 1, "a": [1.0, 2, null, true, "é"], "m": {"y": -0.0}})");
  // Python: json.dumps(json.loads(text), ensure_ascii=False)
  EXPECT_EQ(Dumps(v), R"({"z": 1, "a": [1.0, 2, null, true, "é"], "m": {"y": -0.0}})");
  EXPECT_EQ(ToStr(v), "{'z': 1, 'a': [1.0, 2, None, True, 'é'], 'm': {'y': -0.0}}");
}

TEST(JsonValue, PythonSeparatorsAndIndent) {
  const Value v = FromJson(R"({"a": [1, {"b": []}], "c": {}})");
  EXPECT_EQ(Dumps(v), R"({"a": [1, {"b": []}], "c": {}})");
  JsonDumpOptions two;
  two.indent = "  ";
  EXPECT_EQ(Dumps(v, two),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}");
  JsonDumpOptions zero;
  zero.indent = "";
  EXPECT_EQ(Dumps(FromJson("[1, 2]"), zero), "[\n1,\n2\n]");
  JsonDumpOptions compact;
  compact.item_separator = ",";
  compact.key_separator = ":";
  EXPECT_EQ(Dumps(v, compact), R"({"a":[1,{"b":[]}],"c":{}})");
}

TEST(JsonValue, StringEscaping) {
  // ensure_ascii=False: only ", \ and control characters are escaped; <>&' stay.
  EXPECT_EQ(Dumps(Value::String("a\"b\\c\n\t\r\b\f\x01\x1f<>&'\x7f é 😀")),
            "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f<>&'\x7f é 😀\"");
  JsonDumpOptions ascii;
  ascii.ensure_ascii = true;
  EXPECT_EQ(Dumps(Value::String("é😀\x7f"), ascii), "\"\\u00e9\\ud83d\\ude00\\u007f\"");
}

TEST(JsonValue, Floats) {
  EXPECT_EQ(Dumps(FromJson("[1.5, 1e16, 1e-7, 100.0, 0.1]")), "[1.5, 1e+16, 1e-07, 100.0, 0.1]");
  EXPECT_EQ(Dumps(Value::List({Value::Float(std::numeric_limits<double>::infinity()),
                               Value::Float(-std::numeric_limits<double>::infinity()),
                               Value::Float(std::nan(""))})),
            "[Infinity, -Infinity, NaN]");
}

TEST(JsonValue, SortKeysAndKeyTypes) {
  DictData d;
  d.Set(Value::Int(2), Value::String("int"));
  d.Set(Value::Bool(true), Value::String("bool"));
  d.Set(Value::None(), Value::String("none"));
  d.Set(Value::Float(1.5), Value::String("float"));
  EXPECT_EQ(Dumps(Value::Dict(d)),
            R"({"2": "int", "true": "bool", "null": "none", "1.5": "float"})");
  JsonDumpOptions sorted;
  sorted.sort_keys = true;
  EXPECT_EQ(Dumps(FromJson(R"({"b": 1, "a": 2, "B": 3})"), sorted), R"({"B": 3, "a": 2, "b": 1})");
  DictData mixed;
  mixed.Set(Value::Int(1), Value::Int(1));
  mixed.Set(Value::String("a"), Value::Int(1));
  EXPECT_EQ(Dumps(Value::Dict(mixed), sorted),
            "ERROR: '<' not supported between instances of 'str' and 'int'");
  DictData tuple_key;
  tuple_key.Set(Value::Tuple({Value::Int(1)}), Value::Int(1));
  EXPECT_EQ(Dumps(Value::Dict(tuple_key)),
            "ERROR: keys must be str, int, float, bool or None, not tuple");
}

TEST(JsonValue, UnserializableValues) {
  EXPECT_EQ(Dumps(Value()), "ERROR: Object of type Undefined is not JSON serializable");
  EXPECT_EQ(Dumps(Value::Obj(std::make_shared<SequenceObject>("generator", ValueList{},
                                                              SequenceObject::Mode::kGenerator))),
            "ERROR: Object of type generator is not JSON serializable");
  EXPECT_EQ(Dumps(Value::Tuple({Value::Int(1)})), "[1]");
}

TEST(JsonValue, InputLimits) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  Result<Value> r = ValueFromJson(Json::parse(deep));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "JSON input nested deeper than 128");
  // Unsigned values past int64 become floats.
  EXPECT_EQ(ToStr(FromJson("[18446744073709551615]")), "[1.8446744073709552e+19]");
  // Output limit.
  Result<std::string> big = PyJsonDumps(Value::String(std::string(100, 'x')), {}, 50);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace cellar::jinja
