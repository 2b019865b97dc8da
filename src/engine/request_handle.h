// RequestHandle: the submitter's side of one running request — its id and the
// channel its output arrives on. Dropping a handle before the request has
// ended cancels the request (so a client that goes away frees its blocks on
// every path out of a handler).
//
// Move-only; owned by whoever submitted the request. Thread-safety: one thread
// uses a handle; Cancel() goes through the EngineService, which is thread-safe.
#pragma once

#include <memory>

#include "engine/request_channel.h"
#include "kv/kv_types.h"

namespace cellar {

class EngineService;

class RequestHandle {
 public:
  RequestHandle() = default;
  RequestHandle(EngineService* service, std::shared_ptr<RequestChannel> channel)
      : service_(service), channel_(std::move(channel)) {}
  ~RequestHandle() { Cancel(); }
  RequestHandle(RequestHandle&& other) noexcept
      : service_(other.service_), channel_(std::move(other.channel_)) {
    other.service_ = nullptr;
  }
  RequestHandle& operator=(RequestHandle&& other) noexcept;
  RequestHandle(const RequestHandle&) = delete;
  RequestHandle& operator=(const RequestHandle&) = delete;

  bool valid() const { return channel_ != nullptr; }
  RequestId id() const { return channel_->id(); }
  RequestChannel& channel() { return *channel_; }

  // Asks the engine to drop the request unless it has already ended. Idempotent.
  void Cancel();

 private:
  EngineService* service_ = nullptr;
  std::shared_ptr<RequestChannel> channel_;
};

}  // namespace cellar
