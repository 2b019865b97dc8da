#include "engine/request_channel.h"

#include <utility>

namespace cellar {

void RequestChannel::PushToken(TokenOutput token) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    tokens_.push_back(std::move(token));
  }
  cv_.notify_all();
}

void RequestChannel::Close(RequestSummary summary) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    summary_ = std::move(summary);
  }
  cv_.notify_all();
}

bool RequestChannel::Take(std::chrono::nanoseconds timeout, RequestEvents* out) {
  out->tokens.clear();
  out->summary.reset();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return !tokens_.empty() || summary_.has_value(); });
  out->tokens.swap(tokens_);
  if (summary_) {
    out->summary = std::move(summary_);
    summary_.reset();
  }
  return !out->empty();
}

bool RequestChannel::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

}  // namespace cellar
