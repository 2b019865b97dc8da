// Status and Result<T>: recoverable errors as values (no exceptions in library code).
//
// A Status is OK or carries a code and a human-readable message. Result<T> holds
// either a T or a non-OK Status. Both are [[nodiscard]]: ignoring an error is a
// compile-time warning (an error under -Werror).
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cellar {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad input from a caller or a file (malformed GGUF, bad JSON)
  kNotFound,           // a key, tensor, file or chunk that does not exist
  kOutOfRange,         // a length or index past the end
  kResourceExhausted,  // no room: blocks, DRAM, disk (ENOSPC), queue full
  kFailedPrecondition,
  kUnimplemented,  // a valid but unsupported feature (architecture, tokenizer type)
  kDataLoss,       // corrupt or torn data (CRC mismatch)
  kIoError,        // an OS call failed
  kCancelled,
  kDeadlineExceeded,
  kUnavailable,  // a remote service is down
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message" (or "OK").
  std::string ToString() const;

  // Returns a copy with `context + ": "` prepended to the message.
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status the caller has decided not to act on.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T>: a value or an error. REQUIRES: a Result is never built from an OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error, or OK when a value is present.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cellar

#define CELLAR_CONCAT_INNER_(a, b) a##b
#define CELLAR_CONCAT_(a, b) CELLAR_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define CELLAR_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::cellar::Status cellar_status_ = (expr);        \
    if (!cellar_status_.ok()) return cellar_status_; \
  } while (0)

// CELLAR_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from a Result or returns its error.
#define CELLAR_ASSIGN_OR_RETURN(lhs, expr) \
  CELLAR_ASSIGN_OR_RETURN_IMPL_(CELLAR_CONCAT_(cellar_result_, __LINE__), lhs, expr)
#define CELLAR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
