// Interpreter: walks a parsed template for one render. It owns the render's state
// (scopes, output buffers, step and depth counters, the clock of strftime_now) and
// offers filters, tests and callable objects the few services they need.
//
// One Interpreter per render, used by one thread; it is not reusable.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "jinja/ast.h"
#include "jinja/template.h"
#include "jinja/value.h"

namespace cellar::jinja {

// Variables of one block level: a for-loop iteration, a macro call, the template.
// Lookups walk the parent chain. Scopes are shared with the macros defined in them.
class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent) : parent_(std::move(parent)) {}
  const Value* Find(std::string_view name) const;
  void Set(std::string_view name, Value v);

 private:
  std::shared_ptr<Scope> parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options);

  // Renders `body` with `variables` (plus the globals) as the outermost scope.
  Result<std::string> Run(const Body& body, const DictData& variables);

  // Set when the render failed through raise_exception().
  bool raised_by_template() const { return raised_; }
  // Position (byte offset) of the innermost node that saw the error, if any.
  bool has_error_offset() const { return has_error_offset_; }
  uint32_t error_offset() const { return error_offset_; }

  // ---- services for filters, tests, methods and objects ----
  const RenderLimits& limits() const { return options_.limits; }
  // ResourceExhausted when a string of `bytes` would pass the output limit.
  Status CheckSize(size_t bytes) const;
  // Counts `n` steps of work against limits().max_steps.
  Status Tick(int64_t n = 1);
  const std::tm& now() const { return now_; }
  // Marks the failure as raised by the template (raise_exception).
  void MarkRaised() { raised_ = true; }
  // Registers an object whose references are dropped when the render ends (see
  // Object::Release).
  void Track(const std::shared_ptr<Object>& o) { tracked_.push_back(o); }

  Result<Value> CallValue(const Value& callee, CallArgs args);
  Result<Value> CallFilter(std::string_view name, const Value& input, CallArgs args);
  Result<bool> CallTest(std::string_view name, const Value& v, CallArgs args);

  // Macro and caller() invocation (MacroObject::Call).
  Result<Value> InvokeMacro(const Stmt& macro, const std::string& name, const ScopePtr& closure,
                            CallArgs args, bool is_caller);
  // loop(items) inside a recursive for loop.
  Result<Value> InvokeRecursiveLoop(const Stmt& loop, const ScopePtr& scope, const Value& items,
                                    int depth);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  class DepthGuard;

  Result<Flow> ExecBody(const Body& body, const ScopePtr& scope);
  Result<Flow> Exec(const Stmt& s, const ScopePtr& scope);
  Result<Flow> ExecImpl(const Stmt& s, const ScopePtr& scope);
  Status ExecFor(const Stmt& s, const ScopePtr& scope, const Value& iterable, int depth);
  Status ExecCallBlock(const Stmt& s, const ScopePtr& scope);
  Result<std::string> Capture(const Body& body, const ScopePtr& scope);
  Status Assign(const Expr& target, const Value& v, const ScopePtr& scope);
  Status Append(std::string_view text);

  Result<Value> Eval(const Expr& e, const ScopePtr& scope);
  Result<Value> EvalImpl(const Expr& e, const ScopePtr& scope);
  Result<Value> EvalFilter(const Expr& e, const ScopePtr& scope, const Value* block_input);
  Result<Value> EvalGetitem(const Expr& e, const ScopePtr& scope);
  Result<CallArgs> EvalArgs(const Args& args, const ScopePtr& scope);
  Status CheckValueDepth(const Value& v) const;
  void NoteError(uint32_t offset);

  void ReleaseTracked();

  RenderOptions options_;
  std::vector<std::weak_ptr<Object>> tracked_;
  std::tm now_{};
  std::string* out_ = nullptr;  // current output buffer
  int64_t steps_ = 0;
  int eval_depth_ = 0;
  int call_depth_ = 0;
  bool raised_ = false;
  bool has_error_offset_ = false;
  uint32_t error_offset_ = 0;
};

}  // namespace cellar::jinja
