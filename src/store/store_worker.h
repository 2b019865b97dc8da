// StoreWorker: the store's background thread. It owns the bounded write
// buffer of pending saves (a request never waits for its save: Save() only
// queues; when the buffer is over budget the OLDEST pending save is dropped
// and counted), stores them into the TieredStore, and between saves runs the
// store's maintenance (watermark demotion DRAM -> disk so saves find room,
// prefetch of queued sessions, TTL expiry).
//
// Thread-safety: Save, SetQueue, Wake, Flush and Close may be called from any
// thread. The worker thread is the TieredStore's only "worker-thread" caller.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/chunk.h"
#include "store/tiered_store.h"

namespace cellar {

class StoreWorker {
 public:
  struct Options {
    uint64_t write_buffer_bytes = 256ull << 20;  // raw bytes of pending saves
    double idle_interval_seconds = 1.0;          // maintenance wake-up (TTL) when idle
  };

  // Starts the thread. REQUIRES: `store` outlives this object.
  StoreWorker(TieredStore* store, const Options& options);
  ~StoreWorker();  // Close(false) if not closed yet
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  // Queues a chunk for saving; never blocks on I/O.
  void Save(RawChunk chunk, std::string session_id);
  // Hands the scheduler's queue to the store and wakes the worker (prefetch).
  void SetQueue(std::vector<std::string> session_ids);
  void Wake();
  // Waits until every save queued before the call is stored and the
  // maintenance has nothing left to do.
  void Flush();
  // Stores what is pending, optionally writes DRAM-only chunks to disk (so they
  // survive a restart), and stops the thread. Later Saves are dropped.
  void Close(bool persist_dram);

  uint64_t backlog_bytes() const;

 private:
  struct Pending {
    RawChunk chunk;
    std::string session_id;
    uint64_t bytes;
  };
  void Loop();

  TieredStore* const store_;
  const Options options_;
  StoreMetrics* const metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the worker
  std::condition_variable idle_cv_;  // wakes Flush()
  std::deque<Pending> pending_;      // GUARDED_BY(mu_)
  uint64_t backlog_bytes_ = 0;       // GUARDED_BY(mu_)
  bool wake_ = false;                // GUARDED_BY(mu_)
  bool working_ = false;             // GUARDED_BY(mu_)
  bool stop_ = false;                // GUARDED_BY(mu_)
  bool closed_ = false;              // GUARDED_BY(mu_)
  bool persist_ = false;             // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace cellar
