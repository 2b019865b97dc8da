// Jinja's built-in tests (jinja2/tests.py, 3.1): `x is defined`, `x is string`, ...
#include <cmath>

#include "jinja/builtins.h"
#include "jinja/interpreter.h"
#include "jinja/operators.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

namespace {

Result<Value> One(std::string_view name, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs(name, args, {Required("other")}));
  return a[0];
}

Status NoArgs(std::string_view name, CallArgs& args) { return BindArgs(name, args, {}).status(); }

#define CELLAR_SIMPLE_TEST(fn, name, expr)                        \
  Result<bool> fn(Interpreter&, const Value& v, CallArgs& args) { \
    CELLAR_RETURN_IF_ERROR(NoArgs(name, args));                   \
    return (expr);                                                \
  }

CELLAR_SIMPLE_TEST(TestDefined, "defined", !v.is_undefined())
CELLAR_SIMPLE_TEST(TestUndefined, "undefined", v.is_undefined())
CELLAR_SIMPLE_TEST(TestNone, "none", v.is_none())
CELLAR_SIMPLE_TEST(TestBoolean, "boolean", v.is_bool())
CELLAR_SIMPLE_TEST(TestTrue, "true", v.is_bool() && v.as_bool())
CELLAR_SIMPLE_TEST(TestFalse, "false", v.is_bool() && !v.as_bool())
CELLAR_SIMPLE_TEST(TestInteger, "integer", v.is_int())
CELLAR_SIMPLE_TEST(TestFloat, "float", v.is_float())
CELLAR_SIMPLE_TEST(TestNumber, "number", v.is_number())
CELLAR_SIMPLE_TEST(TestString, "string", v.is_string())
CELLAR_SIMPLE_TEST(TestMapping, "mapping", v.is_dict())
CELLAR_SIMPLE_TEST(TestEscaped, "escaped", v.is_markup())
CELLAR_SIMPLE_TEST(TestLower, "lower", PyIsLower(ToStr(v)))
CELLAR_SIMPLE_TEST(TestUpper, "upper", PyIsUpper(ToStr(v)))

#undef CELLAR_SIMPLE_TEST

Result<bool> TestCallable(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("callable", args));
  // Jinja's Undefined defines __call__ (to raise), so callable() is true for it.
  return v.is_undefined() || (v.is_object() && v.object()->callable());
}

Result<bool> TestSequence(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("sequence", args));
  // len(v) and v.__getitem__ both exist.
  if (v.is_string() || v.is_list() || v.is_dict() || v.is_undefined()) return true;
  if (v.is_object()) {
    if (auto* seq = dynamic_cast<SequenceObject*>(v.object())) {
      return seq->TypeName() == "range";
    }
  }
  return false;
}

Result<bool> TestIterable(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("iterable", args));
  if (v.is_string() || v.is_list() || v.is_dict() || v.is_undefined()) return true;
  return v.is_object() && dynamic_cast<SequenceObject*>(v.object()) != nullptr;
}

Result<bool> TestOddEven(const Value& v, bool want_odd) {
  if (!v.is_integral()) {
    if (v.is_undefined()) return InvalidArgument(v.undefined_message());
    if (v.is_float()) {
      const double r = std::fmod(v.as_double(), 2.0);
      return want_odd ? (r == 1.0 || r == -1.0) : r == 0.0;
    }
    return InvalidArgument("unsupported operand type(s) for %: '" + TypeName(v) + "' and 'int'");
  }
  const bool odd = (v.as_int() % 2) != 0;
  return want_odd ? odd : !odd;
}

Result<bool> TestOdd(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("odd", args));
  return TestOddEven(v, true);
}

Result<bool> TestEven(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("even", args));
  return TestOddEven(v, false);
}

Result<bool> TestDivisibleby(Interpreter& in, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(Value num, One("divisibleby", args));
  CELLAR_ASSIGN_OR_RETURN(Value r,
                          BinaryOperation(BinaryOp::kMod, v, num, in.limits().max_output_bytes));
  return r.is_number() && r.as_double() == 0.0;
}

Result<bool> CompareTest(const Value& v, CallArgs& args, std::string_view name, CompareOp op) {
  CELLAR_ASSIGN_OR_RETURN(Value other, One(name, args));
  return CompareOperation(op, v, other);
}

Result<bool> TestEq(Interpreter&, const Value& v, CallArgs& args) {
  return CompareTest(v, args, "eq", CompareOp::kEq);
}
Result<bool> TestNe(Interpreter&, const Value& v, CallArgs& args) {
  return CompareTest(v, args, "ne", CompareOp::kNe);
}
Result<bool> TestLt(Interpreter&, const Value& v, CallArgs& args) {
  return CompareTest(v, args, "lt", CompareOp::kLt);
}
Result<bool> TestLe(Interpreter&, const Value& v, CallArgs& args) {
  return CompareTest(v, args, "le", CompareOp::kLe);
}
Result<bool> TestGt(Interpreter&, const Value& v, CallArgs& args) {
  return CompareTest(v, args, "gt", CompareOp::kGt);
}
Result<bool> TestGe(Interpreter&, const Value& v, CallArgs& args) {
  return CompareTest(v, args, "ge", CompareOp::kGe);
}

Result<bool> TestIn(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(Value seq, One("in", args));
  return Contains(seq, v);
}

Result<bool> TestSameas(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_ASSIGN_OR_RETURN(Value other, One("sameas", args));
  // Python identity: None/True/False and small ints are singletons; containers and
  // objects are the same when they are the same object.
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kUndefined:
      return v.is_none();
    case Value::Kind::kBool:
      return v.as_bool() == other.as_bool();
    case Value::Kind::kInt:
      return v.as_int() == other.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
    case Value::Kind::kString:
      return &v.as_string() == &other.as_string();
    case Value::Kind::kList:
      return &v.items() == &other.items();
    case Value::Kind::kDict:
      return &v.dict() == &other.dict();
    case Value::Kind::kObject:
      return v.object() == other.object();
    default:
      return false;
  }
}

Result<bool> TestFilter(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("filter", args));
  return v.is_string() && FindFilter(v.as_string()) != nullptr;
}

Result<bool> TestTest(Interpreter&, const Value& v, CallArgs& args) {
  CELLAR_RETURN_IF_ERROR(NoArgs("test", args));
  return v.is_string() && FindTest(v.as_string()) != nullptr;
}

constexpr TestDef kTests[] = {
    {"!=", TestNe},
    {"<", TestLt},
    {"<=", TestLe},
    {"==", TestEq},
    {">", TestGt},
    {">=", TestGe},
    {"boolean", TestBoolean},
    {"callable", TestCallable},
    {"defined", TestDefined},
    {"divisibleby", TestDivisibleby},
    {"eq", TestEq},
    {"equalto", TestEq},
    {"escaped", TestEscaped},
    {"even", TestEven},
    {"false", TestFalse},
    {"filter", TestFilter},
    {"float", TestFloat},
    {"ge", TestGe},
    {"greaterthan", TestGt},
    {"gt", TestGt},
    {"in", TestIn},
    {"integer", TestInteger},
    {"iterable", TestIterable},
    {"le", TestLe},
    {"lessthan", TestLt},
    {"lower", TestLower},
    {"lt", TestLt},
    {"mapping", TestMapping},
    {"ne", TestNe},
    {"none", TestNone},
    {"number", TestNumber},
    {"odd", TestOdd},
    {"sameas", TestSameas},
    {"sequence", TestSequence},
    {"string", TestString},
    {"test", TestTest},
    {"true", TestTrue},
    {"undefined", TestUndefined},
    {"upper", TestUpper},
};

}  // namespace

const TestDef* FindTest(std::string_view name) {
  for (const TestDef& t : kTests) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace cellar::jinja
