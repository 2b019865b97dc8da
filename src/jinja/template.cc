#include "jinja/template.h"

#include "jinja/ast.h"
#include "jinja/interpreter.h"
#include "jinja/json_value.h"
#include "jinja/parser.h"
#include "jinja/py_string.h"

namespace cellar::jinja {

struct Template::Impl {
  std::string source;      // as given
  std::string normalized;  // newlines normalized; error positions refer to it
  Body body;
};

Template::~Template() = default;

Result<Template> Template::Parse(std::string_view source, const SyntaxOptions& options) {
  if (!IsValidUtf8(source)) return InvalidArgument("template source is not valid UTF-8");
  auto impl = std::make_shared<Impl>();
  impl->source = std::string(source);
  impl->normalized = NormalizeSource(source, options.keep_trailing_newline);
  CELLAR_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(impl->normalized, options));
  CELLAR_ASSIGN_OR_RETURN(impl->body, ParseTemplate(impl->normalized, tokens));
  return Template(std::move(impl));
}

const std::string& Template::source() const { return impl_->source; }

Result<std::string> Template::Render(const nlohmann::ordered_json& variables,
                                     const RenderOptions& options, RenderFailure* failure) const {
  if (failure) *failure = RenderFailure{};
  if (!variables.is_object() && !variables.is_null()) {
    return InvalidArgument("template variables must be a JSON object");
  }
  CELLAR_ASSIGN_OR_RETURN(
      Value vars,
      ValueFromJson(variables.is_null() ? nlohmann::ordered_json::object() : variables));
  Interpreter in(options);
  Result<std::string> out = in.Run(impl_->body, vars.dict());
  if (out.ok()) return out;
  if (in.raised_by_template()) {
    if (failure) failure->raised_by_template = true;
    return out.status();
  }
  std::string where;
  if (in.has_error_offset()) {
    const SourcePosition p = PositionOf(impl_->normalized, in.error_offset());
    where = " at line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
  }
  return Status(out.status().code(),
                "template render error" + where + ": " + out.status().message());
}

}  // namespace cellar::jinja
