// Replayer: the load generator. Replays a Workload against an OpenAI-compatible
// /v1/chat/completions endpoint, many conversations interleaved, and measures every
// request.
//
// Schedule. Each conversation is a session run by its own thread: its turns go one
// after another (turn k+1 is sent only after turn k's response has ended, plus the
// think time). Sessions start either all at once, or at Poisson arrival times
// (session_rate per second, reproducible from the seed); `concurrency` bounds how
// many sessions are in progress at once (a closed loop of that many users), so it
// also bounds the requests in flight. A session that arrives while the bound is
// reached waits for a free slot.
//
// Stopping. Run() polls a caller-owned flag (set by a SIGINT handler, say) and
// honours duration_s: from then on no request starts; requests in flight get
// drain_timeout_s to finish and are then cancelled (recorded with cancelled=true).
// What was measured is returned either way.
//
// Thread-safety: Run() is called by one thread at a time; it starts and joins its
// own session threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "replay/request_record.h"
#include "replay/workload.h"

namespace cellar::replay {

enum class ThinkTimeDist { kFixed, kExponential };

struct ReplayOptions {
  // Target.
  std::string url = "http://127.0.0.1:8080";
  std::string model = "default";
  std::string api_key;
  double connect_timeout_s = 10;
  double request_timeout_s = 600;

  // Schedule.
  int concurrency = 8;      // sessions in progress at once; 0 = no bound (needs a rate)
  double session_rate = 0;  // sessions started per second (Poisson); 0 = all at once
  double think_time_s = 0;  // between the end of a turn and the next turn of the session
  ThinkTimeDist think_dist = ThinkTimeDist::kFixed;  // fixed, or exponential with that mean
  uint64_t seed = 1;                                 // arrivals and think times
  int64_t warmup_turns = 0;  // the first N requests started are marked warm-up
  double duration_s = 0;     // stop starting requests after this long (0: no limit)
  double drain_timeout_s = 5;

  // Request body.
  int64_t max_tokens = 128;      // "max_tokens"; 0: not sent
  bool send_session_id = false;  // add a stable id per conversation
  std::string session_field = "session_id";
  std::string session_prefix = "replay-";
  nlohmann::json extra = nlohmann::json::object();  // merged into every body last
};

struct ReplayProgress {
  int64_t total_turns = 0;
  int64_t finished = 0;
  int64_t errors = 0;
  int64_t in_flight = 0;
  double elapsed_s = 0;
  bool stopping = false;
};

struct ReplayResult {
  std::vector<RequestRecord> records;  // ordered by send time
  bool interrupted = false;            // stopped before every turn was sent
  double wall_s = 0;
};

// Session start times, seconds from the run start: 0 for everyone when rate <= 0,
// else t_0 = 0 and exponential gaps of mean 1/rate drawn from `seed`.
std::vector<double> SessionArrivals(int64_t n, double rate, uint64_t seed);

// The stable session id of conversation `index` (see ReplayOptions::session_prefix).
std::string SessionId(const ReplayOptions& o, int64_t index, const Conversation& c);

// The JSON body of turn `k` of `c`; `session_id` is added when not empty.
nlohmann::json BuildRequestBody(const ReplayOptions& o, const Conversation& c, size_t k,
                                const std::string& session_id);

class Replayer {
 public:
  using ProgressFn = std::function<void(const ReplayProgress&)>;

  // Checks the options (URL, extra is an object, a bound or a rate).
  static Result<std::unique_ptr<Replayer>> Create(ReplayOptions o);

  // Replays `w`. `stop` may be null. `on_progress` (may be empty) is called from
  // this thread about ten times a second.
  ReplayResult Run(const Workload& w, const std::atomic<bool>* stop, const ProgressFn& on_progress);

 private:
  explicit Replayer(ReplayOptions o) : opts_(std::move(o)) {}
  ReplayOptions opts_;
};

}  // namespace cellar::replay
