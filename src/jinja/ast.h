// The template syntax tree built by the parser and walked by the interpreter.
// Expressions and statements are small structs tagged with a kind; every node
// records the byte offset of its first token for error messages.
//
// A parsed tree is immutable and shared by concurrent renders.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace cellar::jinja {

struct FilterDef;
struct TestDef;

enum class ExprKind : uint8_t {
  kConst,     // value
  kName,      // name
  kNsRef,     // name.attr as an assignment target ({% set ns.x = ... %})
  kList,      // items
  kTuple,     // items
  kDict,      // items (key, value, key, value, ...)
  kGetattr,   // a.name
  kGetitem,   // a[b]
  kSlice,     // [a:b:c] (items: start, stop, step; any may be null)
  kCall,      // a(args)
  kFilter,    // a | name(args)
  kTest,      // a is name(args)
  kNot,       // not a
  kNeg,       // -a
  kPos,       // +a
  kBinary,    // a op b (arithmetic, and, or)
  kCompare,   // a op b op c ...
  kConcat,    // a ~ b ~ c
  kCondExpr,  // a if b else c
};

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kAnd, kOr };
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// Call-style arguments (calls, filters, tests).
struct Args {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star_args;    // *args
  ExprPtr star_kwargs;  // **kwargs
};

struct Expr {
  ExprKind kind;
  uint32_t offset = 0;
  Value value;                 // kConst
  std::string name;            // kName, kNsRef (namespace), kGetattr, kFilter, kTest
  std::string attr;            // kNsRef
  ExprPtr a, b, c;             // operands (see ExprKind)
  std::vector<ExprPtr> items;  // kList, kTuple, kDict, kSlice, kConcat
  Args args;                   // kCall, kFilter, kTest
  BinaryOp binary_op = BinaryOp::kAdd;
  std::vector<std::pair<CompareOp, ExprPtr>> comparisons;  // kCompare (a is the first)
  const FilterDef* filter = nullptr;                       // kFilter
  const TestDef* test = nullptr;                           // kTest

  Expr(ExprKind k, uint32_t off) : kind(k), offset(off) {}
};

enum class StmtKind : uint8_t {
  kData,         // text
  kPrint,        // {{ expr }}
  kIf,           // branches
  kFor,          // for target in iter [if cond] [recursive] ... [else] ...
  kAssign,       // set target = expr
  kAssignBlock,  // set target [| filter] ... endset
  kMacro,        // macro name(params) ... endmacro
  kCallBlock,    // call[(params)] expr ... endcall
  kFilterBlock,  // filter name(args) ... endfilter
  kWith,         // with a = 1, ... endwith
  kBreak,
  kContinue,
  kScope,  // a body rendered as is ({% generation %})
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

struct Stmt {
  StmtKind kind;
  uint32_t offset = 0;
  std::string text;  // kData; kMacro: macro name
  ExprPtr expr;      // kPrint, kAssign value, kFor iter, kCallBlock call, kFilterBlock filter
  ExprPtr target;    // kAssign, kAssignBlock, kFor
  ExprPtr cond;      // kFor filter (if)
  ExprPtr filter;    // kAssignBlock optional filter chain (input null)
  std::vector<std::pair<ExprPtr, Body>> branches;  // kIf: (test, body); else has null test
  Body body;
  Body else_body;                                             // kFor
  std::vector<MacroParam> params;                             // kMacro, kCallBlock
  std::vector<std::pair<ExprPtr, ExprPtr>> with_assignments;  // kWith (target, value)
  bool recursive = false;                                     // kFor
  bool uses_varargs = false;  // kMacro, kCallBlock: body reads `varargs`
  bool uses_kwargs = false;   // kMacro, kCallBlock: body reads `kwargs`
  bool uses_caller = false;   // kMacro: body reads `caller`

  Stmt(StmtKind k, uint32_t off) : kind(k), offset(off) {}
};

}  // namespace cellar::jinja
