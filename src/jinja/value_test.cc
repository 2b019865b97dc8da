#include "jinja/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "jinja/py_string.h"

namespace cellar::jinja {
namespace {

TEST(PyFloatRepr, MatchesPythonRepr) {
  // Expected strings are CPython's repr(float).
  EXPECT_EQ(PyFloatRepr(1.0), "1.0");
  EXPECT_EQ(PyFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PyFloatRepr(0.1), "0.1");
  EXPECT_EQ(PyFloatRepr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(PyFloatRepr(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(PyFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PyFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(PyFloatRepr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(PyFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PyFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PyFloatRepr(1.5e-7), "1.5e-07");
  EXPECT_EQ(PyFloatRepr(2.5e-300), "2.5e-300");
  EXPECT_EQ(PyFloatRepr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(PyFloatRepr(5e-324), "5e-324");
  EXPECT_EQ(PyFloatRepr(100.0), "100.0");
  EXPECT_EQ(PyFloatRepr(123.456), "123.456");
  EXPECT_EQ(PyFloatRepr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(PyFloatRepr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(PyFloatRepr(std::nan("")), "nan");
}

TEST(Value, StrAndRepr) {
  const Value list =
      Value::List({Value::Int(1), Value::String("it's"), Value::None(), Value::Bool(true),
                   Value::Float(2.0), Value::Tuple({Value::String("x")})});
  EXPECT_EQ(ToStr(list), "[1, \"it's\", None, True, 2.0, ('x',)]");
  DictData d;
  d.Set(Value::String("b"), Value::Int(1));
  d.Set(Value::String("a"), Value::String("é\n"));
  d.Set(Value::String("b"), Value::Int(2));  // replaced in place
  EXPECT_EQ(ToStr(Value::Dict(d)), "{'b': 2, 'a': 'é\\n'}");
  EXPECT_EQ(ToStr(Value::Tuple({})), "()");
  EXPECT_EQ(ToStr(Value()), "");
  EXPECT_EQ(Repr(Value()), "Undefined");
  EXPECT_EQ(ToStr(Value::Markup("<b>")), "<b>");
  EXPECT_EQ(Repr(Value::Markup("<b>")), "Markup('<b>')");
}

TEST(Value, PythonEquality) {
  EXPECT_TRUE(Equals(Value::Int(1), Value::Float(1.0)));
  EXPECT_TRUE(Equals(Value::Bool(true), Value::Int(1)));
  EXPECT_FALSE(Equals(Value::Int(1), Value::String("1")));
  EXPECT_FALSE(Equals(Value::None(), Value::Bool(false)));
  EXPECT_TRUE(Equals(Value(), Value::Undefined("other hint")));
  EXPECT_FALSE(Equals(Value::List({Value::Int(1)}), Value::Tuple({Value::Int(1)})));
  EXPECT_TRUE(Equals(Value::String("a"), Value::Markup("a")));
  // Exact int/float comparison, as Python (no rounding through double).
  EXPECT_FALSE(Equals(Value::Int(9007199254740993), Value::Float(9007199254740992.0)));
  DictData x, y;
  x.Set(Value::String("a"), Value::Int(1));
  x.Set(Value::String("b"), Value::Int(2));
  y.Set(Value::String("b"), Value::Int(2));
  y.Set(Value::String("a"), Value::Float(1.0));
  EXPECT_TRUE(Equals(Value::Dict(x), Value::Dict(y)));
}

TEST(Value, PythonOrdering) {
  EXPECT_EQ(Compare(Value::Int(1), Value::Float(1.5)).value(), -1);
  EXPECT_EQ(Compare(Value::String("b"), Value::String("a")).value(), 1);
  EXPECT_EQ(Compare(Value::List({Value::Int(1), Value::Int(2)}),
                    Value::List({Value::Int(1), Value::Int(3)}))
                .value(),
            -1);
  EXPECT_EQ(Compare(Value::Float(std::nan("")), Value::Int(1)).value(), 2);  // unordered
  Result<int> bad = Compare(Value::Int(1), Value::String("a"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "'<' not supported between instances of 'int' and 'str'");
  EXPECT_FALSE(Compare(Value::Undefined("'x' is undefined"), Value::Int(1)).ok());
}

TEST(Value, Truthiness) {
  EXPECT_FALSE(Truthy(Value()));
  EXPECT_FALSE(Truthy(Value::None()));
  EXPECT_FALSE(Truthy(Value::Int(0)));
  EXPECT_FALSE(Truthy(Value::Float(0.0)));
  EXPECT_FALSE(Truthy(Value::String("")));
  EXPECT_FALSE(Truthy(Value::List({})));
  EXPECT_FALSE(Truthy(Value::Dict(DictData())));
  EXPECT_TRUE(Truthy(Value::String(" ")));
  // A generator is truthy even when empty, as in Python.
  EXPECT_TRUE(Truthy(Value::Obj(std::make_shared<SequenceObject>(
      "generator", ValueList{}, SequenceObject::Mode::kGenerator))));
}

TEST(Value, GeneratorsAreSinglePass) {
  auto gen = std::make_shared<SequenceObject>("generator", ValueList{Value::Int(1), Value::Int(2)},
                                              SequenceObject::Mode::kGenerator);
  EXPECT_EQ(gen->Iterate().size(), 2u);
  EXPECT_EQ(gen->Iterate().size(), 0u);
  auto view = std::make_shared<SequenceObject>("dict_keys", ValueList{Value::String("a")},
                                               SequenceObject::Mode::kView);
  EXPECT_EQ(view->Iterate().size(), 1u);
  EXPECT_EQ(view->Iterate().size(), 1u);
  EXPECT_EQ(view->Repr(), "dict_keys(['a'])");
}

TEST(Value, DepthIsTracked) {
  Value v = Value::Int(1);
  for (int i = 0; i < 10; ++i) v = Value::List({v});
  EXPECT_EQ(v.depth(), 10);
  DictData d;
  d.Set(Value::String("k"), v);
  EXPECT_EQ(Value::Dict(d).depth(), 11);
}

TEST(Value, NamespaceReprSurvivesCycles) {
  auto ns = std::make_shared<NamespaceObject>(DictData());
  ns->SetAttr("self", Value::Obj(ns));
  EXPECT_EQ(ns->Repr(), "<Namespace {'self': <Namespace {...}>}>");
  ns->Release();  // breaks the cycle so the test does not leak
}

}  // namespace
}  // namespace cellar::jinja
