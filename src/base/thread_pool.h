// ThreadPool: a persistent set of compute threads that run one parallel job at
// a time. The calling thread takes part as thread 0, so ThreadPool(n) starts
// n-1 workers. Workers spin briefly between jobs (kernels are dispatched many
// times per token) and then sleep.
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

  // Splits [0, n) into size() contiguous ranges and calls fn(begin, end) for
  // each non-empty one in parallel.
  void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

  // Number of physical cores (falls back to hardware_concurrency()).
  static int PhysicalCores();

 private:
  void WorkerLoop(int ith);

  const int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

}  // namespace cellar
