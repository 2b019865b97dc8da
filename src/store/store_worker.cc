#include "store/store_worker.h"

#include <chrono>

#include "base/log.h"

namespace cellar {

StoreWorker::StoreWorker(TieredStore* store, const Options& options)
    : store_(store), options_(options), metrics_(store->metrics()) {
  thread_ = std::thread([this] { Loop(); });
}

StoreWorker::~StoreWorker() { Close(false); }

void StoreWorker::Save(RawChunk chunk, std::string session_id) {
  const uint64_t bytes = chunk.data.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      Bump(metrics_->saves_dropped);
      return;
    }
    pending_.push_back(Pending{std::move(chunk), std::move(session_id), bytes});
    backlog_bytes_ += bytes;
    // Over budget: the oldest pending saves give way (the newest may be the one).
    while (backlog_bytes_ > options_.write_buffer_bytes && !pending_.empty()) {
      backlog_bytes_ -= pending_.front().bytes;
      pending_.pop_front();
      Bump(metrics_->saves_dropped);
    }
    SetGauge(metrics_->save_backlog_bytes, static_cast<int64_t>(backlog_bytes_));
    SetGauge(metrics_->save_backlog_chunks, static_cast<int64_t>(pending_.size()));
  }
  cv_.notify_one();
}

void StoreWorker::SetQueue(std::vector<std::string> session_ids) {
  store_->SetQueue(std::move(session_ids));
  Wake();
}

void StoreWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void StoreWorker::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return;
  wake_ = true;
  cv_.notify_one();
  idle_cv_.wait(lock, [this] { return stop_ || (pending_.empty() && !working_ && !wake_); });
}

void StoreWorker::Close(bool persist_dram) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    stop_ = true;
    persist_ = persist_dram;
  }
  cv_.notify_one();
  thread_.join();
}

uint64_t StoreWorker::backlog_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return backlog_bytes_;
}

void StoreWorker::Loop() {
  const auto idle = std::chrono::duration<double>(options_.idle_interval_seconds);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (pending_.empty() && !wake_ && !stop_) {
      working_ = false;
      idle_cv_.notify_all();
      if (cv_.wait_for(lock, idle, [this] { return stop_ || wake_ || !pending_.empty(); })) {
        // woken by work
      } else {
        wake_ = true;  // periodic maintenance (TTL)
      }
    }
    working_ = true;
    if (!pending_.empty()) {
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      backlog_bytes_ -= p.bytes;
      SetGauge(metrics_->save_backlog_bytes, static_cast<int64_t>(backlog_bytes_));
      SetGauge(metrics_->save_backlog_chunks, static_cast<int64_t>(pending_.size()));
      lock.unlock();
      Status s = store_->Save(std::move(p.chunk), p.session_id);
      if (!s.ok()) CELLAR_LOG_DEBUG("store: save failed: {}", s.ToString());
      lock.lock();
      wake_ = true;  // saves may have pushed DRAM under the watermark
      continue;
    }
    if (stop_) break;
    wake_ = false;
    lock.unlock();
    // Maintenance, one step at a time so that new saves go first.
    bool more = store_->Maintain();
    lock.lock();
    if (more) wake_ = true;
  }
  const bool persist = persist_;
  lock.unlock();
  if (persist) store_->PersistDram();
  lock.lock();
  working_ = false;
  idle_cv_.notify_all();
}

}  // namespace cellar
