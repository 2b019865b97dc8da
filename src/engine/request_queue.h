// RequestQueue: the engine loop's input. Any thread pushes commands (submit a
// request, cancel one, stop the loop); the engine thread takes them all at
// the start of each step, and sleeps on the queue when it has nothing to do.
//
// Owned by the EngineLoop. Thread-safety: thread-safe (one mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/request_channel.h"
#include "engine/request_params.h"
#include "kv/kv_types.h"

namespace cellar {

struct EngineCommand {
  enum class Kind : uint8_t { kSubmit, kCancel, kStop };
  Kind kind = Kind::kSubmit;
  RequestId id = 0;
  GenerateRequest request;                  // kSubmit
  std::shared_ptr<RequestChannel> channel;  // kSubmit
  int64_t arrival_nanos = 0;                // kSubmit: engine clock at Submit
};

class RequestQueue {
 public:
  void Push(EngineCommand command);

  // Moves every pending command into *out (replacing its contents). With
  // nothing pending, waits up to `wait` for one (nullopt: as long as it takes;
  // zero: not at all).
  void TakeAll(std::optional<std::chrono::nanoseconds> wait, std::vector<EngineCommand>* out);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EngineCommand> pending_;  // guarded by mu_
};

}  // namespace cellar
