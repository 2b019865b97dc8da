#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace cellar {
namespace {

TEST(ThreadPoolTest, RunsEveryThreadOncePerJob) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.Run([&](int ith, int nth) {
        ASSERT_EQ(nth, n);
        hits[static_cast<size_t>(ith)].fetch_add(1);
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPoolTest, ParallelForCoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    pool.ParallelFor(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1);
  }
}

TEST(ThreadPoolTest, RunOptionalCompletesDynamicWorkWithAnySubset) {
  for (int n : {1, 2, 3}) {
    ThreadPool pool(n);
    for (int rep = 0; rep < 500; ++rep) {
      constexpr int kItems = 37;
      std::vector<std::atomic<int>> seen(kItems);
      std::atomic<int> next{0};
      std::vector<std::atomic<int>> ith_hits(static_cast<size_t>(n));
      pool.RunOptional([&](int ith, int nth) {
        ASSERT_EQ(nth, n);
        ith_hits[static_cast<size_t>(ith)].fetch_add(1);
        for (int i; (i = next.fetch_add(1)) < kItems;) seen[static_cast<size_t>(i)].fetch_add(1);
      });
      for (auto& s : seen) ASSERT_EQ(s.load(), 1);
      ASSERT_EQ(ith_hits[0].load(), 1);  // the caller always runs
      for (auto& h : ith_hits) ASSERT_LE(h.load(), 1);
    }
  }
}

TEST(ThreadPoolTest, RunStillReachesEveryThreadAfterOptionalJobs) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 100; ++rep) {
    std::atomic<int> calls{0};
    pool.RunOptional([&](int, int) { calls.fetch_add(1); });
    ASSERT_GE(calls.load(), 1);
    ASSERT_LE(calls.load(), 3);
    std::vector<std::atomic<int>> hits(3);
    pool.Run([&](int ith, int) { hits[static_cast<size_t>(ith)].fetch_add(1); });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPoolTest, PhysicalCoresIsPositive) { EXPECT_GE(ThreadPool::PhysicalCores(), 1); }

}  // namespace
}  // namespace cellar
