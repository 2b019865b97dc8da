// Loader: layer-wise loading of a stored prefix. A load reads each chunk's
// layer segments in layer order — every chunk's layer 0, then layer 1, ... —
// from DRAM (no copy for the raw codec) or from disk (through an AsyncReader:
// io_uring or reader threads with at most read_buffer_bytes issued ahead, or
// pread on the loader thread just in time — Options::io), verifies each
// disk segment's CRC, decodes it, hands it to a LayerSink (phase 2: RoPE at the
// new positions + copy into the request's pool blocks) and then marks the layer
// ready. The forward pass waits only on the layer it is about to use.
//
// A chunk that turns out bad (CRC, short, missing, EIO) is reported to the store
// (which drops it) and fails the load: WaitLayer returns the error and the
// caller recomputes (a new Lookup no longer finds the bad chunk). Nothing is
// ever delivered from a segment that failed its check.
//
// Threads: one loader thread runs loads one after another; Start() and the
// LoadHandle methods may be called from any thread (the engine thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/hash.h"
#include "base/status.h"
#include "store/cost_model.h"
#include "store/tiered_store.h"

namespace cellar {

// Receives decoded layers on the loader thread, layer-major and in chunk order.
class LayerSink {
 public:
  virtual ~LayerSink() = default;
  // `k` and `v` hold chunk `chunk_index`'s layer `layer` in the raw layout
  // (shape.HalfLayerBytes(n_tokens) each); valid only during the call.
  virtual void OnLayer(int chunk_index, int layer, const uint8_t* k, const uint8_t* v) = 0;
};

// The state of one load, shared by the loader and the waiting engine thread.
class LoadHandle {
 public:
  // Blocks until layer `layer` of every chunk was delivered to the sink. The
  // first failure of the load (kDataLoss, kNotFound, kIoError, kCancelled)
  // instead, as soon as it is known.
  Status WaitLayer(int layer);
  // Waits until the loader is done with the load (and its sink), whether it
  // succeeded, failed or was cancelled; returns its outcome.
  Status Wait();
  // Stops the load early; waiting calls return kCancelled.
  void Cancel();
  int n_chunks() const { return n_chunks_; }
  int layers_ready() const;
  bool finished() const;
  // Time spent blocked in WaitLayer/Wait (compute waiting on loads).
  int64_t waited_ns() const { return waited_ns_.load(); }

 private:
  friend class Loader;
  LoadHandle(int n_chunks, int n_layers, StoreMetrics* metrics)
      : n_chunks_(n_chunks), n_layers_(n_layers), metrics_(metrics) {}
  void SetReady(int layers);
  void Finish(const Status& s);
  Status WaitFor(int layers);

  const int n_chunks_;
  const int n_layers_;
  StoreMetrics* const metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int ready_ = 0;          // GUARDED_BY(mu_)
  bool finished_ = false;  // GUARDED_BY(mu_)
  Status error_;           // GUARDED_BY(mu_)
  std::atomic<bool> cancelled_{false};
  std::atomic<int64_t> waited_ns_{0};
};

class Loader {
 public:
  // How disk segments are read (--store-io).
  enum class Io {
    kInline,   // pread on the loader thread, just in time (default; see docs/STORE.md)
    kUring,    // io_uring through Env::NewAsyncReader, reads issued ahead
    kThreads,  // a pool of reader threads, reads issued ahead
  };
  struct Options {
    Io io = Io::kInline;
    uint64_t read_buffer_bytes = 256ull << 20;  // disk bytes in flight or staged
    int queue_depth = 64;                       // io_uring depth
    int reader_threads = 2;                     // for kThreads
  };

  // REQUIRES: `store` (and `cost_model`, when given) outlive the loader.
  static Result<std::unique_ptr<Loader>> Create(TieredStore* store, CostModel* cost_model,
                                                const Options& options);
  ~Loader();  // cancels queued loads, finishes the running one
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts loading `chunks` (consecutive chunks of one prefix, e.g. from
  // TieredStore::Lookup) into `sink`. REQUIRES: `sink` outlives the load (until
  // Wait() returns or finished()).
  std::shared_ptr<LoadHandle> Start(std::vector<Hash128> chunks, LayerSink* sink);

 private:
  struct Job {
    std::vector<Hash128> chunks;
    LayerSink* sink;
    std::shared_ptr<LoadHandle> handle;
  };
  Loader(TieredStore* store, CostModel* cost_model, const Options& options,
         std::unique_ptr<AsyncReader> reader);
  void Loop();
  void Run(Job& job);

  TieredStore* const store_;
  CostModel* const cost_model_;
  const Options options_;
  std::unique_ptr<AsyncReader> reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // GUARDED_BY(mu_)
  bool stop_ = false;     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace cellar
