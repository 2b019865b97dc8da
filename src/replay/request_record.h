// RequestRecord: everything measured about one replayed request. Times are seconds
// from the start of the run (the replay's own monotonic clock).
//
// Plain value.
#pragma once

#include <cstdint>
#include <string>

namespace cellar::replay {

struct RequestRecord {
  // Which request.
  int64_t conversation = -1;  // index in the replayed workload
  std::string conversation_id;
  std::string session_id;  // the value sent in the session field; empty when off
  int turn = 0;            // 1-based turn index within its conversation
  bool warmup = false;     // among the first --warmup-turns requests: not in the summary
  int64_t prompt_chars = 0;
  int64_t n_messages = 0;

  // Timing. ttft_s and tpot_s are -1 when not measured.
  double t_send = 0;   // just before the request was written
  double ttft_s = -1;  // send -> first chunk carrying content
  double e2e_s = -1;   // send -> end of the response
  double tpot_s = -1;  // (e2e - ttft) / (completion tokens - 1), when > 1 token

  // Outcome.
  int http_status = 0;     // 0: no HTTP response (connection failed, cancelled)
  std::string error;       // empty when the request succeeded
  bool cancelled = false;  // stopped by the replay itself (Ctrl-C, --duration)
  std::string finish_reason;
  int64_t prompt_tokens = -1;  // from usage; -1 when not reported
  int64_t completion_tokens = -1;
  int64_t cached_tokens = -1;
  int64_t content_chunks = 0;
  int64_t output_chars = 0;
  int reconnects = 0;  // sent again on a fresh connection after a stale kept-alive one

  bool ok() const { return !cancelled && error.empty() && http_status == 200; }
};

}  // namespace cellar::replay
