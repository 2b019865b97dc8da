// ThreadPool: a persistent set of compute threads that run one parallel job at
// a time. The calling thread takes part as thread 0, so ThreadPool(n) starts
// n-1 workers. Workers spin between jobs (kernels are dispatched many times
// per token; ~0.5 ms, or ~10 us when the pool has more threads than the
// machine has CPUs), then yield for ~1 ms, then sleep.
//
// Thread-safety: Run() may be called by one thread at a time (the owner, e.g.
// the engine thread). The job function is called concurrently from every thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cellar {

class ThreadPool {
 public:
  // REQUIRES: n_threads >= 1.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(ith, nth) once on each of the nth = size() threads (the caller is
  // ith = 0) and returns when all have finished.
  void Run(const std::function<void(int ith, int nth)>& fn);

  // Like Run, but a worker takes part only if it arrives while the calling
  // thread is still inside its own fn call: once the caller's fn(0, nth)
  // returns, the job is closed, the call waits only for the workers that
  // joined, and a worker that arrives later skips the job. So fn must be
  // written so that ANY subset of the threads (thread 0 always included)
  // completes the job, e.g. work handed out by an atomic counter. On a busy
  // machine a descheduled worker then costs nothing instead of stalling the
  // caller. `ith` is unique among the threads that run fn.
  void RunOptional(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into size() contiguous ranges and calls fn(begin, end) for
  // each non-empty one in parallel.
  void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

  // Number of physical cores (falls back to hardware_concurrency()).
  static int PhysicalCores();

 private:
  void WorkerLoop(int ith);

  const int n_threads_;
  const int64_t pause_ns_;  // pause-spin phase of a wait
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  // Job counter << 1 | 1 for RunOptional jobs (read by workers in one load).
  std::atomic<uint64_t> generation_{0};
  // RunOptional: (job counter << 32) | kOpen bit | number of workers inside.
  std::atomic<uint64_t> optional_state_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

}  // namespace cellar
