// The expression half of the parser: Jinja's precedence climbing from conditional
// expressions down to primaries, postfix subscripts/calls, filters and tests.
#include "jinja/builtins.h"
#include "jinja/parser_impl.h"

namespace cellar::jinja::parser_internal {

bool Parser::IsTupleEnd(std::initializer_list<std::string_view> extra_end) const {
  const TokenRef c = Cur();
  if (c.type_is(TokenType::kVariableEnd) || c.type_is(TokenType::kBlockEnd) || c.is_op(")")) {
    return true;
  }
  for (std::string_view e : extra_end) {
    if (c.is_name(e)) return true;
  }
  return false;
}

Result<ExprPtr> Parser::ParseTuple(bool simplified, bool with_condexpr,
                                   std::initializer_list<std::string_view> extra_end,
                                   bool explicit_parentheses) {
  const TokenRef start = Cur();
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    if (IsTupleEnd(extra_end)) break;
    ExprPtr e;
    if (simplified) {
      CELLAR_ASSIGN_OR_RETURN(e, ParsePrimary());
    } else {
      CELLAR_ASSIGN_OR_RETURN(e, ParseExpression(with_condexpr));
    }
    items.push_back(std::move(e));
    if (Cur().is_op(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) {
      return Fail(Cur(), "Expected an expression, got " + Describe(Cur()));
    }
  }
  auto t = MakeExpr(ExprKind::kTuple, start.t->offset);
  t->items = std::move(items);
  return t;
}

Result<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  if (with_condexpr) return ParseCondExpr();
  return ParseOr();
}

Result<ExprPtr> Parser::ParseCondExpr() {
  DepthGuard guard(this);
  CELLAR_RETURN_IF_ERROR(CheckDepth());
  const uint32_t offset = Cur().t->offset;
  CELLAR_ASSIGN_OR_RETURN(ExprPtr expr1, ParseOr());
  while (Cur().is_name("if")) {
    Next();
    auto e = MakeExpr(ExprKind::kCondExpr, offset);
    CELLAR_ASSIGN_OR_RETURN(e->b, ParseOr());  // test
    if (Cur().is_name("else")) {
      Next();
      CELLAR_ASSIGN_OR_RETURN(e->c, ParseCondExpr());
    }
    e->a = std::move(expr1);  // value when true
    expr1 = std::move(e);
  }
  return expr1;
}

Result<ExprPtr> Parser::ParseOr() {
  CELLAR_ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
  while (Cur().is_name("or")) {
    const uint32_t offset = Cur().t->offset;
    Next();
    auto e = MakeExpr(ExprKind::kBinary, offset);
    e->binary_op = BinaryOp::kOr;
    e->a = std::move(left);
    CELLAR_ASSIGN_OR_RETURN(e->b, ParseAnd());
    left = std::move(e);
  }
  return left;
}

Result<ExprPtr> Parser::ParseAnd() {
  CELLAR_ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
  while (Cur().is_name("and")) {
    const uint32_t offset = Cur().t->offset;
    Next();
    auto e = MakeExpr(ExprKind::kBinary, offset);
    e->binary_op = BinaryOp::kAnd;
    e->a = std::move(left);
    CELLAR_ASSIGN_OR_RETURN(e->b, ParseNot());
    left = std::move(e);
  }
  return left;
}

Result<ExprPtr> Parser::ParseNot() {
  if (Cur().is_name("not")) {
    DepthGuard guard(this);
    CELLAR_RETURN_IF_ERROR(CheckDepth());
    auto e = MakeExpr(ExprKind::kNot, Cur().t->offset);
    Next();
    CELLAR_ASSIGN_OR_RETURN(e->a, ParseNot());
    return e;
  }
  return ParseCompare();
}

Result<ExprPtr> Parser::ParseCompare() {
  const uint32_t offset = Cur().t->offset;
  CELLAR_ASSIGN_OR_RETURN(ExprPtr expr, ParseMath1());
  std::vector<std::pair<CompareOp, ExprPtr>> ops;
  while (true) {
    CompareOp op;
    const TokenRef c = Cur();
    if (c.is_op("==")) {
      op = CompareOp::kEq;
    } else if (c.is_op("!=")) {
      op = CompareOp::kNe;
    } else if (c.is_op("<")) {
      op = CompareOp::kLt;
    } else if (c.is_op("<=")) {
      op = CompareOp::kLe;
    } else if (c.is_op(">")) {
      op = CompareOp::kGt;
    } else if (c.is_op(">=")) {
      op = CompareOp::kGe;
    } else if (c.is_name("in")) {
      op = CompareOp::kIn;
    } else if (c.is_name("not") && Look().is_name("in")) {
      op = CompareOp::kNotIn;
      Next();
    } else {
      break;
    }
    Next();
    CELLAR_ASSIGN_OR_RETURN(ExprPtr rhs, ParseMath1());
    ops.emplace_back(op, std::move(rhs));
  }
  if (ops.empty()) return expr;
  auto e = MakeExpr(ExprKind::kCompare, offset);
  e->a = std::move(expr);
  e->comparisons = std::move(ops);
  return e;
}

Result<ExprPtr> Parser::ParseMath1() {
  CELLAR_ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
  while (Cur().is_op("+") || Cur().is_op("-")) {
    const BinaryOp op = Cur().is_op("+") ? BinaryOp::kAdd : BinaryOp::kSub;
    auto e = MakeExpr(ExprKind::kBinary, Cur().t->offset);
    Next();
    e->binary_op = op;
    e->a = std::move(left);
    CELLAR_ASSIGN_OR_RETURN(e->b, ParseConcat());
    left = std::move(e);
  }
  return left;
}

Result<ExprPtr> Parser::ParseConcat() {
  const uint32_t offset = Cur().t->offset;
  CELLAR_ASSIGN_OR_RETURN(ExprPtr first, ParseMath2());
  if (!Cur().is_op("~")) return first;
  auto e = MakeExpr(ExprKind::kConcat, offset);
  e->items.push_back(std::move(first));
  while (Cur().is_op("~")) {
    Next();
    CELLAR_ASSIGN_OR_RETURN(ExprPtr next, ParseMath2());
    e->items.push_back(std::move(next));
  }
  return e;
}

Result<ExprPtr> Parser::ParseMath2() {
  CELLAR_ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
  while (true) {
    BinaryOp op;
    if (Cur().is_op("*")) {
      op = BinaryOp::kMul;
    } else if (Cur().is_op("/")) {
      op = BinaryOp::kDiv;
    } else if (Cur().is_op("//")) {
      op = BinaryOp::kFloorDiv;
    } else if (Cur().is_op("%")) {
      op = BinaryOp::kMod;
    } else {
      break;
    }
    auto e = MakeExpr(ExprKind::kBinary, Cur().t->offset);
    Next();
    e->binary_op = op;
    e->a = std::move(left);
    CELLAR_ASSIGN_OR_RETURN(e->b, ParsePow());
    left = std::move(e);
  }
  return left;
}

Result<ExprPtr> Parser::ParsePow() {
  CELLAR_ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
  while (Cur().is_op("**")) {
    auto e = MakeExpr(ExprKind::kBinary, Cur().t->offset);
    Next();
    e->binary_op = BinaryOp::kPow;
    e->a = std::move(left);
    CELLAR_ASSIGN_OR_RETURN(e->b, ParseUnary(true));
    left = std::move(e);
  }
  return left;
}

Result<ExprPtr> Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(this);
  CELLAR_RETURN_IF_ERROR(CheckDepth());
  ExprPtr node;
  if (Cur().is_op("-") || Cur().is_op("+")) {
    node = MakeExpr(Cur().is_op("-") ? ExprKind::kNeg : ExprKind::kPos, Cur().t->offset);
    Next();
    CELLAR_ASSIGN_OR_RETURN(node->a, ParseUnary(false));
  } else {
    CELLAR_ASSIGN_OR_RETURN(node, ParsePrimary());
  }
  CELLAR_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filter) {
    CELLAR_ASSIGN_OR_RETURN(node, ParseFilterExpr(std::move(node)));
  }
  return node;
}

Result<ExprPtr> Parser::ParsePrimary() {
  const TokenRef c = Cur();
  const Token& t = *c.t;
  switch (t.type) {
    case TokenType::kName: {
      ExprPtr e;
      if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
        e = MakeExpr(ExprKind::kConst, t.offset);
        e->value = Value::Bool(t.text[0] == 't' || t.text[0] == 'T');
      } else if (t.text == "none" || t.text == "None") {
        e = MakeExpr(ExprKind::kConst, t.offset);
        e->value = Value::None();
      } else {
        e = MakeExpr(ExprKind::kName, t.offset);
        e->name = t.text;
        NoteName(t.text);
      }
      Next();
      return e;
    }
    case TokenType::kString: {
      auto e = MakeExpr(ExprKind::kConst, t.offset);
      std::string s;
      while (Cur().type_is(TokenType::kString)) {
        s += Cur().t->text;
        Next();
      }
      e->value = Value::String(std::move(s));
      return e;
    }
    case TokenType::kInteger: {
      auto e = MakeExpr(ExprKind::kConst, t.offset);
      e->value = Value::Int(t.int_value);
      Next();
      return e;
    }
    case TokenType::kFloat: {
      auto e = MakeExpr(ExprKind::kConst, t.offset);
      e->value = Value::Float(t.float_value);
      Next();
      return e;
    }
    case TokenType::kOperator:
      if (t.text == "(") {
        Next();
        CELLAR_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(false, true, {}, true));
        CELLAR_RETURN_IF_ERROR(ExpectOp(")"));
        return e;
      }
      if (t.text == "[") return ParseList();
      if (t.text == "{") return ParseDict();
      break;
    default:
      break;
  }
  return Fail(c, "unexpected " + Describe(c));
}

Result<ExprPtr> Parser::ParseList() {
  auto e = MakeExpr(ExprKind::kList, Cur().t->offset);
  CELLAR_RETURN_IF_ERROR(ExpectOp("["));
  while (!Cur().is_op("]")) {
    if (!e->items.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    if (Cur().is_op("]")) break;
    CELLAR_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression(true));
    e->items.push_back(std::move(item));
  }
  CELLAR_RETURN_IF_ERROR(ExpectOp("]"));
  return e;
}

Result<ExprPtr> Parser::ParseDict() {
  auto e = MakeExpr(ExprKind::kDict, Cur().t->offset);
  CELLAR_RETURN_IF_ERROR(ExpectOp("{"));
  while (!Cur().is_op("}")) {
    if (!e->items.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    if (Cur().is_op("}")) break;
    CELLAR_ASSIGN_OR_RETURN(ExprPtr key, ParseExpression(true));
    CELLAR_RETURN_IF_ERROR(ExpectOp(":"));
    CELLAR_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
    e->items.push_back(std::move(key));
    e->items.push_back(std::move(value));
  }
  CELLAR_RETURN_IF_ERROR(ExpectOp("}"));
  return e;
}

Result<ExprPtr> Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (Cur().is_op(".") || Cur().is_op("[")) {
      CELLAR_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
    } else if (Cur().is_op("(")) {
      CELLAR_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
    } else {
      break;
    }
  }
  return node;
}

Result<ExprPtr> Parser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (Cur().is_op("|")) {
      CELLAR_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), false));
    } else if (Cur().is_name("is")) {
      CELLAR_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
    } else if (Cur().is_op("(")) {
      CELLAR_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
    } else {
      break;
    }
  }
  return node;
}

Result<ExprPtr> Parser::ParseSubscript(ExprPtr node) {
  const TokenRef tok = Cur();
  Next();
  if (tok.is_op(".")) {
    const TokenRef attr = Cur();
    if (attr.type_is(TokenType::kName)) {
      auto e = MakeExpr(ExprKind::kGetattr, tok.t->offset);
      e->a = std::move(node);
      e->name = attr.t->text;
      Next();
      return e;
    }
    if (attr.type_is(TokenType::kInteger)) {
      auto e = MakeExpr(ExprKind::kGetitem, tok.t->offset);
      e->a = std::move(node);
      e->b = MakeExpr(ExprKind::kConst, attr.t->offset);
      e->b->value = Value::Int(attr.t->int_value);
      Next();
      return e;
    }
    return Fail(attr, "expected name or number");
  }
  // '['
  std::vector<ExprPtr> args;
  while (!Cur().is_op("]")) {
    if (!args.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    CELLAR_ASSIGN_OR_RETURN(ExprPtr a, ParseSubscribed());
    args.push_back(std::move(a));
  }
  CELLAR_RETURN_IF_ERROR(ExpectOp("]"));
  auto e = MakeExpr(ExprKind::kGetitem, tok.t->offset);
  e->a = std::move(node);
  if (args.size() == 1) {
    e->b = std::move(args[0]);
  } else {
    e->b = MakeExpr(ExprKind::kTuple, tok.t->offset);
    e->b->items = std::move(args);
  }
  return e;
}

Result<ExprPtr> Parser::ParseSubscribed() {
  const uint32_t offset = Cur().t->offset;
  std::vector<ExprPtr> args;
  if (Cur().is_op(":")) {
    Next();
    args.push_back(nullptr);
  } else {
    CELLAR_ASSIGN_OR_RETURN(ExprPtr node, ParseExpression(true));
    if (!Cur().is_op(":")) return node;
    Next();
    args.push_back(std::move(node));
  }
  if (Cur().is_op(":")) {
    args.push_back(nullptr);
  } else if (!Cur().is_op("]") && !Cur().is_op(",")) {
    CELLAR_ASSIGN_OR_RETURN(ExprPtr stop, ParseExpression(true));
    args.push_back(std::move(stop));
  } else {
    args.push_back(nullptr);
  }
  if (Cur().is_op(":")) {
    Next();
    if (!Cur().is_op("]") && !Cur().is_op(",")) {
      CELLAR_ASSIGN_OR_RETURN(ExprPtr step, ParseExpression(true));
      args.push_back(std::move(step));
    } else {
      args.push_back(nullptr);
    }
  } else {
    args.push_back(nullptr);
  }
  auto e = MakeExpr(ExprKind::kSlice, offset);
  e->items = std::move(args);
  return e;
}

Status Parser::ParseCallArgs(Args* out) {
  const TokenRef open = Cur();
  CELLAR_RETURN_IF_ERROR(ExpectOp("("));
  bool require_comma = false;
  auto invalid = [&] { return Fail(open, "invalid syntax for function call expression"); };
  while (!Cur().is_op(")")) {
    if (require_comma) {
      CELLAR_RETURN_IF_ERROR(ExpectOp(","));
      if (Cur().is_op(")")) break;
    }
    if (Cur().is_op("*")) {
      if (out->star_args || out->star_kwargs) return invalid();
      Next();
      CELLAR_ASSIGN_OR_RETURN(out->star_args, ParseExpression(true));
    } else if (Cur().is_op("**")) {
      if (out->star_kwargs) return invalid();
      Next();
      CELLAR_ASSIGN_OR_RETURN(out->star_kwargs, ParseExpression(true));
    } else if (Cur().type_is(TokenType::kName) && Look().is_op("=")) {
      if (out->star_kwargs) return invalid();
      std::string key = Cur().t->text;
      Next();
      Next();
      CELLAR_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
      out->keyword.emplace_back(std::move(key), std::move(value));
    } else {
      if (out->star_args || out->star_kwargs || !out->keyword.empty()) return invalid();
      CELLAR_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
      out->positional.push_back(std::move(value));
    }
    require_comma = true;
  }
  return ExpectOp(")");
}

Result<ExprPtr> Parser::ParseCall(ExprPtr node) {
  auto e = MakeExpr(ExprKind::kCall, Cur().t->offset);
  e->a = std::move(node);
  CELLAR_RETURN_IF_ERROR(ParseCallArgs(&e->args));
  return e;
}

Result<std::string> Parser::ParseDottedName() {
  CELLAR_ASSIGN_OR_RETURN(std::string name, ExpectName());
  while (Cur().is_op(".")) {
    Next();
    CELLAR_ASSIGN_OR_RETURN(std::string part, ExpectName());
    name += "." + part;
  }
  return name;
}

Result<ExprPtr> Parser::ParseFilter(ExprPtr node, bool start_inline) {
  while (Cur().is_op("|") || start_inline) {
    if (!start_inline) Next();
    start_inline = false;
    const TokenRef at = Cur();
    CELLAR_ASSIGN_OR_RETURN(std::string name, ParseDottedName());
    auto e = MakeExpr(ExprKind::kFilter, at.t->offset);
    e->filter = FindFilter(name);
    if (!e->filter) return Fail(at, "No filter named '" + name + "'.");
    e->name = std::move(name);
    if (Cur().is_op("(")) CELLAR_RETURN_IF_ERROR(ParseCallArgs(&e->args));
    e->a = std::move(node);
    node = std::move(e);
  }
  return node;
}

Result<ExprPtr> Parser::ParseTest(ExprPtr node) {
  const uint32_t offset = Cur().t->offset;
  Next();  // 'is'
  bool negated = false;
  if (Cur().is_name("not")) {
    Next();
    negated = true;
  }
  const TokenRef at = Cur();
  CELLAR_ASSIGN_OR_RETURN(std::string name, ParseDottedName());
  auto e = MakeExpr(ExprKind::kTest, offset);
  e->test = FindTest(name);
  if (!e->test) return Fail(at, "No test named '" + name + "'.");
  e->name = std::move(name);
  e->a = std::move(node);
  const TokenRef c = Cur();
  if (c.is_op("(")) {
    CELLAR_RETURN_IF_ERROR(ParseCallArgs(&e->args));
  } else if ((c.type_is(TokenType::kName) || c.type_is(TokenType::kString) ||
              c.type_is(TokenType::kInteger) || c.type_is(TokenType::kFloat) || c.is_op("[") ||
              c.is_op("{")) &&
             !c.is_name("else") && !c.is_name("or") && !c.is_name("and")) {
    if (c.is_name("is")) return Fail(c, "You cannot chain multiple tests with is");
    CELLAR_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
    CELLAR_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    e->args.positional.push_back(std::move(arg));
  }
  if (!negated) return e;
  auto n = MakeExpr(ExprKind::kNot, offset);
  n->a = std::move(e);
  return n;
}

}  // namespace cellar::jinja::parser_internal
