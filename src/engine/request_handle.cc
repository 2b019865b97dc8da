#include "engine/request_handle.h"

#include "engine/engine_service.h"

namespace cellar {

RequestHandle& RequestHandle::operator=(RequestHandle&& other) noexcept {
  if (this != &other) {
    Cancel();
    service_ = other.service_;
    channel_ = std::move(other.channel_);
    other.service_ = nullptr;
  }
  return *this;
}

void RequestHandle::Cancel() {
  if (service_ != nullptr && channel_ != nullptr && !channel_->closed()) {
    service_->Cancel(channel_->id());
  }
  service_ = nullptr;
}

}  // namespace cellar
