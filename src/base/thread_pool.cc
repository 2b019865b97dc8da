#include "base/thread_pool.h"

#include <immintrin.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace cellar {
namespace {
// Waiting has three phases: pause-spin (lowest latency; decode dispatches a job
// every few tens of microseconds, with short serial steps in between), then
// sched_yield (lets another runnable thread — e.g. the pool thread being
// waited for — have the core when the machine is oversubscribed), then
// (workers only) sleeping on the condition variable. The phases are timed,
// not counted: PAUSE takes from a few to ~140 cycles depending on the CPU, and
// a worker that yields or sleeps between the steps of one token misses jobs
// whenever other processes want the core (each then runs on fewer threads).
// Pause phase when the pool has no more threads than the machine has CPUs
// (covers the serial steps between the jobs of one decode step), and when it
// has more (then a spinning thread may hold the core the awaited one needs).
constexpr int64_t kPauseNs = 500'000;
constexpr int64_t kPauseNsOversubscribed = 10'000;
constexpr int64_t kYieldNs = 1'000'000;
// Spins between clock reads.
constexpr int kSpinsPerClockRead = 64;

constexpr uint64_t kOpen = uint64_t{1} << 31;
constexpr uint64_t kCountMask = kOpen - 1;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The phase a waiter is in: call Next() once per failed check of the awaited
// condition; it pauses or yields, and returns false once both timed phases
// are over (the caller then sleeps, or keeps yielding).
class Waiter {
 public:
  explicit Waiter(int64_t pause_ns) : pause_ns_(pause_ns) {}

  bool Next() {
    if (++spins_ % kSpinsPerClockRead == 0) {
      const int64_t now = NowNs();
      if (start_ == 0) start_ = now;
      elapsed_ = now - start_;
    }
    if (elapsed_ < pause_ns_) {
      _mm_pause();
      return true;
    }
    std::this_thread::yield();
    return elapsed_ < pause_ns_ + kYieldNs;
  }

 private:
  const int64_t pause_ns_;
  int64_t spins_ = 0;
  int64_t start_ = 0;
  int64_t elapsed_ = 0;
};
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads),
      pause_ns_(static_cast<unsigned>(n_threads_) <= std::thread::hardware_concurrency()
                    ? kPauseNs
                    : kPauseNsOversubscribed) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(2, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t g = generation_.load(std::memory_order_relaxed);
    generation_.store(((g >> 1) + 1) << 1, std::memory_order_release);
  }
  if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
  fn(0, n_threads_);
  for (Waiter w(pause_ns_); pending_.load(std::memory_order_acquire) != 0;) w.Next();
  job_ = nullptr;
}

void ThreadPool::RunOptional(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t counter = (generation_.load(std::memory_order_relaxed) >> 1) + 1;
    optional_state_.store(((counter & 0xffffffffu) << 32) | kOpen, std::memory_order_release);
    generation_.store((counter << 1) | 1, std::memory_order_release);
  }
  if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
  fn(0, n_threads_);
  // Close the job; wait for the workers that joined it.
  uint64_t s = optional_state_.fetch_and(~kOpen, std::memory_order_acq_rel) & ~kOpen;
  for (Waiter w(pause_ns_); (s & kCountMask) != 0;) {
    w.Next();
    s = optional_state_.load(std::memory_order_acquire);
  }
  job_ = nullptr;
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  Run([&](int ith, int nth) {
    const int64_t chunk = (n + nth - 1) / nth;
    const int64_t begin = chunk * ith;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    if (begin < end) fn(begin, end);
  });
}

void ThreadPool::WorkerLoop(int ith) {
  uint64_t seen = 0;
  for (;;) {
    Waiter waiter(pause_ns_);
    uint64_t gen;
    while ((gen = generation_.load(std::memory_order_acquire)) == seen) {
      if (waiter.Next()) continue;
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1, std::memory_order_acq_rel);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_acq_rel);
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    if ((gen & 1) == 0) {
      (*job_)(ith, n_threads_);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
      continue;
    }
    // Optional job: join only while it is open (and still this job).
    const uint64_t tag = ((gen >> 1) & 0xffffffffu) << 32;
    uint64_t s = optional_state_.load(std::memory_order_acquire);
    bool joined = false;
    while ((s & ~(kOpen | kCountMask)) == tag && (s & kOpen) != 0) {
      if (optional_state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    (*job_)(ith, n_threads_);
    optional_state_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

int ThreadPool::PhysicalCores() {
  // Count distinct (physical id, core id) pairs in /proc/cpuinfo.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(in, line)) {
    auto value = [&line] {
      auto p = line.find(':');
      return p == std::string::npos ? std::string() : line.substr(p + 1);
    };
    if (line.rfind("physical id", 0) == 0) phys = value();
    if (line.rfind("core id", 0) == 0) cores.insert({phys, value()});
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

}  // namespace cellar
