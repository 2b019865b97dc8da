#include "server/openai_request.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace cellar {
namespace {

using Json = nlohmann::ordered_json;

ApiError TypeError(const std::string& param, const std::string& expected) {
  return ApiError::Invalid("'" + param + "' must be " + expected, param, "invalid_type");
}

ApiError ValueError(const std::string& param, const std::string& message) {
  return ApiError::Invalid("'" + param + "' " + message, param, "invalid_value");
}

ApiError Unsupported(const std::string& param, const std::string& message) {
  return ApiError::Invalid(message, param, "unsupported_value");
}

// Reads optional fields of one JSON object; a null value counts as absent.
class Fields {
 public:
  explicit Fields(const Json& obj) : obj_(obj) {}

  const Json* Find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<ApiError> Bool(const char* key, bool* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) return TypeError(key, "a boolean");
    *out = v->get<bool>();
    return std::nullopt;
  }

  std::optional<ApiError> String(const char* key, std::string* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) return TypeError(key, "a string");
    *out = v->get<std::string>();
    return std::nullopt;
  }

  // A number in [lo, hi].
  std::optional<ApiError> Number(const char* key, double lo, double hi, float* out,
                                 bool* given = nullptr) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) return TypeError(key, "a number");
    const double d = v->get<double>();
    if (!(d >= lo && d <= hi)) {
      return ValueError(key, "must be between " + Format(lo) + " and " + Format(hi));
    }
    *out = static_cast<float>(d);
    if (given != nullptr) *given = true;
    return std::nullopt;
  }

  // An integer in [lo, hi] (an integral floating-point value is accepted).
  std::optional<ApiError> Int(const char* key, int64_t lo, int64_t hi, int64_t* out,
                              bool* given = nullptr) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::nullopt;
    int64_t x = 0;
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return ValueError(key, "is out of range");
      }
      x = static_cast<int64_t>(u);
    } else if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else if (v->is_number_float()) {
      const double d = v->get<double>();
      if (std::floor(d) != d || std::fabs(d) > 9.0e15) return TypeError(key, "an integer");
      x = static_cast<int64_t>(d);
    } else {
      return TypeError(key, "an integer");
    }
    if (x < lo || x > hi) {
      return ValueError(key,
                        "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    *out = x;
    if (given != nullptr) *given = true;
    return std::nullopt;
  }

 private:
  static std::string Format(double d) {
    std::string s = std::to_string(d);
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  const Json& obj_;
};

// "stop": a string or a list of strings.
std::optional<ApiError> ParseStop(const Fields& f, std::vector<std::string>* out) {
  const Json* v = f.Find("stop");
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) {
    out->push_back(v->get<std::string>());
    return std::nullopt;
  }
  if (!v->is_array()) return TypeError("stop", "a string or an array of strings");
  if (v->size() > 16) return ValueError("stop", "may hold at most 16 strings");
  for (const auto& s : *v) {
    if (!s.is_string()) return TypeError("stop", "a string or an array of strings");
    out->push_back(s.get<std::string>());
  }
  return std::nullopt;
}

// Sampling and limits shared by both endpoints.
std::optional<ApiError> ParseCommon(const Fields& f, uint64_t random_seed, ParsedApiRequest* out) {
  GenerateRequest& g = out->generate;
  SamplingParams& s = g.sampling;
  s.temperature = 1.0f;  // OpenAI's default
  s.penalty_last_n = 64;
  if (auto e = f.String("model", &out->model)) return e;
  if (auto e = f.Bool("stream", &out->stream)) return e;
  if (const Json* so = f.Find("stream_options")) {
    if (!so->is_object()) return TypeError("stream_options", "an object");
    const Json* iu = nullptr;
    auto it = so->find("include_usage");
    if (it != so->end() && !it->is_null()) iu = &*it;
    if (iu != nullptr) {
      if (!iu->is_boolean()) return TypeError("stream_options.include_usage", "a boolean");
      out->include_usage = iu->get<bool>();
    }
  }
  if (auto e = f.Number("temperature", 0.0, 2.0, &s.temperature)) return e;
  if (auto e = f.Number("top_p", 0.0, 1.0, &s.top_p)) return e;
  if (f.Find("top_p") != nullptr && s.top_p <= 0.0f) {
    return ValueError("top_p", "must be greater than 0");
  }
  int64_t top_k = 0;
  if (auto e = f.Int("top_k", 0, 1 << 30, &top_k)) return e;
  s.top_k = static_cast<int32_t>(top_k);
  if (auto e = f.Number("min_p", 0.0, 1.0, &s.min_p)) return e;
  if (auto e = f.Number("presence_penalty", -2.0, 2.0, &s.presence_penalty)) return e;
  if (auto e = f.Number("frequency_penalty", -2.0, 2.0, &s.frequency_penalty)) return e;
  if (auto e = f.Number("repetition_penalty", 0.01, 10.0, &s.repeat_penalty)) return e;
  int64_t seed = 0;
  bool seed_given = false;
  if (auto e = f.Int("seed", std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max(), &seed, &seed_given)) {
    return e;
  }
  s.seed = seed_given ? static_cast<uint64_t>(seed) : random_seed;
  int64_t n = 1;
  if (auto e = f.Int("n", 1, 1 << 30, &n)) return e;
  if (n != 1) return Unsupported("n", "only n = 1 is supported");
  if (auto e = ParseStop(f, &g.stop)) return e;
  if (auto e = f.String("user", &out->user)) return e;
  bool ignore_eos = false;
  if (auto e = f.Bool("ignore_eos", &ignore_eos)) return e;
  g.stop_at_eog = !ignore_eos;
  std::string session;
  if (f.Find("session_id") != nullptr) {
    if (auto e = f.String("session_id", &session)) return e;
    if (session.empty()) return ValueError("session_id", "must not be empty");
    if (session.size() > 256) return ValueError("session_id", "must be at most 256 bytes");
    g.session_id = std::move(session);
  }
  // max_completion_tokens (the current name) wins over max_tokens.
  int64_t max_tokens = 0;
  bool given = false;
  if (auto e = f.Int("max_tokens", 1, 1 << 30, &max_tokens, &given)) return e;
  if (auto e = f.Int("max_completion_tokens", 1, 1 << 30, &max_tokens, &given)) return e;
  out->max_tokens_given = given;
  g.max_tokens = given ? static_cast<int>(max_tokens) : 0;
  return std::nullopt;
}

// The text of a message's content: a string, or an array of text parts.
std::optional<ApiError> ContentText(const Json& content, const std::string& param,
                                    std::string* out) {
  if (content.is_string()) {
    *out = content.get<std::string>();
    return std::nullopt;
  }
  if (!content.is_array()) return TypeError(param, "a string or an array of content parts");
  out->clear();
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    const std::string pp = param + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return TypeError(pp, "an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return TypeError(pp + ".type", "a string");
    if (type->get<std::string>() != "text") {
      return Unsupported(pp + ".type", "only text content parts are supported, not '" +
                                           type->get<std::string>() + "'");
    }
    auto text = part.find("text");
    if (text == part.end() || !text->is_string()) return TypeError(pp + ".text", "a string");
    *out += text->get<std::string>();
  }
  return std::nullopt;
}

// An assistant message's tool_calls, with string `arguments` parsed into
// objects (chat templates expect objects).
std::optional<ApiError> NormalizeToolCalls(const Json& calls, const std::string& param, Json* out) {
  if (!calls.is_array()) return TypeError(param, "an array");
  *out = Json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string pp = param + "[" + std::to_string(i) + "]";
    const Json& call = calls[i];
    if (!call.is_object()) return TypeError(pp, "an object");
    Json c = call;
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) return TypeError(pp + ".function", "an object");
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string()) {
      return TypeError(pp + ".function.name", "a string");
    }
    auto args = fn->find("arguments");
    if (args != fn->end() && args->is_string()) {
      Json parsed = Json::parse(args->get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        return ValueError(pp + ".function.arguments", "is not valid JSON");
      }
      *args = std::move(parsed);
    } else if (args != fn->end() && !args->is_object() && !args->is_null()) {
      return TypeError(pp + ".function.arguments", "a JSON string or an object");
    }
    if (!c.contains("type")) c["type"] = "function";
    out->push_back(std::move(c));
  }
  return std::nullopt;
}

std::optional<ApiError> ParseMessages(const Json& body, ChatPrompt* chat) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) {
    return ApiError::Invalid("'messages' is required", "messages", "missing_required_parameter");
  }
  if (!it->is_array()) return TypeError("messages", "an array");
  if (it->empty()) return ValueError("messages", "must not be empty");
  chat->messages = Json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& m = (*it)[i];
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return TypeError(p, "an object");
    auto role_it = m.find("role");
    if (role_it == m.end() || !role_it->is_string()) return TypeError(p + ".role", "a string");
    std::string role = role_it->get<std::string>();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
        role != "tool") {
      return ApiError::Invalid("unknown role '" + role + "' in " + p +
                                   " (expected system, developer, user, assistant or tool)",
                               p + ".role", "invalid_value");
    }
    if (role == "developer") role = "system";  // chat templates know "system"
    Json out = Json::object();
    out["role"] = role;
    auto content = m.find("content");
    const bool has_content = content != m.end() && !content->is_null();
    auto calls = m.find("tool_calls");
    const bool has_calls = role == "assistant" && calls != m.end() && !calls->is_null();
    if (has_content) {
      std::string text;
      if (auto e = ContentText(*content, p + ".content", &text)) return e;
      out["content"] = std::move(text);
    } else if (role == "assistant") {
      out["content"] = has_calls ? Json(nullptr) : Json("");
    } else {
      return ApiError::Invalid("'" + p + ".content' is required", p + ".content",
                               "missing_required_parameter");
    }
    if (has_calls) {
      Json normalized;
      if (auto e = NormalizeToolCalls(*calls, p + ".tool_calls", &normalized)) return e;
      out["tool_calls"] = std::move(normalized);
    }
    for (const char* key : {"name", "tool_call_id"}) {
      auto f = m.find(key);
      if (f == m.end() || f->is_null()) continue;
      if (!f->is_string()) return TypeError(p + "." + key, "a string");
      out[key] = *f;
    }
    chat->messages.push_back(std::move(out));
  }
  return std::nullopt;
}

std::optional<ApiError> ParseChat(const Json& body, const Fields& f, ParsedApiRequest* out) {
  if (auto e = ParseMessages(body, &out->chat)) return e;
  if (const Json* tools = f.Find("tools")) {
    if (!tools->is_array()) return TypeError("tools", "an array");
    for (size_t i = 0; i < tools->size(); ++i) {
      if (!(*tools)[i].is_object()) {
        return TypeError("tools[" + std::to_string(i) + "]", "an object");
      }
    }
    if (!tools->empty()) out->chat.tools = *tools;
  }
  bool logprobs = false;
  if (auto e = f.Bool("logprobs", &logprobs)) return e;
  int64_t top = 0;
  bool top_given = false;
  if (auto e = f.Int("top_logprobs", 0, kMaxTopLogprobs, &top, &top_given)) return e;
  if (top_given && !logprobs) {
    return ApiError::Invalid("'top_logprobs' requires 'logprobs' to be true", "top_logprobs",
                             "invalid_value");
  }
  out->generate.logprobs.enabled = logprobs;
  out->generate.logprobs.n_top = static_cast<int>(top);
  if (const Json* rf = f.Find("response_format")) {
    if (!rf->is_object()) return TypeError("response_format", "an object");
    auto type = rf->find("type");
    if (type == rf->end() || !type->is_string()) {
      return TypeError("response_format.type", "a string");
    }
    if (type->get<std::string>() != "text") {
      return Unsupported("response_format",
                         "only response_format {\"type\": \"text\"} is supported");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ParsePromptTokens(const Json& arr, std::vector<TokenId>* out) {
  out->clear();
  for (const auto& t : arr) {
    if (!t.is_number_integer()) return TypeError("prompt", "a string or an array of token ids");
    const int64_t v = t.get<int64_t>();
    if (v < 0 || v > std::numeric_limits<int32_t>::max()) {
      return ValueError("prompt", "holds a token id out of range");
    }
    out->push_back(static_cast<TokenId>(v));
  }
  if (out->empty()) return ValueError("prompt", "must not be an empty list of tokens");
  return std::nullopt;
}

std::optional<ApiError> ParseCompletion(const Fields& f, ParsedApiRequest* out) {
  const Json* prompt = f.Find("prompt");
  if (prompt == nullptr) {
    return ApiError::Invalid("'prompt' is required", "prompt", "missing_required_parameter");
  }
  const Json* p = prompt;
  // A list holding one prompt (a string or a list of token ids).
  if (p->is_array() && !p->empty() && ((*p)[0].is_string() || (*p)[0].is_array())) {
    if (p->size() != 1) return Unsupported("prompt", "only one prompt per request is supported");
    p = &(*p)[0];
  }
  if (p->is_string()) {
    out->prompt_text = p->get<std::string>();
  } else if (p->is_array()) {
    std::vector<TokenId> tokens;
    if (auto e = ParsePromptTokens(*p, &tokens)) return e;
    out->prompt_tokens = std::move(tokens);
  } else {
    return TypeError("prompt", "a string or an array of token ids");
  }
  int64_t logprobs = 0;
  bool given = false;
  if (auto e = f.Int("logprobs", 0, 5, &logprobs, &given)) return e;
  out->generate.logprobs.enabled = given;
  out->generate.logprobs.n_top = static_cast<int>(logprobs);
  bool echo = false;
  if (auto e = f.Bool("echo", &echo)) return e;
  if (echo) return Unsupported("echo", "echo is not supported");
  if (f.Find("suffix") != nullptr) return Unsupported("suffix", "suffix is not supported");
  int64_t best_of = 1;
  if (auto e = f.Int("best_of", 1, 1 << 30, &best_of)) return e;
  if (best_of != 1) return Unsupported("best_of", "only best_of = 1 is supported");
  if (!out->max_tokens_given) out->generate.max_tokens = kDefaultCompletionsMaxTokens;
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseApiRequest(ApiEndpoint endpoint, std::string_view body,
                                        uint64_t random_seed, ParsedApiRequest* out) {
  *out = ParsedApiRequest();
  out->endpoint = endpoint;
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return ApiError::Invalid("the request body is not valid JSON", std::nullopt, "invalid_json");
  }
  if (!j.is_object()) {
    return ApiError::Invalid("the request body must be a JSON object", std::nullopt,
                             "invalid_type");
  }
  Fields f(j);
  if (auto e = ParseCommon(f, random_seed, out)) return e;
  if (endpoint == ApiEndpoint::kChatCompletions) return ParseChat(j, f, out);
  return ParseCompletion(f, out);
}

}  // namespace cellar
