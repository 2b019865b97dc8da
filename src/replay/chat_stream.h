// ChatStreamReader: reads one streamed OpenAI chat completion (the SSE body of
// POST /v1/chat/completions with "stream": true) and keeps what a benchmark needs:
// when the first token came, how many content chunks, the usage block, the finish
// reason and any error.
//
// Chunk format (OpenAI): each event's data is a JSON `chat.completion.chunk`
//   {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}
// with, when the request set stream_options.include_usage, a last chunk
//   {"choices":[],"usage":{"prompt_tokens":N,"completion_tokens":M,
//                          "prompt_tokens_details":{"cached_tokens":C}}}
// then `data: [DONE]`. An error mid-stream is an event whose JSON has an "error" key.
// A "first token" is the first chunk whose delta carries non-empty `content` (or
// `reasoning_content`, for servers that stream a model's thinking separately); the
// opening chunk that only announces the role does not count.
//
// Thread-safety: none; one reader per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "replay/sse_parser.h"

namespace cellar::replay {

struct Usage {
  int64_t prompt_tokens = -1;  // -1: not reported
  int64_t completion_tokens = -1;
  int64_t cached_tokens = -1;  // usage.prompt_tokens_details.cached_tokens
};

class ChatStreamReader {
 public:
  // Bytes of the body as they arrive, at time `now_s` (any monotonic seconds).
  // Errors only for a broken stream (an endless line); chunks that are not valid
  // JSON set error() and are otherwise skipped.
  Status Feed(std::string_view bytes, double now_s);
  // End of body.
  void Finish(double now_s);

  // Reads a whole non-streamed `chat.completion` object (a server that ignored
  // "stream": true): counts as one content chunk arriving at `now_s`.
  void ReadNonStreamed(std::string_view json_text, double now_s);

  bool done() const { return done_; }  // `data: [DONE]` seen
  const std::string& error() const { return error_; }
  double first_token_s() const { return first_token_s_; }  // -1: no token came
  double last_token_s() const { return last_token_s_; }
  int64_t content_chunks() const { return content_chunks_; }
  int64_t output_chars() const { return output_chars_; }
  const Usage& usage() const { return usage_; }
  const std::string& finish_reason() const { return finish_reason_; }

 private:
  void OnEvent(const SseEvent& e, double now_s);

  SseParser parser_;
  std::vector<SseEvent> events_;  // scratch, reused between Feed calls
  bool done_ = false;
  std::string error_;
  double first_token_s_ = -1;
  double last_token_s_ = -1;
  int64_t content_chunks_ = 0;
  int64_t output_chars_ = 0;
  Usage usage_;
  std::string finish_reason_;
};

}  // namespace cellar::replay
