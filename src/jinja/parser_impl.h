// Internal to the parser (parser.cc: statements; parser_expressions.cc:
// expressions): the recursive-descent Parser over a token vector, one per parse.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jinja/ast.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace cellar::jinja::parser_internal {

// Jinja2's parser (jinja2/parser.py) over our tokens. Used by one thread for one parse.
class Parser {
 public:
  Parser(std::string_view source, const std::vector<Token>& tokens) : src_(source), toks_(tokens) {}

  Result<Body> Run() {
    CELLAR_ASSIGN_OR_RETURN(Body body, Subparse({}));
    if (!Cur().type_is(TokenType::kEof)) return Fail(Cur(), "unexpected " + Describe(Cur()));
    return body;
  }

 private:
  // A token with helpers.
  struct TokenRef {
    const Token* t;
    bool type_is(TokenType type) const { return t->type == type; }
    bool is_name(std::string_view n) const { return t->type == TokenType::kName && t->text == n; }
    bool is_op(std::string_view o) const { return t->type == TokenType::kOperator && t->text == o; }
  };

  // RAII nesting counter.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser* p_;
  };

  TokenRef Cur() const { return TokenRef{&toks_[pos_]}; }
  TokenRef Look(size_t ahead = 1) const {
    return TokenRef{&toks_[std::min(pos_ + ahead, toks_.size() - 1)]};
  }
  void Next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  static std::string Describe(TokenRef t) { return DescribeToken(*t.t); }

  Status Fail(TokenRef at, std::string_view message) const {
    return SyntaxError(src_, at.t->offset, message);
  }

  Status CheckDepth() const {
    if (depth_ > kMaxParseDepth) return Fail(Cur(), "template nested too deeply");
    return OkStatus();
  }

  Status ExpectOp(std::string_view op) {
    if (!Cur().is_op(op)) {
      return Fail(Cur(), "expected token '" + std::string(op) + "', got " + Describe(Cur()));
    }
    Next();
    return OkStatus();
  }

  Status ExpectType(TokenType type, std::string_view what) {
    if (!Cur().type_is(type)) {
      return Fail(Cur(), "expected token '" + std::string(what) + "', got " + Describe(Cur()));
    }
    Next();
    return OkStatus();
  }

  Result<std::string> ExpectName() {
    if (!Cur().type_is(TokenType::kName)) {
      return Fail(Cur(), "expected token 'name', got " + Describe(Cur()));
    }
    std::string n = Cur().t->text;
    Next();
    return n;
  }

  Status ExpectNameValue(std::string_view n) {
    if (!Cur().is_name(n)) {
      return Fail(Cur(), "expected token '" + std::string(n) + "', got " + Describe(Cur()));
    }
    Next();
    return OkStatus();
  }

  ExprPtr MakeExpr(ExprKind k, uint32_t offset) { return std::make_unique<Expr>(k, offset); }

  // ---- statements ----

  // Parses template content until a block tag whose name is in `end_tokens`
  // (left as the current token) or the end of the template.
  Result<Body> Subparse(std::initializer_list<std::string_view> end_tokens);

  static std::string JoinTags(std::initializer_list<std::string_view> tags);

  Status FailEof(std::initializer_list<std::string_view> end_tokens) const;

  // Parses the rest of a tag (after `{% name ...` consumed by the caller's parser),
  // i.e. `%}` then a body up to one of `end_tokens`; drops the end name if asked.
  Result<Body> ParseStatements(std::initializer_list<std::string_view> end_tokens,
                               bool drop_needle);

  Result<StmtPtr> ParseStatement();

  Result<StmtPtr> ParseKnownStatement(const std::string& tag);

  void EnterLoop();
  void ExitLoop() { --loop_depth_.back(); }

  Result<StmtPtr> ParseFor();

  Result<StmtPtr> ParseIf();

  Result<StmtPtr> ParseSet();

  Status ParseSignature(Stmt* s);

  // Parses a macro or call-block body, noting which special names it reads.
  Result<Body> ParseFunctionBody(Stmt* s, std::string_view end_tag);

  Result<StmtPtr> ParseMacro();

  Result<StmtPtr> ParseCallBlock();

  Result<StmtPtr> ParseFilterBlock();

  Result<StmtPtr> ParseWith();

  Result<StmtPtr> ParsePrint();

  // ---- assignment targets ----

  Result<ExprPtr> ParseAssignTarget(bool with_tuple, bool name_only,
                                    std::initializer_list<std::string_view> extra_end,
                                    bool with_namespace);

  static bool CanAssign(const Expr& e);

  // ---- expressions ----

  bool IsTupleEnd(std::initializer_list<std::string_view> extra_end) const;

  // Jinja's parse_tuple: `a`, `a, b`, `a,` ... (simplified: primaries only).
  Result<ExprPtr> ParseTuple(bool simplified, bool with_condexpr,
                             std::initializer_list<std::string_view> extra_end,
                             bool explicit_parentheses);

  Result<ExprPtr> ParseExpression(bool with_condexpr);

  Result<ExprPtr> ParseCondExpr();

  Result<ExprPtr> ParseOr();

  Result<ExprPtr> ParseAnd();

  Result<ExprPtr> ParseNot();

  Result<ExprPtr> ParseCompare();

  Result<ExprPtr> ParseMath1();

  Result<ExprPtr> ParseConcat();

  Result<ExprPtr> ParseMath2();

  Result<ExprPtr> ParsePow();

  Result<ExprPtr> ParseUnary(bool with_filter);

  Result<ExprPtr> ParsePrimary();

  Result<ExprPtr> ParseList();

  Result<ExprPtr> ParseDict();

  Result<ExprPtr> ParsePostfix(ExprPtr node);

  Result<ExprPtr> ParseFilterExpr(ExprPtr node);

  Result<ExprPtr> ParseSubscript(ExprPtr node);

  Result<ExprPtr> ParseSubscribed();

  Status ParseCallArgs(Args* out);

  Result<ExprPtr> ParseCall(ExprPtr node);

  Result<std::string> ParseDottedName();

  Result<ExprPtr> ParseFilter(ExprPtr node, bool start_inline);

  Result<ExprPtr> ParseTest(ExprPtr node);

  struct Usage {
    bool varargs = false;
    bool kwargs = false;
    bool caller = false;
  };

  void NoteName(const std::string& name) {
    if (usage_.empty()) return;
    if (name == "varargs") usage_.back().varargs = true;
    if (name == "kwargs") usage_.back().kwargs = true;
    if (name == "caller") usage_.back().caller = true;
  }

  std::string_view src_;
  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<std::string> tag_stack_;
  std::vector<int> loop_depth_;  // per function scope (template, macro, call block)
  std::vector<Usage> usage_;     // per macro / call block being parsed
};

}  // namespace cellar::jinja::parser_internal
