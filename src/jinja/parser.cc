#include "jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include "jinja/builtins.h"

namespace cellar::jinja {

namespace {

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
  Result<Body> Subparse(std::initializer_list<std::string_view> end_tokens) {
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

  static std::string JoinTags(std::initializer_list<std::string_view> tags) {
    std::string out;
    size_t i = 0;
    for (std::string_view t : tags) {
      if (i) out += (i + 1 == tags.size()) ? " or " : ", ";
      out += "'" + std::string(t) + "'";
      ++i;
    }
    return out;
  }

  Status FailEof(std::initializer_list<std::string_view> end_tokens) const {
    std::string msg = "Unexpected end of template. Jinja was looking for the following tags: " +
                      JoinTags(end_tokens) + ".";
    if (!tag_stack_.empty()) {
      msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
    }
    return Fail(Cur(), msg);
  }

  // Parses the rest of a tag (after `{% name ...` consumed by the caller's parser),
  // i.e. `%}` then a body up to one of `end_tokens`; drops the end name if asked.
  Result<Body> ParseStatements(std::initializer_list<std::string_view> end_tokens,
                               bool drop_needle) {
    if (Cur().is_op(":")) Next();
    CELLAR_RETURN_IF_ERROR(ExpectType(TokenType::kBlockEnd, "end of statement block"));
    CELLAR_ASSIGN_OR_RETURN(Body body, Subparse(end_tokens));
    if (drop_needle) Next();
    return body;
  }

  Result<StmtPtr> ParseStatement() {
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

  Result<StmtPtr> ParseKnownStatement(const std::string& tag) {
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
      msg += " The innermost block that needs to be closed is '" +
             tag_stack_[tag_stack_.size() - 2] + "'.";
    }
    return Fail(Cur(), msg);
  }

  void EnterLoop() {
    if (loop_depth_.empty()) loop_depth_.push_back(0);
    ++loop_depth_.back();
  }
  void ExitLoop() { --loop_depth_.back(); }

  Result<StmtPtr> ParseFor() {
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

  Result<StmtPtr> ParseIf() {
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

  Result<StmtPtr> ParseSet() {
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

  Status ParseSignature(Stmt* s) {
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

  // Parses a macro or call-block body, noting which special names it reads.
  Result<Body> ParseFunctionBody(Stmt* s, std::string_view end_tag) {
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

  Result<StmtPtr> ParseMacro() {
    auto s = std::make_unique<Stmt>(StmtKind::kMacro, Cur().t->offset);
    Next();
    CELLAR_ASSIGN_OR_RETURN(s->text, ExpectName());
    CELLAR_RETURN_IF_ERROR(ParseSignature(s.get()));
    CELLAR_ASSIGN_OR_RETURN(s->body, ParseFunctionBody(s.get(), "endmacro"));
    return s;
  }

  Result<StmtPtr> ParseCallBlock() {
    auto s = std::make_unique<Stmt>(StmtKind::kCallBlock, Cur().t->offset);
    const TokenRef at = Cur();
    Next();
    if (Cur().is_op("(")) CELLAR_RETURN_IF_ERROR(ParseSignature(s.get()));
    CELLAR_ASSIGN_OR_RETURN(s->expr, ParseExpression(true));
    if (s->expr->kind != ExprKind::kCall) return Fail(at, "expected call");
    CELLAR_ASSIGN_OR_RETURN(s->body, ParseFunctionBody(s.get(), "endcall"));
    return s;
  }

  Result<StmtPtr> ParseFilterBlock() {
    auto s = std::make_unique<Stmt>(StmtKind::kFilterBlock, Cur().t->offset);
    Next();
    CELLAR_ASSIGN_OR_RETURN(s->expr, ParseFilter(nullptr, true));
    CELLAR_ASSIGN_OR_RETURN(s->body, ParseStatements({"endfilter"}, true));
    return s;
  }

  Result<StmtPtr> ParseWith() {
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

  Result<StmtPtr> ParsePrint() {
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

  // ---- assignment targets ----

  Result<ExprPtr> ParseAssignTarget(bool with_tuple, bool name_only,
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
      return Fail(
          at, "can't assign to " +
                  std::string(target->kind == ExprKind::kConst ? "'const'" : "this expression"));
    }
    return target;
  }

  static bool CanAssign(const Expr& e) {
    if (e.kind == ExprKind::kName) return true;
    if (e.kind == ExprKind::kTuple) {
      for (const auto& item : e.items) {
        if (!CanAssign(*item)) return false;
      }
      return true;
    }
    return false;
  }

  // ---- expressions ----

  bool IsTupleEnd(std::initializer_list<std::string_view> extra_end) const {
    const TokenRef c = Cur();
    if (c.type_is(TokenType::kVariableEnd) || c.type_is(TokenType::kBlockEnd) || c.is_op(")")) {
      return true;
    }
    for (std::string_view e : extra_end) {
      if (c.is_name(e)) return true;
    }
    return false;
  }

  // Jinja's parse_tuple: `a`, `a, b`, `a,` ... (simplified: primaries only).
  Result<ExprPtr> ParseTuple(bool simplified, bool with_condexpr,
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

  Result<ExprPtr> ParseExpression(bool with_condexpr) {
    if (with_condexpr) return ParseCondExpr();
    return ParseOr();
  }

  Result<ExprPtr> ParseCondExpr() {
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

  Result<ExprPtr> ParseOr() {
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

  Result<ExprPtr> ParseAnd() {
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

  Result<ExprPtr> ParseNot() {
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

  Result<ExprPtr> ParseCompare() {
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

  Result<ExprPtr> ParseMath1() {
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

  Result<ExprPtr> ParseConcat() {
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

  Result<ExprPtr> ParseMath2() {
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

  Result<ExprPtr> ParsePow() {
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

  Result<ExprPtr> ParseUnary(bool with_filter) {
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

  Result<ExprPtr> ParsePrimary() {
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

  Result<ExprPtr> ParseList() {
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

  Result<ExprPtr> ParseDict() {
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

  Result<ExprPtr> ParsePostfix(ExprPtr node) {
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

  Result<ExprPtr> ParseFilterExpr(ExprPtr node) {
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

  Result<ExprPtr> ParseSubscript(ExprPtr node) {
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

  Result<ExprPtr> ParseSubscribed() {
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

  Status ParseCallArgs(Args* out) {
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

  Result<ExprPtr> ParseCall(ExprPtr node) {
    auto e = MakeExpr(ExprKind::kCall, Cur().t->offset);
    e->a = std::move(node);
    CELLAR_RETURN_IF_ERROR(ParseCallArgs(&e->args));
    return e;
  }

  Result<std::string> ParseDottedName() {
    CELLAR_ASSIGN_OR_RETURN(std::string name, ExpectName());
    while (Cur().is_op(".")) {
      Next();
      CELLAR_ASSIGN_OR_RETURN(std::string part, ExpectName());
      name += "." + part;
    }
    return name;
  }

  Result<ExprPtr> ParseFilter(ExprPtr node, bool start_inline) {
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

  Result<ExprPtr> ParseTest(ExprPtr node) {
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

}  // namespace

Result<Body> ParseTemplate(std::string_view source, const std::vector<Token>& tokens) {
  if (tokens.empty() || tokens.back().type != TokenType::kEof) {
    return InvalidArgument("token stream must end with end of template");
  }
  return Parser(source, tokens).Run();
}

}  // namespace cellar::jinja
