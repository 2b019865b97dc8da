// ApiError: an error answered in OpenAI's format,
//   {"error": {"message": ..., "type": ..., "param": ... | null, "code": ... | null}}
// with its HTTP status. The table of statuses, types and codes is in
// docs/SERVER.md ("Errors").
//
// Plain value; thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "server/http_types.h"

namespace cellar {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::optional<std::string> param;
  std::optional<std::string> code;
  int retry_after_seconds = 0;  // > 0: sent as Retry-After (429)

  // 400 invalid_request_error.
  static ApiError Invalid(std::string message, std::optional<std::string> param, std::string code);
  // The JSON body.
  std::string ToJson() const;
  HttpResponse ToResponse() const;
};

// The API error for a Status from the engine: INVALID_ARGUMENT -> 400
// invalid_value, OUT_OF_RANGE -> 400 context_length_exceeded,
// RESOURCE_EXHAUSTED -> 429 queue_full, UNAVAILABLE -> 503, others -> 500.
ApiError ApiErrorFromStatus(const Status& status);

// The error for a status the HTTP layer produces itself (404, 413, 400 ...).
ApiError ApiErrorForHttpStatus(int status);

}  // namespace cellar
