// RequestChannel: carries one request's output from the engine thread to the
// thread that answers the client. The engine pushes a TokenOutput per generated
// token and finally Close()s the channel with the RequestSummary; the consumer
// takes whatever has arrived, waiting with a timeout so it can check its client
// in between.
//
// Shared (std::shared_ptr) by the engine and the consumer. Thread-safety: one
// producer thread and one consumer thread at a time; every method is safe to
// call concurrently with the others.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/request_output.h"
#include "kv/kv_types.h"

namespace cellar {

// What a consumer takes from a channel in one go.
struct RequestEvents {
  std::vector<TokenOutput> tokens;        // in generation order
  std::optional<RequestSummary> summary;  // present once, after the last token

  bool empty() const { return tokens.empty() && !summary; }
};

class RequestChannel {
 public:
  explicit RequestChannel(RequestId id) : id_(id) {}
  RequestChannel(const RequestChannel&) = delete;
  RequestChannel& operator=(const RequestChannel&) = delete;

  RequestId id() const { return id_; }

  // Producer side. Pushes after Close() are ignored.
  void PushToken(TokenOutput token);
  // The last event; a second Close() is ignored.
  void Close(RequestSummary summary);

  // Consumer side: waits up to `timeout` until something has arrived, then moves
  // everything pending into *out (replacing its contents). Returns !out->empty().
  bool Take(std::chrono::nanoseconds timeout, RequestEvents* out);

  // The summary has been pushed (it may not have been taken yet).
  bool closed() const;

 private:
  const RequestId id_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TokenOutput> tokens_;        // guarded by mu_
  std::optional<RequestSummary> summary_;  // guarded by mu_
  bool closed_ = false;                    // guarded by mu_
};

}  // namespace cellar
