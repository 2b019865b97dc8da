#include "jinja/interpreter.h"

#include <algorithm>

#include "jinja/builtins.h"
#include "jinja/operators.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

const Value* Scope::Find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    for (const auto& [k, v] : s->vars_) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Scope::Set(std::string_view name, Value v) {
  for (auto& [k, val] : vars_) {
    if (k == name) {
      val = std::move(v);
      return;
    }
  }
  vars_.emplace_back(std::string(name), std::move(v));
}

namespace {

// A {% macro %} or the caller() of a {% call %} block.
class MacroObject final : public Object {
 public:
  MacroObject(const Stmt* stmt, std::string name, ScopePtr closure, bool is_caller)
      : stmt_(stmt), name_(std::move(name)), closure_(std::move(closure)), is_caller_(is_caller) {}
  std::string TypeName() const override { return "Macro"; }
  std::string TypeReprForMessages() const override { return "jinja2.runtime.Macro object"; }
  std::string Repr() const override {
    return "<Macro " + (is_caller_ ? std::string("'caller'") : PyReprString(name_)) + ">";
  }
  bool callable() const override { return true; }
  Result<Value> Call(Interpreter& in, CallArgs args) const override {
    return in.InvokeMacro(*stmt_, name_, closure_, std::move(args), is_caller_);
  }
  void Release() override { closure_.reset(); }
  std::optional<Value> GetAttr(std::string_view name) const override {
    if (name == "name") return Value::String(name_);
    if (name == "arguments") {
      ValueList names;
      for (const MacroParam& p : stmt_->params) names.push_back(Value::String(p.name));
      return Value::Tuple(std::move(names));
    }
    if (name == "catch_kwargs") return Value::Bool(stmt_->uses_kwargs);
    if (name == "catch_varargs") return Value::Bool(stmt_->uses_varargs);
    if (name == "caller") return Value::Bool(stmt_->uses_caller);
    return std::nullopt;
  }

 private:
  const Stmt* stmt_;
  std::string name_;
  ScopePtr closure_;
  bool is_caller_;
};

// The `loop` variable of a for loop.
class LoopObject final : public Object, public std::enable_shared_from_this<LoopObject> {
 public:
  LoopObject(ValueList items, int depth, const Stmt* stmt, ScopePtr scope)
      : items_(std::move(items)), depth_(depth), stmt_(stmt), scope_(std::move(scope)) {}
  void set_index(size_t i) { index_ = i; }
  void Release() override {
    items_.clear();
    scope_.reset();
    last_changed_.reset();
  }

  std::string TypeName() const override { return "LoopContext"; }
  std::string TypeReprForMessages() const override { return "jinja2.runtime.LoopContext object"; }
  std::string Repr() const override {
    return "<LoopContext " + std::to_string(index_ + 1) + "/" + std::to_string(items_.size()) + ">";
  }
  bool callable() const override { return true; }
  Result<Value> Call(Interpreter& in, CallArgs args) const override {
    if (!stmt_->recursive) {
      return InvalidArgument("The loop must have the 'recursive' marker to be called recursively.");
    }
    CELLAR_ASSIGN_OR_RETURN(ValueList a, BindArgs("loop", args, {Required("iterable")}));
    return in.InvokeRecursiveLoop(*stmt_, scope_, a[0], depth_ + 1);
  }

  std::optional<Value> GetAttr(std::string_view name) const override {
    const auto n = static_cast<int64_t>(items_.size());
    const auto i = static_cast<int64_t>(index_);
    if (name == "index") return Value::Int(i + 1);
    if (name == "index0") return Value::Int(i);
    if (name == "revindex") return Value::Int(n - i);
    if (name == "revindex0") return Value::Int(n - i - 1);
    if (name == "first") return Value::Bool(i == 0);
    if (name == "last") return Value::Bool(i == n - 1);
    if (name == "length") return Value::Int(n);
    if (name == "depth") return Value::Int(depth_);
    if (name == "depth0") return Value::Int(depth_ - 1);
    if (name == "previtem") {
      if (i == 0) return Value::Undefined("there is no previous item");
      return items_[index_ - 1];
    }
    if (name == "nextitem") {
      if (i + 1 >= n) return Value::Undefined("there is no next item");
      return items_[index_ + 1];
    }
    if (name == "cycle" || name == "changed") {
      std::shared_ptr<const LoopObject> self = shared_from_this();
      const bool cycle = name == "cycle";
      return Value::Obj(std::make_shared<BuiltinFunction>(
          std::string(name), [self, cycle](Interpreter&, CallArgs args) -> Result<Value> {
            if (!args.keyword.empty()) {
              return InvalidArgument("loop." + std::string(cycle ? "cycle" : "changed") +
                                     "() takes no keyword arguments");
            }
            if (cycle) {
              if (args.positional.empty()) return InvalidArgument("no items for cycling given");
              return args.positional[self->index_ % args.positional.size()];
            }
            Value now = Value::Tuple(std::move(args.positional));
            if (!self->last_changed_ || !Equals(*self->last_changed_, now)) {
              self->last_changed_ = now;
              return Value::Bool(true);
            }
            return Value::Bool(false);
          }));
    }
    return std::nullopt;
  }

 private:
  ValueList items_;
  size_t index_ = 0;
  int depth_;
  const Stmt* stmt_;
  ScopePtr scope_;
  mutable std::optional<Value> last_changed_;
};

}  // namespace

// Counts nesting of Eval/Exec and refuses to go past the limit.
class Interpreter::DepthGuard {
 public:
  explicit DepthGuard(Interpreter* in) : in_(in) { ++in_->eval_depth_; }
  ~DepthGuard() { --in_->eval_depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
  bool exceeded() const { return in_->eval_depth_ > in_->options_.limits.max_eval_depth; }

 private:
  Interpreter* in_;
};

Interpreter::Interpreter(const RenderOptions& options) : options_(options) {
  if (options_.now) {
    now_ = *options_.now;
  } else {
    const std::time_t t = std::time(nullptr);
    localtime_r(&t, &now_);
  }
}

Status Interpreter::CheckSize(size_t bytes) const {
  if (bytes > options_.limits.max_output_bytes) {
    return ResourceExhausted("template output or value exceeds the limit of " +
                             std::to_string(options_.limits.max_output_bytes) + " bytes");
  }
  return OkStatus();
}

Status Interpreter::Tick(int64_t n) {
  steps_ += n;
  if (steps_ > options_.limits.max_steps) {
    return ResourceExhausted("template exceeded " + std::to_string(options_.limits.max_steps) +
                             " steps (loop iterations, calls and items processed)");
  }
  return OkStatus();
}

void Interpreter::NoteError(uint32_t offset) {
  if (!has_error_offset_) {
    has_error_offset_ = true;
    error_offset_ = offset;
  }
}

Status Interpreter::CheckValueDepth(const Value& v) const {
  if (v.depth() > options_.limits.max_value_depth) {
    return ResourceExhausted("value nested deeper than " +
                             std::to_string(options_.limits.max_value_depth) + " levels");
  }
  return OkStatus();
}

Status Interpreter::Append(std::string_view text) {
  if (out_->size() + text.size() > options_.limits.max_output_bytes) {
    return ResourceExhausted("template output exceeds the limit of " +
                             std::to_string(options_.limits.max_output_bytes) + " bytes");
  }
  out_->append(text);
  return OkStatus();
}

Result<std::string> Interpreter::Run(const Body& body, const DictData& variables) {
  auto root = std::make_shared<Scope>(nullptr);
  DictData globals;
  AddGlobals(&globals);
  for (const auto& [k, v] : globals.entries()) root->Set(k.as_string(), v);
  for (const auto& [k, v] : variables.entries()) {
    if (k.is_string()) root->Set(k.as_string(), v);
  }
  auto scope = std::make_shared<Scope>(root);
  std::string out;
  out_ = &out;
  Result<Flow> r = ExecBody(body, scope);
  out_ = nullptr;
  ReleaseTracked();
  if (!r.ok()) return r.status();
  return out;
}

void Interpreter::ReleaseTracked() {
  for (const std::weak_ptr<Object>& w : tracked_) {
    if (std::shared_ptr<Object> o = w.lock()) o->Release();
  }
  tracked_.clear();
}

Result<std::string> Interpreter::Capture(const Body& body, const ScopePtr& scope) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  Result<Flow> r = ExecBody(body, scope);
  out_ = saved;
  if (!r.ok()) return r.status();
  return buf;
}

Result<Interpreter::Flow> Interpreter::ExecBody(const Body& body, const ScopePtr& scope) {
  for (const StmtPtr& s : body) {
    CELLAR_ASSIGN_OR_RETURN(Flow f, Exec(*s, scope));
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Result<Interpreter::Flow> Interpreter::Exec(const Stmt& s, const ScopePtr& scope) {
  DepthGuard guard(this);
  if (guard.exceeded()) {
    NoteError(s.offset);
    return ResourceExhausted("template nesting exceeds " +
                             std::to_string(options_.limits.max_eval_depth) + " levels");
  }
  Result<Flow> r = ExecImpl(s, scope);
  if (!r.ok()) NoteError(s.offset);
  return r;
}

Result<Interpreter::Flow> Interpreter::ExecImpl(const Stmt& s, const ScopePtr& scope) {
  switch (s.kind) {
    case StmtKind::kData:
      CELLAR_RETURN_IF_ERROR(Append(s.text));
      return Flow::kNormal;
    case StmtKind::kPrint: {
      CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
      CELLAR_RETURN_IF_ERROR(Append(ToStr(v)));
      return Flow::kNormal;
    }
    case StmtKind::kIf:
      for (const auto& [test, body] : s.branches) {
        bool take = true;
        if (test) {
          CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*test, scope));
          take = Truthy(v);
        }
        if (take) return ExecBody(body, scope);
      }
      return Flow::kNormal;
    case StmtKind::kFor: {
      CELLAR_ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr, scope));
      CELLAR_RETURN_IF_ERROR(ExecFor(s, scope, iterable, 1));
      return Flow::kNormal;
    }
    case StmtKind::kAssign: {
      CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
      CELLAR_RETURN_IF_ERROR(Assign(*s.target, v, scope));
      return Flow::kNormal;
    }
    case StmtKind::kAssignBlock: {
      CELLAR_ASSIGN_OR_RETURN(std::string text, Capture(s.body, std::make_shared<Scope>(scope)));
      Value v = Value::String(std::move(text));
      if (s.filter) {
        CELLAR_ASSIGN_OR_RETURN(v, EvalFilter(*s.filter, scope, &v));
      }
      CELLAR_RETURN_IF_ERROR(Assign(*s.target, v, scope));
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      auto macro = std::make_shared<MacroObject>(&s, s.text, scope, false);
      Track(macro);
      scope->Set(s.text, Value::Obj(std::move(macro)));
      return Flow::kNormal;
    }
    case StmtKind::kCallBlock:
      CELLAR_RETURN_IF_ERROR(ExecCallBlock(s, scope));
      return Flow::kNormal;
    case StmtKind::kFilterBlock: {
      CELLAR_ASSIGN_OR_RETURN(std::string text, Capture(s.body, std::make_shared<Scope>(scope)));
      const Value input = Value::String(std::move(text));
      CELLAR_ASSIGN_OR_RETURN(Value v, EvalFilter(*s.expr, scope, &input));
      CELLAR_RETURN_IF_ERROR(Append(ToStr(v)));
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      std::vector<Value> values;
      for (const auto& [target, value] : s.with_assignments) {
        CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*value, scope));
        values.push_back(std::move(v));
      }
      auto inner = std::make_shared<Scope>(scope);
      for (size_t i = 0; i < values.size(); ++i) {
        CELLAR_RETURN_IF_ERROR(Assign(*s.with_assignments[i].first, values[i], inner));
      }
      return ExecBody(s.body, inner);
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kScope:
      return ExecBody(s.body, std::make_shared<Scope>(scope));
  }
  return Internal("unknown statement");
}

Status Interpreter::ExecFor(const Stmt& s, const ScopePtr& scope, const Value& iterable,
                            int depth) {
  Result<ValueList> iterated = Iterate(iterable);
  if (!iterated.ok()) {
    NoteError(s.expr->offset);  // point at the iterable, not at the tag
    return iterated.status();
  }
  ValueList items = std::move(iterated).value();
  if (s.cond) {
    ValueList kept;
    for (Value& item : items) {
      CELLAR_RETURN_IF_ERROR(Tick(1));
      auto test_scope = std::make_shared<Scope>(scope);
      CELLAR_RETURN_IF_ERROR(Assign(*s.target, item, test_scope));
      CELLAR_ASSIGN_OR_RETURN(Value keep, Eval(*s.cond, test_scope));
      if (Truthy(keep)) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    if (!s.else_body.empty()) {
      CELLAR_RETURN_IF_ERROR(ExecBody(s.else_body, std::make_shared<Scope>(scope)).status());
    }
    return OkStatus();
  }
  auto loop = std::make_shared<LoopObject>(items, depth, &s, scope);
  Track(loop);
  const Value loop_value = Value::Obj(loop);
  for (size_t i = 0; i < items.size(); ++i) {
    CELLAR_RETURN_IF_ERROR(Tick(1));
    loop->set_index(i);
    auto iter_scope = std::make_shared<Scope>(scope);
    CELLAR_RETURN_IF_ERROR(Assign(*s.target, items[i], iter_scope));
    iter_scope->Set("loop", loop_value);
    CELLAR_ASSIGN_OR_RETURN(Flow f, ExecBody(s.body, iter_scope));
    if (f == Flow::kBreak) break;
  }
  return OkStatus();
}

Status Interpreter::ExecCallBlock(const Stmt& s, const ScopePtr& scope) {
  const Expr& call = *s.expr;
  CELLAR_ASSIGN_OR_RETURN(Value callee, Eval(*call.a, scope));
  CELLAR_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call.args, scope));
  auto caller = std::make_shared<MacroObject>(&s, "caller", scope, true);
  Track(caller);
  args.keyword.emplace_back("caller", Value::Obj(std::move(caller)));
  CELLAR_ASSIGN_OR_RETURN(Value result, CallValue(callee, std::move(args)));
  return Append(ToStr(result));
}

Status Interpreter::Assign(const Expr& target, const Value& v, const ScopePtr& scope) {
  switch (target.kind) {
    case ExprKind::kName:
      scope->Set(target.name, v);
      return OkStatus();
    case ExprKind::kTuple: {
      CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
      const size_t want = target.items.size();
      if (items.size() < want) {
        return InvalidArgument("not enough values to unpack (expected " + std::to_string(want) +
                               ", got " + std::to_string(items.size()) + ")");
      }
      if (items.size() > want) {
        return InvalidArgument("too many values to unpack (expected " + std::to_string(want) + ")");
      }
      for (size_t i = 0; i < want; ++i) {
        CELLAR_RETURN_IF_ERROR(Assign(*target.items[i], items[i], scope));
      }
      return OkStatus();
    }
    case ExprKind::kNsRef: {
      const Value* ns = scope->Find(target.name);
      auto* obj = ns && ns->is_object() ? dynamic_cast<NamespaceObject*>(ns->object()) : nullptr;
      if (!obj) return InvalidArgument("cannot assign attribute on non-namespace object");
      CELLAR_RETURN_IF_ERROR(CheckValueDepth(v));
      obj->SetAttr(target.attr, v);
      return OkStatus();
    }
    default:
      return InvalidArgument("can't assign to this expression");
  }
}

Result<Value> Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  DepthGuard guard(this);
  if (guard.exceeded()) {
    NoteError(e.offset);
    return ResourceExhausted("template nesting exceeds " +
                             std::to_string(options_.limits.max_eval_depth) + " levels");
  }
  Result<Value> r = EvalImpl(e, scope);
  if (!r.ok()) NoteError(e.offset);
  return r;
}

Result<CallArgs> Interpreter::EvalArgs(const Args& args, const ScopePtr& scope) {
  CallArgs out;
  for (const ExprPtr& p : args.positional) {
    CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*p, scope));
    out.positional.push_back(std::move(v));
  }
  for (const auto& [name, p] : args.keyword) {
    CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*p, scope));
    out.keyword.emplace_back(name, std::move(v));
  }
  if (args.star_args) {
    CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*args.star_args, scope));
    CELLAR_ASSIGN_OR_RETURN(ValueList items, Iterate(v));
    out.positional.insert(out.positional.end(), items.begin(), items.end());
  }
  if (args.star_kwargs) {
    CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*args.star_kwargs, scope));
    if (!v.is_dict()) {
      return InvalidArgument("argument after ** must be a mapping, not " + TypeName(v));
    }
    for (const auto& [k, val] : v.dict().entries()) {
      if (!k.is_string()) return InvalidArgument("keywords must be strings");
      out.keyword.emplace_back(k.as_string(), val);
    }
  }
  return out;
}

Result<Value> Interpreter::EvalFilter(const Expr& e, const ScopePtr& scope,
                                      const Value* block_input) {
  Value input;
  if (!e.a) {
    if (!block_input) return Internal("filter without input");
    input = *block_input;
  } else if (block_input && e.a->kind == ExprKind::kFilter) {
    CELLAR_ASSIGN_OR_RETURN(input, EvalFilter(*e.a, scope, block_input));
  } else {
    CELLAR_ASSIGN_OR_RETURN(input, Eval(*e.a, scope));
  }
  CELLAR_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e.args, scope));
  CELLAR_ASSIGN_OR_RETURN(Value out, e.filter->fn(*this, input, args));
  CELLAR_RETURN_IF_ERROR(CheckValueDepth(out));
  return out;
}

Result<Value> Interpreter::EvalGetitem(const Expr& e, const ScopePtr& scope) {
  CELLAR_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
  if (e.b->kind == ExprKind::kSlice) {
    Value parts[3] = {Value::None(), Value::None(), Value::None()};
    for (size_t i = 0; i < 3 && i < e.b->items.size(); ++i) {
      if (e.b->items[i]) {
        CELLAR_ASSIGN_OR_RETURN(parts[i], Eval(*e.b->items[i], scope));
      }
    }
    return GetSlice(obj, parts[0], parts[1], parts[2]);
  }
  CELLAR_ASSIGN_OR_RETURN(Value key, Eval(*e.b, scope));
  return GetItem(obj, key);
}

Result<Value> Interpreter::EvalImpl(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::kConst:
      return e.value;
    case ExprKind::kName: {
      if (const Value* v = scope->Find(e.name)) return *v;
      return Value::Undefined(PyReprString(e.name) + " is undefined");
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      ValueList items;
      items.reserve(e.items.size());
      for (const ExprPtr& item : e.items) {
        CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*item, scope));
        items.push_back(std::move(v));
      }
      Value out = e.kind == ExprKind::kList ? Value::List(std::move(items))
                                            : Value::Tuple(std::move(items));
      CELLAR_RETURN_IF_ERROR(CheckValueDepth(out));
      return out;
    }
    case ExprKind::kDict: {
      DictData d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        CELLAR_ASSIGN_OR_RETURN(Value k, Eval(*e.items[i], scope));
        CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*e.items[i + 1], scope));
        if (!Hashable(k)) return InvalidArgument("unhashable type: '" + TypeName(k) + "'");
        d.Set(std::move(k), std::move(v));
      }
      Value out = Value::Dict(std::move(d));
      CELLAR_RETURN_IF_ERROR(CheckValueDepth(out));
      return out;
    }
    case ExprKind::kGetattr: {
      CELLAR_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
      return GetAttr(obj, e.name);
    }
    case ExprKind::kGetitem:
      return EvalGetitem(e, scope);
    case ExprKind::kSlice:
      return InvalidArgument("a slice is only allowed inside [ ]");
    case ExprKind::kCall: {
      CELLAR_ASSIGN_OR_RETURN(Value callee, Eval(*e.a, scope));
      CELLAR_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e.args, scope));
      CELLAR_ASSIGN_OR_RETURN(Value out, CallValue(callee, std::move(args)));
      CELLAR_RETURN_IF_ERROR(CheckValueDepth(out));
      return out;
    }
    case ExprKind::kFilter:
      return EvalFilter(e, scope, nullptr);
    case ExprKind::kTest: {
      CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*e.a, scope));
      CELLAR_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e.args, scope));
      CELLAR_ASSIGN_OR_RETURN(bool r, e.test->fn(*this, v, args));
      return Value::Bool(r);
    }
    case ExprKind::kNot: {
      CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*e.a, scope));
      return Value::Bool(!Truthy(v));
    }
    case ExprKind::kNeg: {
      CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*e.a, scope));
      return Negate(v);
    }
    case ExprKind::kPos: {
      CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*e.a, scope));
      return UnaryPlus(v);
    }
    case ExprKind::kBinary: {
      CELLAR_ASSIGN_OR_RETURN(Value a, Eval(*e.a, scope));
      if (e.binary_op == BinaryOp::kAnd) {
        if (!Truthy(a)) return a;
        return Eval(*e.b, scope);
      }
      if (e.binary_op == BinaryOp::kOr) {
        if (Truthy(a)) return a;
        return Eval(*e.b, scope);
      }
      CELLAR_ASSIGN_OR_RETURN(Value b, Eval(*e.b, scope));
      return BinaryOperation(e.binary_op, a, b, options_.limits.max_output_bytes);
    }
    case ExprKind::kCompare: {
      CELLAR_ASSIGN_OR_RETURN(Value left, Eval(*e.a, scope));
      for (const auto& [op, rhs] : e.comparisons) {
        CELLAR_ASSIGN_OR_RETURN(Value right, Eval(*rhs, scope));
        CELLAR_ASSIGN_OR_RETURN(bool r, CompareOperation(op, left, right));
        if (!r) return Value::Bool(false);
        left = std::move(right);
      }
      return Value::Bool(true);
    }
    case ExprKind::kConcat: {
      std::string out;
      for (const ExprPtr& item : e.items) {
        CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*item, scope));
        out += ToStr(v);
        CELLAR_RETURN_IF_ERROR(CheckSize(out.size()));
      }
      return Value::String(std::move(out));
    }
    case ExprKind::kCondExpr: {
      CELLAR_ASSIGN_OR_RETURN(Value test, Eval(*e.b, scope));
      if (Truthy(test)) return Eval(*e.a, scope);
      if (e.c) return Eval(*e.c, scope);
      return Value::Undefined(
          "the inline if-expression evaluated to false and no else section "
          "was defined.");
    }
    case ExprKind::kNsRef:
      break;
  }
  return Internal("unexpected expression");
}

Result<Value> Interpreter::CallValue(const Value& callee, CallArgs args) {
  if (callee.is_undefined()) return InvalidArgument(callee.undefined_message());
  if (callee.is_object() && callee.object()->callable()) {
    // Keep the callee alive for the duration of the call.
    const std::shared_ptr<Object> keep = callee.object_ptr();
    return keep->Call(*this, std::move(args));
  }
  return InvalidArgument("'" + TypeName(callee) + "' object is not callable");
}

Result<Value> Interpreter::CallFilter(std::string_view name, const Value& input, CallArgs args) {
  const FilterDef* f = FindFilter(name);
  if (!f) return InvalidArgument("No filter named " + PyReprString(name) + ".");
  CELLAR_ASSIGN_OR_RETURN(Value out, f->fn(*this, input, args));
  CELLAR_RETURN_IF_ERROR(CheckValueDepth(out));
  return out;
}

Result<bool> Interpreter::CallTest(std::string_view name, const Value& v, CallArgs args) {
  const TestDef* t = FindTest(name);
  if (!t) return InvalidArgument("No test named " + PyReprString(name) + ".");
  return t->fn(*this, v, args);
}

Result<Value> Interpreter::InvokeMacro(const Stmt& macro, const std::string& name,
                                       const ScopePtr& closure, CallArgs args, bool is_caller) {
  if (call_depth_ >= options_.limits.max_call_depth) {
    return ResourceExhausted("macro calls nested deeper than " +
                             std::to_string(options_.limits.max_call_depth));
  }
  CELLAR_RETURN_IF_ERROR(Tick(1));
  const std::string shown = is_caller ? "caller" : name;
  const size_t n = macro.params.size();
  auto scope = std::make_shared<Scope>(closure);
  std::vector<std::optional<Value>> bound(n);
  for (size_t i = 0; i < n && i < args.positional.size(); ++i) bound[i] = args.positional[i];
  bool found_caller = false;
  std::vector<std::pair<std::string, Value>> kwargs = std::move(args.keyword);
  auto pop_kw = [&](const std::string& key) -> std::optional<Value> {
    for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
      if (it->first == key) {
        Value v = std::move(it->second);
        kwargs.erase(it);
        return v;
      }
    }
    return std::nullopt;
  };
  for (size_t i = args.positional.size(); i < n; ++i) {
    bound[i] = pop_kw(macro.params[i].name);
    if (macro.params[i].name == "caller") found_caller = true;
  }
  if (args.positional.size() >= n) {
    for (const MacroParam& p : macro.params) {
      if (p.name == "caller") found_caller = true;
    }
  }
  if (macro.uses_caller && !found_caller) {
    std::optional<Value> caller = pop_kw("caller");
    scope->Set("caller", caller ? *caller : Value::Undefined("No caller defined"));
  }
  if (macro.uses_kwargs) {
    DictData extra;
    for (auto& [k, v] : kwargs) extra.Set(Value::String(k), std::move(v));
    scope->Set("kwargs", Value::Dict(std::move(extra)));
  } else if (!kwargs.empty()) {
    if (kwargs.front().first == "caller") {
      return InvalidArgument("macro " + PyReprString(shown) +
                             " was invoked with two values for the special caller argument. "
                             "This is most likely a bug.");
    }
    return InvalidArgument("macro " + PyReprString(shown) + " takes no keyword argument " +
                           PyReprString(kwargs.front().first));
  }
  if (macro.uses_varargs) {
    ValueList extra;
    for (size_t i = n; i < args.positional.size(); ++i) extra.push_back(args.positional[i]);
    scope->Set("varargs", Value::Tuple(std::move(extra)));
  } else if (args.positional.size() > n) {
    return InvalidArgument("macro " + PyReprString(shown) + " takes not more than " +
                           std::to_string(n) + " argument(s)");
  }
  ++call_depth_;
  Result<std::string> body = [&]() -> Result<std::string> {
    for (size_t i = 0; i < n; ++i) {
      const MacroParam& p = macro.params[i];
      if (bound[i]) {
        scope->Set(p.name, *bound[i]);
      } else if (p.default_value) {
        CELLAR_ASSIGN_OR_RETURN(Value v, Eval(*p.default_value, scope));
        scope->Set(p.name, v);
      } else {
        scope->Set(p.name,
                   Value::Undefined("parameter " + PyReprString(p.name) + " was not provided"));
      }
    }
    return Capture(macro.body, scope);
  }();
  --call_depth_;
  if (!body.ok()) return body.status();
  return Value::String(std::move(body).value());
}

Result<Value> Interpreter::InvokeRecursiveLoop(const Stmt& loop, const ScopePtr& scope,
                                               const Value& items, int depth) {
  if (call_depth_ >= options_.limits.max_call_depth) {
    return ResourceExhausted("recursive loop calls nested deeper than " +
                             std::to_string(options_.limits.max_call_depth));
  }
  ++call_depth_;
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  Status st = ExecFor(loop, scope, items, depth);
  out_ = saved;
  --call_depth_;
  CELLAR_RETURN_IF_ERROR(st);
  return Value::String(std::move(buf));
}

}  // namespace cellar::jinja
