#include "server/api_error.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace cellar {

ApiError ApiError::Invalid(std::string message, std::optional<std::string> param,
                           std::string code) {
  ApiError e;
  e.status = 400;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

std::string ApiError::ToJson() const {
  nlohmann::ordered_json j;
  j["error"]["message"] = message;
  j["error"]["type"] = type;
  j["error"]["param"] = param ? nlohmann::ordered_json(*param) : nlohmann::ordered_json(nullptr);
  j["error"]["code"] = code ? nlohmann::ordered_json(*code) : nlohmann::ordered_json(nullptr);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse ApiError::ToResponse() const {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = ToJson();
  if (retry_after_seconds > 0)
    r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

ApiError ApiErrorFromStatus(const Status& status) {
  ApiError e;
  e.message = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      e.status = 400;
      e.code = "invalid_value";
      break;
    case StatusCode::kOutOfRange:
      e.status = 400;
      e.code = "context_length_exceeded";
      e.param = "messages";
      break;
    case StatusCode::kResourceExhausted:
      e.status = 429;
      e.type = "rate_limit_error";
      e.code = "queue_full";
      e.retry_after_seconds = 1;
      break;
    case StatusCode::kUnavailable:
      e.status = 503;
      e.type = "server_error";
      e.code = "unavailable";
      break;
    default:
      e.status = 500;
      e.type = "server_error";
      e.code = "internal_error";
      break;
  }
  return e;
}

ApiError ApiErrorForHttpStatus(int status) {
  ApiError e;
  e.status = status;
  switch (status) {
    case 404:
      e.message = "no such endpoint";
      e.code = "not_found";
      break;
    case 413:
      e.message = "request body too large (see --max-body)";
      e.code = "request_too_large";
      break;
    case 400:
      e.message = "malformed HTTP request";
      e.code = "bad_request";
      break;
    default:
      if (status >= 500) {
        e.type = "server_error";
        e.message = "internal server error";
        e.code = "internal_error";
      } else {
        e.message = "HTTP error " + std::to_string(status);
      }
      break;
  }
  return e;
}

}  // namespace cellar
