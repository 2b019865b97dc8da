#include "replay/replayer.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "replay/http_client.h"
#include "replay/random.h"

namespace cellar::replay {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr auto kPollPeriod = std::chrono::milliseconds(100);

SteadyTime After(SteadyTime t0, double seconds) {
  return t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  std::chrono::duration<double>(seconds));
}

double Seconds(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

// A per-session random stream that does not depend on which thread runs first.
uint64_t SessionSeed(uint64_t seed, int64_t index) {
  return seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(index + 1));
}

// State shared by the Run thread and the session threads.
class RunState {
 public:
  RunState(const ReplayOptions& o, const Workload& w, SteadyTime t0, int64_t epoch_ns)
      : opts(o), workload(w), t0(t0), epoch_ns(epoch_ns) {}

  const ReplayOptions& opts;
  const Workload& workload;
  const SteadyTime t0;
  const int64_t epoch_ns;

  std::atomic<bool> stopping{false};
  std::atomic<int64_t> next_request{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> finished{0};
  std::atomic<int64_t> errors{0};

  std::mutex mu;
  std::condition_variable cv;          // session ends, stop
  int active_sessions = 0;             // GUARDED_BY(mu)
  std::set<ChatClient*> clients;       // GUARDED_BY(mu): clients of running sessions
  std::vector<RequestRecord> records;  // GUARDED_BY(mu)
  int64_t turns_not_sent = 0;          // GUARDED_BY(mu)
  std::vector<int64_t> ended;          // GUARDED_BY(mu): sessions whose thread can be joined

  void RequestStop() {
    stopping.store(true);
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  }

  void CancelAll() {
    std::lock_guard<std::mutex> lock(mu);
    for (ChatClient* c : clients) c->Cancel();
  }

  // Sleeps until `t` or a stop; returns false on stop.
  bool SleepUntil(SteadyTime t) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_until(lock, t, [&] { return stopping.load(); });
  }

  void RunSession(int64_t index);
};

void RunState::RunSession(int64_t index) {
  const Conversation& c = workload.conversations[static_cast<size_t>(index)];
  ChatClientOptions co;
  co.url = opts.url;
  co.api_key = opts.api_key;
  co.connect_timeout_s = opts.connect_timeout_s;
  co.request_timeout_s = opts.request_timeout_s;
  co.epoch_ns = epoch_ns;
  auto client = ChatClient::Create(co);  // the URL was checked by Replayer::Create
  {
    std::lock_guard<std::mutex> lock(mu);
    if (client.ok()) clients.insert(client->get());
  }
  Rng rng(SessionSeed(opts.seed, index));
  const std::string session_id = opts.send_session_id ? SessionId(opts, index, c) : "";
  size_t k = 0;
  for (; k < c.turns.size(); ++k) {
    if (stopping.load()) break;
    if (k > 0 && opts.think_time_s > 0) {
      const double think = opts.think_dist == ThinkTimeDist::kFixed
                               ? opts.think_time_s
                               : rng.Exponential(opts.think_time_s);
      if (!SleepUntil(After(std::chrono::steady_clock::now(), think))) break;
    }
    RequestRecord rec;
    rec.conversation = index;
    rec.conversation_id = c.id;
    rec.session_id = session_id;
    rec.turn = static_cast<int>(k + 1);
    rec.prompt_chars = PromptChars(c, k);
    const std::string body = BuildRequestBody(opts, c, k, session_id).dump();
    rec.n_messages = static_cast<int64_t>(MessagesForTurn(c, k).size());
    rec.warmup = next_request.fetch_add(1) < opts.warmup_turns;
    in_flight.fetch_add(1);
    if (client.ok()) {
      (*client)->Send(body, &rec);
    } else {
      rec.error = client.status().ToString();
    }
    in_flight.fetch_sub(1);
    if (!rec.ok() && !rec.cancelled) errors.fetch_add(1);
    finished.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    records.push_back(std::move(rec));
  }
  std::lock_guard<std::mutex> lock(mu);
  turns_not_sent += static_cast<int64_t>(c.turns.size() - k);
  if (client.ok()) clients.erase(client->get());
  --active_sessions;
  ended.push_back(index);
  cv.notify_all();
}

}  // namespace

std::vector<double> SessionArrivals(int64_t n, double rate, uint64_t seed) {
  std::vector<double> t(static_cast<size_t>(std::max<int64_t>(n, 0)), 0.0);
  if (rate <= 0) return t;
  Rng rng(seed);
  for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] + rng.Exponential(1.0 / rate);
  return t;
}

std::string SessionId(const ReplayOptions& o, int64_t index, const Conversation& c) {
  return o.session_prefix + std::to_string(index) + "-" + c.id;
}

nlohmann::json BuildRequestBody(const ReplayOptions& o, const Conversation& c, size_t k,
                                const std::string& session_id) {
  nlohmann::json messages = nlohmann::json::array();
  for (const ChatMessage& m : MessagesForTurn(c, k)) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  nlohmann::json body = {{"model", o.model},
                         {"messages", std::move(messages)},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}}};
  if (o.max_tokens > 0) body["max_tokens"] = o.max_tokens;
  if (!session_id.empty()) body[o.session_field] = session_id;
  for (const auto& [key, value] : o.extra.items()) body[key] = value;
  return body;
}

Result<std::unique_ptr<Replayer>> Replayer::Create(ReplayOptions o) {
  CELLAR_RETURN_IF_ERROR(ParseBaseUrl(o.url).status());
  if (!o.extra.is_object()) return InvalidArgument("extra fields must be a JSON object");
  if (o.concurrency < 0) return InvalidArgument("concurrency must be >= 0");
  if (o.concurrency == 0 && o.session_rate <= 0) {
    return InvalidArgument("unbounded concurrency needs a session rate");
  }
  if (o.think_time_s < 0 || o.session_rate < 0 || o.request_timeout_s <= 0) {
    return InvalidArgument("think time, rate and timeout must not be negative");
  }
  return std::unique_ptr<Replayer>(new Replayer(std::move(o)));
}

ReplayResult Replayer::Run(const Workload& w, const std::atomic<bool>* stop,
                           const ProgressFn& on_progress) {
  const SteadyTime t0 = std::chrono::steady_clock::now();
  // Record times count from t0 itself (Clock::Real() reads the same steady clock).
  RunState st(opts_, w, t0,
              std::chrono::duration_cast<std::chrono::nanoseconds>(t0.time_since_epoch()).count());
  const auto n = static_cast<int64_t>(w.conversations.size());
  const std::vector<double> arrivals = SessionArrivals(n, opts_.session_rate, opts_.seed);
  const int64_t total_turns = w.TotalTurns();
  SteadyTime next_progress = t0;
  SteadyTime stop_time{};
  bool stop_seen = false;

  // One poll step of the Run thread: stop flag, duration, drain deadline, progress.
  auto poll = [&] {
    const SteadyTime now = std::chrono::steady_clock::now();
    if (!stop_seen && ((stop != nullptr && stop->load()) ||
                       (opts_.duration_s > 0 && Seconds(t0, now) >= opts_.duration_s))) {
      stop_seen = true;
      stop_time = now;
      st.RequestStop();
    }
    if (stop_seen && Seconds(stop_time, now) >= opts_.drain_timeout_s) {
      st.CancelAll();  // repeated each poll: a request may have opened its socket since
    }
    if (on_progress && now >= next_progress) {
      next_progress = now + kPollPeriod;
      ReplayProgress p;
      p.total_turns = total_turns;
      p.finished = st.finished.load();
      p.errors = st.errors.load();
      p.in_flight = st.in_flight.load();
      p.elapsed_s = Seconds(t0, now);
      p.stopping = stop_seen;
      on_progress(p);
    }
  };

  // One thread per session, joined as soon as it ends (an exited thread keeps its
  // stack until joined, and a long run has thousands of sessions).
  std::vector<std::thread> threads(static_cast<size_t>(n));
  const auto join_ended = [&] {
    std::vector<int64_t> ended;
    {
      std::lock_guard<std::mutex> lock(st.mu);
      ended.swap(st.ended);
    }
    for (int64_t i : ended) threads[static_cast<size_t>(i)].join();
  };

  poll();  // a stop that came before the run starts nothing
  int64_t started = 0;
  for (; started < n; ++started) {
    const SteadyTime arrival = After(t0, arrivals[static_cast<size_t>(started)]);
    bool go = false;
    while (!stop_seen) {
      {
        std::unique_lock<std::mutex> lock(st.mu);
        const bool slot = opts_.concurrency == 0 || st.active_sessions < opts_.concurrency;
        if (slot && std::chrono::steady_clock::now() >= arrival) {
          ++st.active_sessions;
          go = true;
          break;
        }
        const SteadyTime wake = std::min(std::chrono::steady_clock::now() + kPollPeriod,
                                         slot ? arrival : SteadyTime::max());
        st.cv.wait_until(lock, wake);
      }
      poll();
      join_ended();
    }
    if (!go) break;
    threads[static_cast<size_t>(started)] = std::thread([&st, started] { st.RunSession(started); });
  }
  while (true) {
    {
      std::unique_lock<std::mutex> lock(st.mu);
      if (st.active_sessions == 0) break;
      st.cv.wait_for(lock, kPollPeriod);
    }
    poll();
    join_ended();
  }
  join_ended();

  ReplayResult r;
  r.wall_s = Seconds(t0, std::chrono::steady_clock::now());
  r.records = std::move(st.records);
  std::stable_sort(
      r.records.begin(), r.records.end(),
      [](const RequestRecord& a, const RequestRecord& b) { return a.t_send < b.t_send; });
  int64_t not_started = 0;
  for (int64_t i = started; i < n; ++i) {
    not_started += static_cast<int64_t>(w.conversations[static_cast<size_t>(i)].turns.size());
  }
  r.interrupted = stop_seen && (st.turns_not_sent + not_started > 0 ||
                                std::any_of(r.records.begin(), r.records.end(),
                                            [](const RequestRecord& x) { return x.cancelled; }));
  if (on_progress) {
    ReplayProgress p;
    p.total_turns = total_turns;
    p.finished = st.finished.load();
    p.errors = st.errors.load();
    p.elapsed_s = r.wall_s;
    p.stopping = stop_seen;
    on_progress(p);
  }
  return r;
}

}  // namespace cellar::replay
