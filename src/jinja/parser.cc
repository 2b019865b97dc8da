#include "jinja/parser.h"

#include "jinja/builtins.h"
#include "jinja/parser_impl.h"

namespace cellar::jinja {
namespace parser_internal {

Result<Body> Parser::Subparse(std::initializer_list<std::string_view> end_tokens) {
  DepthGuard guard(this);
  CELLAR_RETURN_IF_ERROR(CheckDepth());
  Body body;
  while (!Cur().type_is(TokenType::kEof)) {
    const Token& t = *Cur().t;
    if (t.type == TokenType::kData) {
      auto s = std::make_unique<Stmt>(StmtKind::kData, t.offset);
      s->text = t.text;
      body.push_back(std::move(s));
      Next();
    } else if (t.type == TokenType::kVariableBegin) {
      Next();
      auto s = std::make_unique<Stmt>(StmtKind::kPrint, t.offset);
      CELLAR_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, true, {}, false));
      CELLAR_RETURN_IF_ERROR(ExpectType(TokenType::kVariableEnd, "end of print statement"));
      body.push_back(std::move(s));
    } else if (t.type == TokenType::kBlockBegin) {
      Next();
      for (std::string_view e : end_tokens) {
        if (Cur().is_name(e)) return body;
      }
      CELLAR_ASSIGN_OR_RETURN(StmtPtr s, ParseStatement());
      CELLAR_RETURN_IF_ERROR(ExpectType(TokenType::kBlockEnd, "end of statement block"));
      body.push_back(std::move(s));
    } else {
      return Fail(Cur(), "unexpected " + Describe(Cur()));
    }
  }
  if (end_tokens.size() != 0) return FailEof(end_tokens);
  return body;
}

std::string Parser::JoinTags(std::initializer_list<std::string_view> tags) {
  std::string out;
  size_t i = 0;
  for (std::string_view t : tags) {
    if (i) out += (i + 1 == tags.size()) ? " or " : ", ";
    out += "'" + std::string(t) + "'";
    ++i;
  }
  return out;
}

Status Parser::FailEof(std::initializer_list<std::string_view> end_tokens) const {
  std::string msg = "Unexpected end of template. Jinja was looking for the following tags: " +
                    JoinTags(end_tokens) + ".";
  if (!tag_stack_.empty()) {
    msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
  }
  return Fail(Cur(), msg);
}

Result<Body> Parser::ParseStatements(std::initializer_list<std::string_view> end_tokens,
                                     bool drop_needle) {
  if (Cur().is_op(":")) Next();
  CELLAR_RETURN_IF_ERROR(ExpectType(TokenType::kBlockEnd, "end of statement block"));
  CELLAR_ASSIGN_OR_RETURN(Body body, Subparse(end_tokens));
  if (drop_needle) Next();
  return body;
}

Result<StmtPtr> Parser::ParseStatement() {
  if (!Cur().type_is(TokenType::kName)) return Fail(Cur(), "tag name expected");
  const std::string tag = Cur().t->text;
  static constexpr std::string_view kUnsupported[] = {"block",  "extends", "include",
                                                      "import", "from",    "autoescape"};
  for (std::string_view u : kUnsupported) {
    if (tag == u) {
      return Fail(Cur(), "the '" + tag + "' tag is not supported (templates are rendered alone)");
    }
  }
  tag_stack_.push_back(tag);
  Result<StmtPtr> r = ParseKnownStatement(tag);
  tag_stack_.pop_back();
  return r;
}

Result<StmtPtr> Parser::ParseKnownStatement(const std::string& tag) {
  if (tag == "for") return ParseFor();
  if (tag == "if") return ParseIf();
  if (tag == "set") return ParseSet();
  if (tag == "macro") return ParseMacro();
  if (tag == "call") return ParseCallBlock();
  if (tag == "filter") return ParseFilterBlock();
  if (tag == "with") return ParseWith();
  if (tag == "print") return ParsePrint();
  if (tag == "generation") {
    auto s = std::make_unique<Stmt>(StmtKind::kScope, Cur().t->offset);
    Next();
    CELLAR_ASSIGN_OR_RETURN(s->body, ParseStatements({"endgeneration"}, true));
    return s;
  }
  if (tag == "break" || tag == "continue") {
    if (loop_depth_.empty() || loop_depth_.back() == 0) {
      return Fail(Cur(), "'" + tag + "' outside of a loop");
    }
    auto s = std::make_unique<Stmt>(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue,
                                    Cur().t->offset);
    Next();
    return s;
  }
  // Unknown: mention the blocks that are open, as Jinja does.
  std::string msg = "Encountered unknown tag '" + tag + "'.";
  if (tag_stack_.size() > 1) {
    msg += " The innermost block that needs to be closed is '" + tag_stack_[tag_stack_.size() - 2] +
           "'.";
  }
  return Fail(Cur(), msg);
}

void Parser::EnterLoop() {
  if (loop_depth_.empty()) loop_depth_.push_back(0);
  ++loop_depth_.back();
}

Result<StmtPtr> Parser::ParseFor() {
  auto s = std::make_unique<Stmt>(StmtKind::kFor, Cur().t->offset);
  Next();
  CELLAR_ASSIGN_OR_RETURN(s->target, ParseAssignTarget(true, false, {"in"}, false));
  CELLAR_RETURN_IF_ERROR(ExpectNameValue("in"));
  CELLAR_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, false, {"recursive"}, false));
  if (Cur().is_name("if")) {
    Next();
    CELLAR_ASSIGN_OR_RETURN(s->cond, ParseExpression(true));
  }
  if (Cur().is_name("recursive")) {
    Next();
    s->recursive = true;
  }
  EnterLoop();
  Result<Body> body = ParseStatements({"endfor", "else"}, false);
  ExitLoop();
  if (!body.ok()) return body.status();
  s->body = std::move(body).value();
  const bool is_end = Cur().is_name("endfor");
  Next();
  if (!is_end) {
    CELLAR_ASSIGN_OR_RETURN(s->else_body, ParseStatements({"endfor"}, true));
  }
  return s;
}

Result<StmtPtr> Parser::ParseIf() {
  auto s = std::make_unique<Stmt>(StmtKind::kIf, Cur().t->offset);
  Next();
  while (true) {
    CELLAR_ASSIGN_OR_RETURN(ExprPtr test, ParseTuple(false, false, {}, false));
    CELLAR_ASSIGN_OR_RETURN(Body body, ParseStatements({"elif", "else", "endif"}, false));
    s->branches.emplace_back(std::move(test), std::move(body));
    const std::string which = Cur().t->text;
    Next();
    if (which == "elif") continue;
    if (which == "else") {
      CELLAR_ASSIGN_OR_RETURN(Body else_body, ParseStatements({"endif"}, true));
      s->branches.emplace_back(nullptr, std::move(else_body));
    }
    break;
  }
  return s;
}

Result<StmtPtr> Parser::ParseSet() {
  const uint32_t offset = Cur().t->offset;
  Next();
  CELLAR_ASSIGN_OR_RETURN(ExprPtr target, ParseAssignTarget(true, false, {}, true));
  if (Cur().is_op("=")) {
    Next();
    auto s = std::make_unique<Stmt>(StmtKind::kAssign, offset);
    s->target = std::move(target);
    CELLAR_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, true, {}, false));
    return s;
  }
  auto s = std::make_unique<Stmt>(StmtKind::kAssignBlock, offset);
  s->target = std::move(target);
  if (Cur().is_op("|")) {
    CELLAR_ASSIGN_OR_RETURN(s->filter, ParseFilter(nullptr, false));
  }
  CELLAR_ASSIGN_OR_RETURN(s->body, ParseStatements({"endset"}, true));
  return s;
}

Status Parser::ParseSignature(Stmt* s) {
  CELLAR_RETURN_IF_ERROR(ExpectOp("("));
  bool has_default = false;
  while (!Cur().is_op(")")) {
    if (!s->params.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    const TokenRef at = Cur();
    CELLAR_ASSIGN_OR_RETURN(std::string name, ExpectName());
    MacroParam p;
    p.name = std::move(name);
    if (Cur().is_op("=")) {
      Next();
      CELLAR_ASSIGN_OR_RETURN(p.default_value, ParseExpression(true));
      has_default = true;
    } else if (has_default) {
      return Fail(at, "non-default argument follows default argument");
    }
    s->params.push_back(std::move(p));
  }
  return ExpectOp(")");
}

Result<Body> Parser::ParseFunctionBody(Stmt* s, std::string_view end_tag) {
  loop_depth_.push_back(0);
  usage_.push_back({});
  Result<Body> body = ParseStatements({end_tag}, true);
  const Usage u = usage_.back();
  usage_.pop_back();
  loop_depth_.pop_back();
  s->uses_varargs = u.varargs;
  s->uses_kwargs = u.kwargs;
  s->uses_caller = u.caller;
  return body;
}

Result<StmtPtr> Parser::ParseMacro() {
  auto s = std::make_unique<Stmt>(StmtKind::kMacro, Cur().t->offset);
  Next();
  CELLAR_ASSIGN_OR_RETURN(s->text, ExpectName());
  CELLAR_RETURN_IF_ERROR(ParseSignature(s.get()));
  CELLAR_ASSIGN_OR_RETURN(s->body, ParseFunctionBody(s.get(), "endmacro"));
  return s;
}

Result<StmtPtr> Parser::ParseCallBlock() {
  auto s = std::make_unique<Stmt>(StmtKind::kCallBlock, Cur().t->offset);
  const TokenRef at = Cur();
  Next();
  if (Cur().is_op("(")) CELLAR_RETURN_IF_ERROR(ParseSignature(s.get()));
  CELLAR_ASSIGN_OR_RETURN(s->expr, ParseExpression(true));
  if (s->expr->kind != ExprKind::kCall) return Fail(at, "expected call");
  CELLAR_ASSIGN_OR_RETURN(s->body, ParseFunctionBody(s.get(), "endcall"));
  return s;
}

Result<StmtPtr> Parser::ParseFilterBlock() {
  auto s = std::make_unique<Stmt>(StmtKind::kFilterBlock, Cur().t->offset);
  Next();
  CELLAR_ASSIGN_OR_RETURN(s->expr, ParseFilter(nullptr, true));
  CELLAR_ASSIGN_OR_RETURN(s->body, ParseStatements({"endfilter"}, true));
  return s;
}

Result<StmtPtr> Parser::ParseWith() {
  auto s = std::make_unique<Stmt>(StmtKind::kWith, Cur().t->offset);
  Next();
  while (!Cur().type_is(TokenType::kBlockEnd)) {
    if (!s->with_assignments.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    CELLAR_ASSIGN_OR_RETURN(ExprPtr target, ParseAssignTarget(true, false, {}, false));
    CELLAR_RETURN_IF_ERROR(ExpectOp("="));
    CELLAR_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
    s->with_assignments.emplace_back(std::move(target), std::move(value));
  }
  CELLAR_ASSIGN_OR_RETURN(s->body, ParseStatements({"endwith"}, true));
  return s;
}

Result<StmtPtr> Parser::ParsePrint() {
  auto s = std::make_unique<Stmt>(StmtKind::kPrint, Cur().t->offset);
  Next();
  auto tuple = MakeExpr(ExprKind::kConcat, s->offset);
  while (!Cur().type_is(TokenType::kBlockEnd)) {
    if (!tuple->items.empty()) CELLAR_RETURN_IF_ERROR(ExpectOp(","));
    CELLAR_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
    tuple->items.push_back(std::move(e));
  }
  s->expr = std::move(tuple);  // printed one after another, like Jinja's Output node
  return s;
}

Result<ExprPtr> Parser::ParseAssignTarget(bool with_tuple, bool name_only,
                                          std::initializer_list<std::string_view> extra_end,
                                          bool with_namespace) {
  const TokenRef at = Cur();
  ExprPtr target;
  if (with_namespace && Look().is_op(".") && Cur().type_is(TokenType::kName)) {
    target = MakeExpr(ExprKind::kNsRef, Cur().t->offset);
    target->name = Cur().t->text;
    Next();
    Next();
    CELLAR_ASSIGN_OR_RETURN(target->attr, ExpectName());
    return target;
  }
  if (name_only) {
    target = MakeExpr(ExprKind::kName, Cur().t->offset);
    CELLAR_ASSIGN_OR_RETURN(target->name, ExpectName());
    return target;
  }
  if (with_tuple) {
    CELLAR_ASSIGN_OR_RETURN(target, ParseTuple(true, true, extra_end, false));
  } else {
    CELLAR_ASSIGN_OR_RETURN(target, ParsePrimary());
  }
  if (!CanAssign(*target)) {
    return Fail(at,
                "can't assign to " +
                    std::string(target->kind == ExprKind::kConst ? "'const'" : "this expression"));
  }
  return target;
}

bool Parser::CanAssign(const Expr& e) {
  if (e.kind == ExprKind::kName) return true;
  if (e.kind == ExprKind::kTuple) {
    for (const auto& item : e.items) {
      if (!CanAssign(*item)) return false;
    }
    return true;
  }
  return false;
}

}  // namespace parser_internal

Result<Body> ParseTemplate(std::string_view source, const std::vector<Token>& tokens) {
  if (tokens.empty() || tokens.back().type != TokenType::kEof) {
    return InvalidArgument("token stream must end with end of template");
  }
  return parser_internal::Parser(source, tokens).Run();
}

}  // namespace cellar::jinja
