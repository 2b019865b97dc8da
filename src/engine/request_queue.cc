#include "engine/request_queue.h"

#include <utility>

namespace cellar {

void RequestQueue::Push(EngineCommand command) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(command));
  }
  cv_.notify_one();
}

void RequestQueue::TakeAll(std::optional<std::chrono::nanoseconds> wait,
                           std::vector<EngineCommand>* out) {
  out->clear();
  std::unique_lock<std::mutex> lock(mu_);
  if (pending_.empty() && wait) {
    if (wait->count() > 0) cv_.wait_for(lock, *wait, [this] { return !pending_.empty(); });
  } else if (pending_.empty()) {
    cv_.wait(lock, [this] { return !pending_.empty(); });
  }
  out->reserve(pending_.size());
  while (!pending_.empty()) {
    out->push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
}

}  // namespace cellar
