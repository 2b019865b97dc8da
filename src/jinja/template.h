// jinja::Template: a parsed Jinja2 template, rendered the way Hugging Face
// transformers renders chat templates (ImmutableSandboxedEnvironment with
// trim_blocks, lstrip_blocks, loop controls, its tojson, raise_exception and
// strftime_now). See docs/TEMPLATES.md for the supported subset.
//
// Parse once; Render is const and may run concurrently from many threads (the
// parsed tree is immutable; each render has its own state). Copies share the tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "jinja/lexer.h"

namespace cellar::jinja {

// Guards against runaway templates. Exceeding one is a ResourceExhausted error.
struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;  // the output, and any one string built
  int64_t max_steps = 10'000'000;  // loop iterations + macro calls + filter items, in total
  int max_call_depth = 100;        // nested macro / caller() / recursive loop calls
  int max_eval_depth = 1000;       // nested expression and statement evaluation
  int max_value_depth = 256;       // nesting of lists and dicts built by the template
};

struct RenderOptions {
  RenderLimits limits;
  // The local time strftime_now() formats; nullopt = the current local time.
  std::optional<std::tm> now;
};

// Extra facts about a failed render.
struct RenderFailure {
  // True when the template itself refused the input with raise_exception(msg);
  // the Status message is then exactly `msg`.
  bool raised_by_template = false;
};

class Template {
 public:
  // Errors (InvalidArgument) name the line and column: "template syntax error at
  // line 3, column 14: ...". Unknown filters and tests are syntax errors.
  static Result<Template> Parse(std::string_view source, const SyntaxOptions& options = {});

  // Renders with the given top-level variables (a JSON object; key order kept).
  // Runtime errors read "template render error at line L, column C: ..." except
  // raise_exception(msg), whose message is msg itself.
  Result<std::string> Render(const nlohmann::ordered_json& variables,
                             const RenderOptions& options = {},
                             RenderFailure* failure = nullptr) const;

  // The source as given to Parse.
  const std::string& source() const;

  Template(const Template&) = default;
  Template& operator=(const Template&) = default;
  Template(Template&&) noexcept = default;
  Template& operator=(Template&&) noexcept = default;
  ~Template();

  struct Impl;

 private:
  explicit Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace cellar::jinja
