// The request schedule the Replayer produces, checked on the fake server's side.
#include "replay/replayer.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "replay/synthetic.h"
#include "replay/testing/fake_openai_server.h"

namespace cellar::replay {
namespace {

using testing::FakeOpenAiServer;
using testing::FakeServerOptions;
using testing::ReceivedRequest;

Workload SmallWorkload(int n, int turns) {
  SyntheticOptions so;
  so.n_conversations = n;
  so.min_turns = so.max_turns = turns;
  so.user_words_median = 5;
  so.assistant_words_median = 8;
  so.system_words = 6;
  return GenerateSynthetic(so);
}

ReplayOptions Options(const FakeOpenAiServer& s) {
  ReplayOptions o;
  o.url = s.url();
  o.model = "fake-model";
  o.max_tokens = 4;
  o.send_session_id = true;
  return o;
}

ReplayResult RunOrDie(const ReplayOptions& o, const Workload& w,
                      const std::atomic<bool>* stop = nullptr) {
  auto r = Replayer::Create(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return (*r)->Run(w, stop, {});
}

// The fake's requests of each session, in arrival order.
std::map<std::string, std::vector<ReceivedRequest>> BySession(const FakeOpenAiServer& s) {
  std::map<std::string, std::vector<ReceivedRequest>> m;
  for (const ReceivedRequest& r : s.requests()) m[r.body.value("session_id", "")].push_back(r);
  return m;
}

TEST(Replayer, TurnsAreSequentialAndCarryTheRecordedHistory) {
  FakeServerOptions fo;
  fo.ttft_s = 0.03;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  const Workload w = SmallWorkload(6, 4);
  ReplayOptions o = Options(server);
  o.concurrency = 3;
  ReplayResult r = RunOrDie(o, w);
  EXPECT_FALSE(r.interrupted);
  ASSERT_EQ(r.records.size(), 24u);
  for (const RequestRecord& rec : r.records) EXPECT_TRUE(rec.ok()) << rec.error;

  auto sessions = BySession(server);
  ASSERT_EQ(sessions.size(), 6u);
  for (size_t i = 0; i < w.conversations.size(); ++i) {
    const Conversation& c = w.conversations[i];
    const std::string sid = SessionId(o, static_cast<int64_t>(i), c);
    ASSERT_TRUE(sessions.count(sid)) << sid;
    const auto& reqs = sessions[sid];
    ASSERT_EQ(reqs.size(), 4u);
    for (size_t k = 0; k < reqs.size(); ++k) {
      // Exactly the body of turn k: system + recorded history + new user message.
      EXPECT_EQ(reqs[k].body, BuildRequestBody(o, c, k, sid)) << sid << " turn " << k + 1;
      EXPECT_EQ(reqs[k].body["messages"].size(), 2 * k + 2);
      if (k > 0) {
        EXPECT_GE(reqs[k].t_recv, reqs[k - 1].t_done) << sid << " turn " << k + 1;
      }
    }
  }
  EXPECT_LE(server.max_in_flight(), 3);
  EXPECT_GE(server.max_in_flight(), 2);  // sessions did overlap
  // Records know their turn and the prompt they sent.
  for (const RequestRecord& rec : r.records) {
    const Conversation& c = w.conversations[static_cast<size_t>(rec.conversation)];
    EXPECT_EQ(rec.conversation_id, c.id);
    EXPECT_EQ(rec.prompt_chars, PromptChars(c, static_cast<size_t>(rec.turn - 1)));
    EXPECT_EQ(rec.n_messages, 2 * rec.turn);
    EXPECT_GE(rec.ttft_s, 0.03);
  }
}

TEST(Replayer, ConcurrencyBoundHoldsWithManySessions) {
  FakeServerOptions fo;
  fo.ttft_s = 0.01;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 5;
  ReplayResult r = RunOrDie(o, SmallWorkload(20, 2));
  EXPECT_EQ(r.records.size(), 40u);
  EXPECT_LE(server.max_in_flight(), 5);
}

TEST(Replayer, ThinkTimeIsALowerBoundBetweenTurns) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 2;
  o.think_time_s = 0.08;
  ReplayResult r = RunOrDie(o, SmallWorkload(2, 3));
  ASSERT_EQ(r.records.size(), 6u);
  for (const auto& [sid, reqs] : BySession(server)) {
    ASSERT_EQ(reqs.size(), 3u);
    for (size_t k = 1; k < reqs.size(); ++k) {
      EXPECT_GE(reqs[k].t_recv - reqs[k - 1].t_done, 0.08) << sid;
    }
  }
}

TEST(Replayer, PoissonArrivalsFollowTheSeededSchedule) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 0;  // unbounded: arrivals alone decide
  o.session_rate = 25;
  o.seed = 77;
  const Workload w = SmallWorkload(8, 1);
  ReplayResult r = RunOrDie(o, w);
  ASSERT_EQ(r.records.size(), 8u);
  const std::vector<double> arrivals = SessionArrivals(8, 25, 77);
  for (const RequestRecord& rec : r.records) {
    EXPECT_GE(rec.t_send, arrivals[static_cast<size_t>(rec.conversation)]) << rec.conversation;
  }
  // The schedule is spread out as drawn: the last session starts at its arrival.
  EXPECT_GE(r.wall_s, arrivals.back());
}

TEST(Replayer, WarmupSessionIdAndExtraFields) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 1;
  o.warmup_turns = 2;
  o.send_session_id = false;
  o.extra = {{"cache_prompt", true}, {"max_tokens", 2}};
  ReplayResult r = RunOrDie(o, SmallWorkload(2, 2));
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_TRUE(r.records[0].warmup);
  EXPECT_TRUE(r.records[1].warmup);
  EXPECT_FALSE(r.records[2].warmup);
  EXPECT_FALSE(r.records[3].warmup);
  for (const ReceivedRequest& req : server.requests()) {
    EXPECT_FALSE(req.body.contains("session_id"));
    EXPECT_EQ(req.body["cache_prompt"], true);
    EXPECT_EQ(req.body["max_tokens"], 2);  // extra fields win
    EXPECT_EQ(req.body["model"], "fake-model");
  }
  EXPECT_EQ(r.records[3].completion_tokens, 2);
}

TEST(Replayer, ErrorsAreRecordedAndTheSessionGoesOn) {
  FakeServerOptions fo;
  fo.fail_every = 3;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 1;
  ReplayResult r = RunOrDie(o, SmallWorkload(2, 3));
  ASSERT_EQ(r.records.size(), 6u);
  int failed = 0;
  for (const RequestRecord& rec : r.records) failed += !rec.ok();
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(r.records[2].http_status, 500);
  EXPECT_FALSE(r.interrupted);
}

TEST(Replayer, StopFlagDrainsThenCancelsAndKeepsWhatWasMeasured) {
  FakeServerOptions fo;
  fo.ttft_s = 0.02;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 2;
  o.drain_timeout_s = 0.2;
  std::atomic<bool> stop{false};
  auto replayer = Replayer::Create(o);
  ASSERT_TRUE(replayer.ok());
  ReplayResult r;
  std::thread t([&] { r = (*replayer)->Run(SmallWorkload(4, 50), &stop, {}); });
  while (server.requests().size() < 6) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  stop = true;
  t.join();
  EXPECT_TRUE(r.interrupted);
  EXPECT_GE(r.records.size(), 6u);
  EXPECT_LT(r.records.size(), 200u);
  int ok = 0;
  for (const RequestRecord& rec : r.records) ok += rec.ok();
  EXPECT_GE(ok, 4);
  EXPECT_LT(r.wall_s, 10.0);
}

TEST(Replayer, InFlightRequestsAreCancelledAfterTheDrainTimeout) {
  FakeServerOptions fo;
  fo.ttft_s = 5.0;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  ReplayOptions o = Options(server);
  o.concurrency = 3;
  o.drain_timeout_s = 0.1;
  o.duration_s = 0.2;  // the same path as a stop flag
  ReplayResult r = RunOrDie(o, SmallWorkload(3, 2));
  EXPECT_TRUE(r.interrupted);
  ASSERT_EQ(r.records.size(), 3u);  // the three first turns, all cut short
  for (const RequestRecord& rec : r.records) {
    EXPECT_TRUE(rec.cancelled);
    EXPECT_EQ(rec.turn, 1);
  }
  EXPECT_LT(r.wall_s, 4.0);
}

TEST(Replayer, AStopBeforeTheRunSendsNothing) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  std::atomic<bool> stop{true};
  ReplayResult r = RunOrDie(Options(server), SmallWorkload(3, 2), &stop);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.interrupted);
  EXPECT_TRUE(server.requests().empty());
}

TEST(Replayer, CreateRejectsBadOptions) {
  ReplayOptions o;
  o.url = "localhost:8080";
  EXPECT_FALSE(Replayer::Create(o).ok());
  o.url = "http://127.0.0.1:1";
  o.extra = nlohmann::json::array();
  EXPECT_FALSE(Replayer::Create(o).ok());
  o.extra = nlohmann::json::object();
  o.concurrency = 0;
  EXPECT_FALSE(Replayer::Create(o).ok());
  o.session_rate = 1;
  EXPECT_TRUE(Replayer::Create(o).ok());
}

}  // namespace
}  // namespace cellar::replay
