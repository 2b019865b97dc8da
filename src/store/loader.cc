#include "store/loader.h"

#include <chrono>

#include "base/log.h"
#include "store/codec.h"

namespace cellar {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------- LoadHandle

void LoadHandle::SetReady(int layers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready_ = layers;
  }
  cv_.notify_all();
}

void LoadHandle::Finish(const Status& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    if (s.ok()) {
      ready_ = n_layers_;
    } else {
      error_ = s;
    }
  }
  cv_.notify_all();
}

Status LoadHandle::WaitFor(int layers) {
  std::unique_lock<std::mutex> lock(mu_);
  auto done = [&] { return ready_ >= layers || finished_ || cancelled_.load(); };
  if (!done()) {
    const int64_t t0 = SteadyNs();
    cv_.wait(lock, done);
    const int64_t waited = SteadyNs() - t0;
    waited_ns_.fetch_add(waited);
    if (metrics_ != nullptr) Bump(metrics_->load_wait_ns, waited);
  }
  if (ready_ >= layers) return OkStatus();
  if (!error_.ok()) return error_;
  return Cancelled("load cancelled");
}

Status LoadHandle::WaitLayer(int layer) { return WaitFor(layer + 1); }

Status LoadHandle::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!finished_) {
    const int64_t t0 = SteadyNs();
    cv_.wait(lock, [&] { return finished_; });  // the loader is done with the sink
    const int64_t waited = SteadyNs() - t0;
    waited_ns_.fetch_add(waited);
    if (metrics_ != nullptr) Bump(metrics_->load_wait_ns, waited);
  }
  return error_;
}

void LoadHandle::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.store(true);
  }
  cv_.notify_all();
}

int LoadHandle::layers_ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

bool LoadHandle::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

// ---------------------------------------------------------------- Loader

Result<std::unique_ptr<Loader>> Loader::Create(TieredStore* store, CostModel* cost_model,
                                               const Options& options) {
  std::unique_ptr<AsyncReader> reader;
  switch (options.io) {
    case Io::kInline:
      reader = NewInlineAsyncReader();
      break;
    case Io::kThreads:
      reader = NewThreadAsyncReader(options.reader_threads);
      break;
    case Io::kUring: {
      CELLAR_ASSIGN_OR_RETURN(reader, store->options().env->NewAsyncReader(options.queue_depth));
      break;
    }
  }
  return std::unique_ptr<Loader>(new Loader(store, cost_model, options, std::move(reader)));
}

Loader::Loader(TieredStore* store, CostModel* cost_model, const Options& options,
               std::unique_ptr<AsyncReader> reader)
    : store_(store), cost_model_(cost_model), options_(options), reader_(std::move(reader)) {
  thread_ = std::thread([this] { Loop(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::shared_ptr<LoadHandle> Loader::Start(std::vector<Hash128> chunks, LayerSink* sink) {
  std::shared_ptr<LoadHandle> handle(
      new LoadHandle(static_cast<int>(chunks.size()), store_->shape().n_layers, store_->metrics()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      handle->Finish(Cancelled("loader stopped"));
      return handle;
    }
    jobs_.push_back(Job{std::move(chunks), sink, handle});
  }
  cv_.notify_one();
  return handle;
}

void Loader::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) break;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    Run(job);
    lock.lock();
  }
  for (Job& job : jobs_) job.handle->Finish(Cancelled("loader stopped"));
  jobs_.clear();
}

void Loader::Run(Job& job) {
  const KvShape& shape = store_->shape();
  StoreMetrics* metrics = store_->metrics();
  LoadHandle& handle = *job.handle;
  const int L = shape.n_layers;
  const int N = static_cast<int>(job.chunks.size());
  Bump(metrics->loads_started);

  // Hold every chunk: its DRAM copy, or its (pinned) file.
  struct Source {
    TieredStore::PinnedChunk pin;
    std::unique_ptr<RandomAccessFile> file;
  };
  std::vector<Source> src(static_cast<size_t>(N));
  Status status;
  int n_pinned = 0;
  for (int c = 0; c < N && status.ok(); ++c) {
    const Hash128& hash = job.chunks[static_cast<size_t>(c)];
    auto pin = store_->Pin(hash);
    if (!pin.ok()) {
      status = pin.status();
      break;
    }
    Source& s = src[static_cast<size_t>(c)];
    s.pin = std::move(*pin);
    ++n_pinned;
    if (s.pin.dram) continue;
    if (store_->disk() == nullptr || s.pin.disk->layers.size() != static_cast<size_t>(L)) {
      status = Unavailable("store: chunk on a disk tier that is off");
      break;
    }
    auto file = store_->disk()->OpenChunk(hash);
    if (!file.ok()) {
      store_->ReportBadChunk(hash, file.status());
      status = file.status();
      break;
    }
    s.file = std::move(*file);
  }

  // Disk segments, issued in layer-major order within the read budget.
  struct Slot {
    std::vector<uint8_t> buf;
    bool done = false;
    Result<size_t> result = size_t{0};
  };
  std::vector<Slot> slots(static_cast<size_t>(L) * static_cast<size_t>(N));
  std::vector<int> order;  // slot indices (l * N + c) of disk segments
  if (status.ok()) {
    for (int l = 0; l < L; ++l) {
      for (int c = 0; c < N; ++c) {
        if (src[static_cast<size_t>(c)].file) order.push_back(l * N + c);
      }
    }
  }
  std::mutex slot_mu;
  std::condition_variable slot_cv;
  int in_flight = 0;         // GUARDED_BY(slot_mu)
  int64_t last_done_ns = 0;  // GUARDED_BY(slot_mu)
  size_t next_issue = 0;
  uint64_t staged_bytes = 0;  // issued and not yet consumed
  uint64_t disk_bytes = 0;
  int64_t first_issue_ns = 0;
  auto segment_of = [&](int idx) -> const LayerSegment& {
    return src[static_cast<size_t>(idx % N)].pin.disk->layers[static_cast<size_t>(idx / N)];
  };
  // Issues reads in order up to `through` (a slot index; -1: as far as the
  // budget allows). Inline readers complete inside Read(), so they are only
  // asked for the slot being consumed (just in time).
  const bool just_in_time = reader_->reads_inline();
  auto issue_more = [&](int through) {
    while (next_issue < order.size()) {
      const int idx = order[next_issue];
      if (just_in_time && (through < 0 || idx > through)) break;
      const LayerSegment& seg = segment_of(idx);
      if (staged_bytes > 0 && staged_bytes + seg.size > options_.read_buffer_bytes) break;
      staged_bytes += seg.size;
      Slot& slot = slots[static_cast<size_t>(idx)];
      slot.buf.resize(seg.size);
      {
        std::lock_guard<std::mutex> lock(slot_mu);
        ++in_flight;
      }
      if (first_issue_ns == 0) first_issue_ns = SteadyNs();
      reader_->Read(src[static_cast<size_t>(idx % N)].file.get(), seg.offset, slot.buf,
                    [&, idx](Result<size_t> r) {
                      std::lock_guard<std::mutex> lock(slot_mu);
                      Slot& done_slot = slots[static_cast<size_t>(idx)];
                      done_slot.result = std::move(r);
                      done_slot.done = true;
                      --in_flight;
                      last_done_ns = SteadyNs();
                      slot_cv.notify_all();
                    });
      ++next_issue;
    }
  };

  issue_more(-1);  // ahead-of-time readers start now, overlapping DRAM chunks' decoding
  std::vector<uint8_t> k_stage, v_stage;
  uint64_t dram_bytes = 0;
  int64_t dram_ns = 0;
  for (int l = 0; l < L && status.ok(); ++l) {
    for (int c = 0; c < N; ++c) {
      if (handle.cancelled_.load()) {
        status = Cancelled("load cancelled");
        break;
      }
      Source& s = src[static_cast<size_t>(c)];
      const Hash128& hash = job.chunks[static_cast<size_t>(c)];
      const int n_tokens = s.pin.dram ? s.pin.dram->meta.n_tokens()
                                      : static_cast<int>(s.pin.disk->meta.tokens.size());
      const size_t half = shape.HalfLayerBytes(n_tokens);
      std::span<const uint8_t> segment;
      Codec codec;
      const int64_t t0 = SteadyNs();
      Slot* slot = nullptr;
      if (s.pin.dram) {
        segment = s.pin.dram->layers[static_cast<size_t>(l)];
        codec = s.pin.dram->codec;
      } else {
        issue_more(l * N + c);
        slot = &slots[static_cast<size_t>(l * N + c)];
        {
          std::unique_lock<std::mutex> lock(slot_mu);
          slot_cv.wait(lock, [&] { return slot->done; });
        }
        const LayerSegment& seg = s.pin.disk->layers[static_cast<size_t>(l)];
        Status st = slot->result.status();
        if (st.ok() && *slot->result != seg.size) st = DataLoss("chunk file is short");
        if (st.ok()) st = VerifySegment(seg, slot->buf, l);
        if (!st.ok()) {
          store_->ReportBadChunk(hash, st);
          status = st;
          break;
        }
        disk_bytes += seg.size;
        segment = slot->buf;
        codec = s.pin.disk->codec;
      }
      const uint8_t* k;
      const uint8_t* v;
      if (codec == Codec::kRaw) {
        if (segment.size() != 2 * half) {
          status = DataLoss("raw segment of the wrong size");
          if (!s.pin.dram) store_->ReportBadChunk(hash, status);
          break;
        }
        k = segment.data();
        v = segment.data() + half;
      } else {
        k_stage.resize(half);
        v_stage.resize(half);
        Status st = DecodeLayer(codec, shape, n_tokens, segment, k_stage.data(), v_stage.data());
        if (!st.ok()) {
          if (!s.pin.dram) store_->ReportBadChunk(hash, st);
          status = st;
          break;
        }
        k = k_stage.data();
        v = v_stage.data();
      }
      job.sink->OnLayer(c, l, k, v);
      if (slot != nullptr) {
        staged_bytes -= slot->buf.size();
        std::vector<uint8_t>().swap(slot->buf);
      } else {
        dram_bytes += segment.size();
        dram_ns += SteadyNs() - t0;
      }
    }
    if (status.ok()) handle.SetReady(l + 1);
  }

  // Reads still in flight reference this frame: let them land.
  {
    std::unique_lock<std::mutex> lock(slot_mu);
    slot_cv.wait(lock, [&] { return in_flight == 0; });
  }
  for (int c = 0; c < n_pinned; ++c) {
    if (!src[static_cast<size_t>(c)].pin.dram) store_->Unpin(job.chunks[static_cast<size_t>(c)]);
  }
  Bump(metrics->bytes_read_dram, static_cast<int64_t>(dram_bytes));
  Bump(metrics->bytes_read_disk, static_cast<int64_t>(disk_bytes));
  if (cost_model_ != nullptr && status.ok()) {
    if (dram_bytes > 0) cost_model_->ObserveTransfer(Tier::kDram, dram_bytes, dram_ns * 1e-9);
    if (disk_bytes > 0 && last_done_ns > first_issue_ns) {
      cost_model_->ObserveTransfer(Tier::kDisk, disk_bytes, (last_done_ns - first_issue_ns) * 1e-9);
    }
  }
  if (!status.ok() && status.code() != StatusCode::kCancelled) {
    Bump(metrics->loads_failed);
    CELLAR_LOG_WARN("store: load failed, the prefix is recomputed: {}", status.ToString());
  }
  handle.Finish(status);
}

}  // namespace cellar
