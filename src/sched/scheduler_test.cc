#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace cellar {
namespace {

using Ids = std::vector<BlockId>;
using Tokens = std::vector<TokenId>;
using ReqIds = std::vector<RequestId>;

constexpr int kBlockSize = 4;
const Hash128 kSalt = MakeTenantSalt("t");

Tokens Range(int first, int n) {
  Tokens t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

// A scheduler over a small pool, a fake clock, and a fake engine that samples
// token 1000 + 100*id + (output index) for every entry that needs logits and
// finishes requests at their max_tokens.
class SchedulerTest : public ::testing::Test {
 protected:
  void Make(int n_blocks, int max_batch_tokens, int max_running = 8,
            int64_t queue_timeout_nanos = 0) {
    KvCacheManagerOptions kv;
    kv.n_blocks = n_blocks;
    kv.block_size = kBlockSize;
    kv.model_fingerprint = Hash128{7, 7};
    auto manager = KvCacheManager::Create(kv);
    ASSERT_TRUE(manager.ok());
    SchedulerOptions o;
    o.max_batch_tokens = max_batch_tokens;
    o.max_running = max_running;
    o.queue_timeout_nanos = queue_timeout_nanos;
    o.clock = &clock_;
    auto s = Scheduler::Create(std::move(o), std::move(manager).value());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sched_ = std::move(s).value();
  }

  void Add(RequestId id, Tokens prompt, int max_tokens = 100,
           std::optional<std::string> session = std::nullopt, Hash128 salt = kSalt) {
    NewRequest r;
    r.id = id;
    r.prompt = std::move(prompt);
    r.tenant_salt = salt;
    r.session_id = std::move(session);
    ASSERT_TRUE(sched_->AddRequest(std::move(r)).ok());
    max_tokens_[id] = max_tokens;
  }

  // One engine step.
  SchedulerOutput Step() {
    SchedulerOutput out = sched_->Schedule();
    EXPECT_LE(out.n_scheduled_tokens, budget_check_);
    std::vector<SampledToken> sampled;
    for (const ScheduledRequest& s : out.scheduled) {
      if (!s.logits_needed) continue;
      const SchedRequest* r = sched_->Find(s.id);
      sampled.push_back({s.id, static_cast<TokenId>(1000 + 100 * s.id + r->n_output_tokens())});
    }
    sched_->UpdateFromOutput(out, sampled);
    for (const SampledToken& t : sampled) {
      if (sched_->Find(t.id)->n_output_tokens() >= max_tokens_[t.id]) {
        sched_->FinishRequest(t.id);
      }
    }
    return out;
  }

  static ReqIds ScheduledIds(const SchedulerOutput& out) {
    ReqIds ids;
    for (const auto& s : out.scheduled) ids.push_back(s.id);
    return ids;
  }
  static const ScheduledRequest& Item(const SchedulerOutput& out, RequestId id) {
    for (const auto& s : out.scheduled) {
      if (s.id == id) return s;
    }
    ADD_FAILURE() << "request " << id << " not scheduled";
    static const ScheduledRequest none;
    return none;
  }

  FakeClock clock_;
  std::unique_ptr<Scheduler> sched_;
  std::map<RequestId, int> max_tokens_;
  int budget_check_ = 1 << 30;
};

TEST_F(SchedulerTest, RejectsBadOptionsAndRequests) {
  KvCacheManagerOptions kv;
  kv.n_blocks = 4;
  kv.block_size = kBlockSize;
  SchedulerOptions o;
  o.max_batch_tokens = 4;
  o.max_running = 5;  // more than the budget
  EXPECT_EQ(Scheduler::Create(std::move(o), std::move(KvCacheManager::Create(kv)).value())
                .status()
                .code(),
            StatusCode::kInvalidArgument);

  Make(/*n_blocks=*/4, /*max_batch_tokens=*/16);
  NewRequest empty;
  empty.id = 1;
  EXPECT_EQ(sched_->AddRequest(empty).code(), StatusCode::kInvalidArgument);
  NewRequest too_long;
  too_long.id = 2;
  too_long.prompt = Range(0, 16);  // 16 + 1 > 4 blocks * 4 tokens
  EXPECT_EQ(sched_->AddRequest(too_long).code(), StatusCode::kOutOfRange);
  too_long.prompt = Range(0, 15);
  EXPECT_TRUE(sched_->AddRequest(too_long).ok());
  EXPECT_EQ(sched_->AddRequest(too_long).code(), StatusCode::kInvalidArgument);  // dup id
}

TEST_F(SchedulerTest, LongPromptIsChunkedWhileDecodesContinue) {
  Make(/*n_blocks=*/64, /*max_batch_tokens=*/8);
  budget_check_ = 8;
  Add(1, Range(0, 3));
  SchedulerOutput s0 = Step();
  ASSERT_EQ(ScheduledIds(s0), ReqIds({1}));
  EXPECT_EQ(Item(s0, 1).n_new_tokens(), 3);
  EXPECT_TRUE(Item(s0, 1).logits_needed);
  EXPECT_TRUE(Item(s0, 1).admitted_this_step);

  Add(2, Range(100, 20));
  // Each step: request 1 decodes one token first, request 2 gets the other 7.
  const int expect_chunk[] = {7, 7, 6};
  int pos2 = 0;
  for (int step = 0; step < 3; ++step) {
    SchedulerOutput out = Step();
    ASSERT_EQ(ScheduledIds(out), ReqIds({1, 2})) << "step " << step;
    const ScheduledRequest& d = out.scheduled[0];
    EXPECT_EQ(d.n_new_tokens(), 1);
    EXPECT_EQ(d.start_position, 3 + step);
    EXPECT_TRUE(d.logits_needed);
    EXPECT_EQ(d.tokens[0], step == 0 ? 1000 + 100 : 1000 + 100 + step);  // last sampled
    const ScheduledRequest& p = out.scheduled[1];
    EXPECT_EQ(p.n_new_tokens(), expect_chunk[step]);
    EXPECT_EQ(p.start_position, pos2);
    EXPECT_EQ(p.tokens[0], 100 + pos2);
    EXPECT_EQ(p.logits_needed, step == 2);
    EXPECT_EQ(p.admitted_this_step, step == 0);
    EXPECT_EQ(out.n_scheduled_tokens, 1 + expect_chunk[step]);
    pos2 += expect_chunk[step];
  }
  // Both decode now.
  SchedulerOutput out = Step();
  EXPECT_EQ(ScheduledIds(out), ReqIds({1, 2}));
  EXPECT_EQ(out.n_scheduled_tokens, 2);
  EXPECT_EQ(Item(out, 2).start_position, 20);
  EXPECT_EQ(Item(out, 2).tokens, Tokens({1000 + 200}));
}

TEST_F(SchedulerTest, FcfsAdmissionOrderAndMaxRunningBound) {
  Make(/*n_blocks=*/64, /*max_batch_tokens=*/64, /*max_running=*/2);
  Add(1, Range(0, 5), /*max_tokens=*/2);
  Add(2, Range(10, 5), 2);
  Add(3, Range(20, 5), 2);
  SchedulerOutput s0 = Step();
  EXPECT_EQ(ScheduledIds(s0), ReqIds({1, 2}));
  EXPECT_EQ(sched_->n_running(), 2);
  EXPECT_EQ(sched_->n_waiting(), 1);
  SchedulerOutput s1 = Step();  // 1 and 2 decode their 2nd token and finish
  EXPECT_EQ(ScheduledIds(s1), ReqIds({1, 2}));
  SchedulerOutput s2 = Step();
  EXPECT_EQ(s2.finished_ids, ReqIds({1, 2}));
  EXPECT_EQ(ScheduledIds(s2), ReqIds({3}));
}

TEST_F(SchedulerTest, HeadOfQueueThatDoesNotFitBlocksLaterArrivals) {
  Make(/*n_blocks=*/6, /*max_batch_tokens=*/64);
  Add(1, Range(0, 12), /*max_tokens=*/1);  // 3 blocks
  SchedulerOutput s0 = Step();
  EXPECT_EQ(ScheduledIds(s0), ReqIds({1}));
  Add(2, Range(100, 16));  // 4 blocks: only 3 free
  Add(3, Range(200, 3));   // 1 block: would fit, but arrived later
  Add(4, Range(300, 3));
  // Request 1 finished in step 0 (max_tokens 1): its blocks went back tail
  // first (free list: 3 4 5 2 1 0).
  SchedulerOutput s1 = Step();
  EXPECT_EQ(s1.finished_ids, ReqIds({1}));
  EXPECT_EQ(ScheduledIds(s1), ReqIds({2, 3, 4}));
  EXPECT_EQ(Item(s1, 2).block_table, Ids({3, 4, 5, 2}));
  EXPECT_EQ(Item(s1, 3).block_table, Ids({1}));
  EXPECT_EQ(Item(s1, 4).block_table, Ids({0}));

  // With a smaller pool, 2 does not fit next to 1, and 3 (which would fit)
  // does not jump the queue.
  Make(/*n_blocks=*/4, /*max_batch_tokens=*/64);
  Add(1, Range(0, 9), /*max_tokens=*/2);  // 3 blocks
  Add(2, Range(50, 8));                   // 2 blocks
  Add(3, Range(90, 2));                   // 1 block
  SchedulerOutput t0 = Step();
  EXPECT_EQ(ScheduledIds(t0), ReqIds({1}));
  EXPECT_EQ(sched_->n_waiting(), 2);
  SchedulerOutput t1 = Step();  // 1 decodes its 2nd (last) token; still no room
  EXPECT_EQ(ScheduledIds(t1), ReqIds({1}));
  SchedulerOutput t2 = Step();
  EXPECT_EQ(t2.finished_ids, ReqIds({1}));
  EXPECT_EQ(ScheduledIds(t2), ReqIds({2, 3}));
}

TEST_F(SchedulerTest, PreemptsLatestArrivalAndRecomputesFromCachedPrefix) {
  Make(/*n_blocks=*/4, /*max_batch_tokens=*/16);
  Add(1, Range(0, 7), /*max_tokens=*/3);
  Add(2, Range(100, 7), /*max_tokens=*/10);
  SchedulerOutput s0 = Step();  // both prefill: 1 -> blocks 0 1, 2 -> blocks 2 3
  EXPECT_EQ(Item(s0, 1).block_table, Ids({0, 1}));
  EXPECT_EQ(Item(s0, 2).block_table, Ids({2, 3}));
  SchedulerOutput s1 = Step();  // both decode position 7 (last slot of block 1 / 3)
  EXPECT_EQ(ScheduledIds(s1), ReqIds({1, 2}));
  EXPECT_TRUE(s1.preempted_ids.empty());

  // Position 8 needs a new block for each; none is free. Request 2 (the latest
  // arrival) is preempted; request 1 gets its tail block (3).
  SchedulerOutput s2 = Step();
  EXPECT_EQ(s2.preempted_ids, ReqIds({2}));
  EXPECT_EQ(ScheduledIds(s2), ReqIds({1}));
  EXPECT_EQ(Item(s2, 1).block_table, Ids({0, 1, 3}));
  const SchedRequest* r2 = sched_->Find(2);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->state, RequestState::kWaiting);
  EXPECT_EQ(r2->n_computed_tokens, 0);
  EXPECT_EQ(r2->n_preemptions, 1);
  EXPECT_EQ(r2->tokens, (Tokens{100, 101, 102, 103, 104, 105, 106, 1200, 1201}));
  // Request 1 reached max_tokens (3) in step 2 and was finished.

  // Request 2 is readmitted: block 2 (its first 4 tokens) is still cached, so it
  // recomputes positions 4..8 only, into fresh blocks.
  SchedulerOutput s3 = Step();
  EXPECT_EQ(s3.finished_ids, ReqIds({1}));
  ASSERT_EQ(ScheduledIds(s3), ReqIds({2}));
  const ScheduledRequest& re = Item(s3, 2);
  EXPECT_TRUE(re.admitted_this_step);
  EXPECT_EQ(re.start_position, 4);
  EXPECT_EQ(re.tokens, (Tokens{104, 105, 106, 1200, 1201}));
  EXPECT_TRUE(re.logits_needed);
  EXPECT_EQ(re.block_table, Ids({2, 3, 1}));
  // And it goes on decoding where it left off.
  SchedulerOutput s4 = Step();
  EXPECT_EQ(Item(s4, 2).start_position, 9);
  EXPECT_EQ(Item(s4, 2).tokens, Tokens({1202}));
  EXPECT_EQ(sched_->stats().n_preemptions, 1u);
}

TEST_F(SchedulerTest, PreemptingAnAlreadyScheduledDecodeRefundsItsBudget) {
  Make(/*n_blocks=*/6, /*max_batch_tokens=*/8);
  budget_check_ = 8;
  Add(1, Range(0, 20));  // 5 blocks; held back by a (pretend) store load
  ASSERT_TRUE(sched_->MarkWaitingForLoad(1));
  Add(2, Range(100, 3));
  SchedulerOutput s0 = Step();  // 1 is skipped; 2 is admitted behind it
  EXPECT_EQ(ScheduledIds(s0), ReqIds({2}));
  EXPECT_EQ(Item(s0, 2).block_table, Ids({0}));
  ASSERT_TRUE(sched_->MarkLoadReady(1));
  EXPECT_FALSE(sched_->MarkLoadReady(1));

  SchedulerOutput s1 = Step();  // 2 decodes first, 1 gets a 7-token chunk
  EXPECT_EQ(ScheduledIds(s1), ReqIds({2, 1}));
  EXPECT_EQ(Item(s1, 1).block_table, Ids({1, 2}));
  SchedulerOutput s2 = Step();
  EXPECT_EQ(Item(s2, 2).block_table, Ids({0, 3}));
  EXPECT_EQ(Item(s2, 1).block_table, Ids({1, 2, 4, 5}));
  EXPECT_EQ(sched_->kv().pool().n_free(), 0);

  // 2's decode is scheduled first; then 1's last chunk needs a block; the victim
  // is 2 (later arrival), whose decode is taken back out of this step.
  SchedulerOutput s3 = Step();
  EXPECT_EQ(s3.preempted_ids, ReqIds({2}));
  ASSERT_EQ(ScheduledIds(s3), ReqIds({1}));
  EXPECT_EQ(s3.n_scheduled_tokens, 6);
  EXPECT_EQ(Item(s3, 1).start_position, 14);
  EXPECT_TRUE(Item(s3, 1).logits_needed);
  EXPECT_EQ(Item(s3, 1).block_table, Ids({1, 2, 4, 5, 3}));
  EXPECT_EQ(sched_->Find(2)->state, RequestState::kWaiting);
  EXPECT_EQ(sched_->Find(2)->n_computed_tokens, 0);
}

TEST_F(SchedulerTest, CancelFreesBlocksOfWaitingAndRunningRequests) {
  Make(/*n_blocks=*/4, /*max_batch_tokens=*/64);
  Add(1, Range(0, 9));   // 3 blocks
  Add(2, Range(50, 9));  // waits
  SchedulerOutput s0 = Step();
  EXPECT_EQ(ScheduledIds(s0), ReqIds({1}));
  EXPECT_EQ(sched_->kv().stats().n_used_blocks, 3);
  sched_->Cancel(1);
  sched_->Cancel(1);   // twice: listed once
  sched_->Cancel(99);  // unknown: ignored
  // The cancel takes effect at the next step: 1's blocks are freed, and 2 (at
  // the head of the queue) gets them in the same step.
  EXPECT_NE(sched_->Find(1), nullptr);
  SchedulerOutput s1 = Step();
  EXPECT_EQ(s1.cancelled_ids, ReqIds({1}));
  EXPECT_EQ(sched_->Find(1), nullptr);
  EXPECT_EQ(ScheduledIds(s1), ReqIds({2}));
  EXPECT_EQ(Item(s1, 2).block_table, Ids({3, 2, 1}));

  // A waiting request is cancelled too.
  Add(3, Range(200, 9));
  SchedulerOutput s2 = Step();
  EXPECT_EQ(ScheduledIds(s2), ReqIds({2}));
  EXPECT_EQ(sched_->n_waiting(), 1);
  sched_->Cancel(3);
  sched_->Cancel(2);
  SchedulerOutput s3 = Step();
  EXPECT_EQ(s3.cancelled_ids, ReqIds({3, 2}));
  EXPECT_TRUE(s3.scheduled.empty());
  EXPECT_FALSE(sched_->has_unfinished_requests());
  const KvCacheStats kv = sched_->kv().stats();
  EXPECT_EQ(kv.n_used_blocks, 0);
  EXPECT_EQ(kv.n_free_blocks, 4);
  EXPECT_EQ(kv.n_sequences, 0);
}

TEST_F(SchedulerTest, PrefixCacheHitReducesScheduledTokens) {
  Make(/*n_blocks=*/32, /*max_batch_tokens=*/64);
  const Tokens system = Range(0, 12);  // 3 blocks shared by both
  Tokens a = system;
  a.push_back(500);
  Add(1, a, /*max_tokens=*/1);
  SchedulerOutput s0 = Step();
  EXPECT_EQ(Item(s0, 1).n_new_tokens(), 13);
  EXPECT_EQ(sched_->Find(1), nullptr);  // finished after 1 token; blocks stay cached

  Tokens b = system;
  for (TokenId t : {600, 601, 602}) b.push_back(t);
  Add(2, b);
  Add(3, b, 100, std::nullopt, MakeTenantSalt("other tenant"));
  SchedulerOutput s1 = Step();
  EXPECT_EQ(Item(s1, 2).start_position, 12);
  EXPECT_EQ(Item(s1, 2).tokens, Tokens({600, 601, 602}));
  EXPECT_EQ(Item(s1, 2).block_table, Ids({0, 1, 2, 4}));
  EXPECT_EQ(sched_->Find(2)->n_cached_tokens, 12);
  // Another tenant's identical prompt is computed in full.
  EXPECT_EQ(Item(s1, 3).start_position, 0);
  EXPECT_EQ(Item(s1, 3).n_new_tokens(), 15);
  EXPECT_EQ(sched_->Find(3)->n_cached_tokens, 0);
  const KvCacheStats kv = sched_->kv().stats();
  EXPECT_EQ(kv.n_hit_tokens, 12u);
  EXPECT_EQ(kv.n_query_tokens, 13u + 15u + 15u);
}

// Records every queue the scheduler shows.
class RecordingQueueObserver : public SessionQueueObserver {
 public:
  void OnWaitingQueue(std::span<const QueuedRequestInfo> queue) override {
    std::vector<std::string> s;
    for (const QueuedRequestInfo& q : queue) {
      s.push_back(std::to_string(q.id) + ":" + std::string(q.session_id.value_or("-")) +
                  (q.waiting_for_load ? "(load)" : ""));
    }
    calls.push_back(s);
  }
  std::vector<std::vector<std::string>> calls;
};

TEST_F(SchedulerTest, SessionQueueObserverSeesTheWaitingQueueInOrder) {
  Make(/*n_blocks=*/4, /*max_batch_tokens=*/64);
  RecordingQueueObserver obs;
  sched_->SetSessionQueueObserver(&obs);
  Add(1, Range(0, 7), /*max_tokens=*/3, "alpha");
  Add(2, Range(100, 7), 10, "beta");
  Add(3, Range(200, 7), 10);  // no session
  Add(4, Range(300, 7), 10, "delta");
  Step();  // 1, 2 admitted (2 blocks each); 3, 4 wait
  ASSERT_EQ(obs.calls.size(), 1u);
  EXPECT_EQ(obs.calls[0], (std::vector<std::string>{"3:-", "4:delta"}));
  Step();  // decodes at position 7
  Step();  // position 8: 2 is preempted and goes to the front; 1 finishes
  ASSERT_EQ(obs.calls.size(), 3u);
  EXPECT_EQ(obs.calls[2], (std::vector<std::string>{"2:beta", "3:-", "4:delta"}));
  ASSERT_TRUE(sched_->MarkWaitingForLoad(4));
  Step();  // 2 readmitted (3 blocks); 3 does not fit
  EXPECT_EQ(obs.calls[3], (std::vector<std::string>{"3:-", "4:delta(load)"}));
}

// A store stand-in: offers `n_tokens` of KV, ready or not.
class FakeExternalSource : public ExternalKvSource {
 public:
  ExternalKvMatch Match(RequestId id, const Hash128& /*salt*/, std::span<const TokenId> tokens,
                        int n_pool_tokens) override {
    asked.push_back({id, static_cast<int>(tokens.size()), n_pool_tokens});
    return {n_tokens, ready};
  }
  int n_tokens = 0;
  bool ready = false;
  struct Ask {
    RequestId id;
    int n_tokens;
    int n_pool_tokens;
    bool operator==(const Ask&) const = default;
  };
  std::vector<Ask> asked;
};

TEST_F(SchedulerTest, StoreLoadHoldsARequestUntilReadyThenLoadsItsPrefix) {
  Make(/*n_blocks=*/16, /*max_batch_tokens=*/64);
  FakeExternalSource store;
  store.n_tokens = 10;  // rounded down to 8 (whole blocks)
  store.ready = false;
  sched_->SetExternalKvSource(&store);
  Add(1, Range(0, 13));
  Add(2, Range(100, 3));
  SchedulerOutput s0 = Step();
  // 1 waits for its load. 2 is asked too, but with 3 tokens it can load at most
  // 0 (whole blocks, never the last token), so it does not wait.
  EXPECT_EQ(sched_->Find(1)->state, RequestState::kWaitingForLoad);
  ASSERT_EQ(store.asked.size(), 2u);
  EXPECT_EQ(store.asked[0], (FakeExternalSource::Ask{1, 13, 0}));
  EXPECT_EQ(ScheduledIds(s0), ReqIds({2}));
  EXPECT_EQ(Item(s0, 2).n_load_tokens, 0);
  SchedulerOutput s1 = Step();  // still held; not asked again
  EXPECT_EQ(ScheduledIds(s1), ReqIds({2}));
  EXPECT_EQ(store.asked.size(), 2u);

  store.ready = true;
  ASSERT_TRUE(sched_->MarkLoadReady(1));
  SchedulerOutput s2 = Step();
  const ScheduledRequest& r = Item(s2, 1);
  EXPECT_EQ(r.load_start_position, 0);
  EXPECT_EQ(r.n_load_tokens, 8);
  EXPECT_EQ(r.start_position, 8);
  EXPECT_EQ(r.tokens, Tokens({8, 9, 10, 11, 12}));
  EXPECT_EQ(r.block_table.size(), 4u);
  EXPECT_EQ(sched_->Find(1)->n_cached_tokens, 8);
  // After the step the loaded blocks are cached like computed ones.
  EXPECT_EQ(sched_->kv().BlockHashes(1).size(), 3u);
}

TEST_F(SchedulerTest, QueueTimeoutAbortsRequestsThatNeverStarted) {
  Make(/*n_blocks=*/8, /*max_batch_tokens=*/64, /*max_running=*/8,
       /*queue_timeout_nanos=*/1'000'000'000);
  Add(1, Range(0, 27));  // 7 blocks of 8
  Step();
  clock_.AdvanceSeconds(0.5);
  Add(2, Range(100, 5));       // needs 2 blocks: waits
  clock_.AdvanceSeconds(0.6);  // 1 is 1.1 s old but running; 2 is 0.6 s old
  SchedulerOutput s1 = Step();
  EXPECT_TRUE(s1.aborted.empty());
  clock_.AdvanceSeconds(0.5);  // 2 is 1.1 s old and never started
  SchedulerOutput s2 = Step();
  ASSERT_EQ(s2.aborted.size(), 1u);
  EXPECT_EQ(s2.aborted[0].id, 2u);
  EXPECT_EQ(s2.aborted[0].reason, AbortReason::kQueueTimeout);
  EXPECT_EQ(sched_->Find(2), nullptr);
  EXPECT_EQ(ScheduledIds(s2), ReqIds({1}));
}

TEST_F(SchedulerTest, RequestThatOutgrowsThePoolAloneIsAborted) {
  Make(/*n_blocks=*/2, /*max_batch_tokens=*/64);
  Add(1, Range(0, 6));
  Step();                      // prefill 6 tokens
  Step();                      // decode position 6
  Step();                      // decode position 7 (last slot of the pool)
  SchedulerOutput s = Step();  // position 8: no block anywhere
  ASSERT_EQ(s.aborted.size(), 1u);
  EXPECT_EQ(s.aborted[0].id, 1u);
  EXPECT_EQ(s.aborted[0].reason, AbortReason::kKvCapacity);
  EXPECT_TRUE(s.scheduled.empty());
  EXPECT_EQ(sched_->kv().stats().n_used_blocks, 0);
}

}  // namespace
}  // namespace cellar
