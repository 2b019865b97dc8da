// SseParser: an incremental parser of a `text/event-stream` body (the WHATWG
// server-sent events format, as OpenAI streams chat completions). Bytes arrive in
// arbitrary pieces (TCP reads); events come out whole.
//
// Lines end with LF, CRLF or CR (a CR at the end of one piece and an LF at the start
// of the next are one line end). `data:` lines accumulate (joined by LF), `event:`
// names the event, lines starting with ':' are comments, and a blank line dispatches
// the event. An event without data lines is not dispatched.
//
// Thread-safety: none; one parser per stream.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cellar::replay {

struct SseEvent {
  std::string event;  // empty when the stream gave no `event:` field
  std::string data;
};

class SseParser {
 public:
  // A line longer than this is an error (a stream that never ends its lines).
  static constexpr size_t kMaxLineBytes = 64 << 20;

  // Parses `bytes` and appends every event they complete to `out`.
  Status Feed(std::string_view bytes, std::vector<SseEvent>* out);

  // End of the stream. Lenient: an event with data whose blank line never came
  // (a server that ends with "data: [DONE]\n") is dispatched rather than dropped.
  void Finish(std::vector<SseEvent>* out);

 private:
  void ProcessLine(std::string_view line, std::vector<SseEvent>* out);
  void Dispatch(std::vector<SseEvent>* out);

  std::string line_;       // the current, not yet terminated line
  bool after_cr_ = false;  // the previous byte was a CR that ended a line
  std::string data_;       // data lines of the current event, each followed by LF
  bool has_data_ = false;
  std::string event_;
};

}  // namespace cellar::replay
