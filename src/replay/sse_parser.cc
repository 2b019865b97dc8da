#include "replay/sse_parser.h"

#include <utility>

namespace cellar::replay {

Status SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  size_t i = 0;
  if (after_cr_ && !bytes.empty()) {
    if (bytes[0] == '\n') i = 1;  // the LF of a CRLF split across pieces
    after_cr_ = false;
  }
  while (i < bytes.size()) {
    const size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      if (line_.size() + (bytes.size() - i) > kMaxLineBytes) {
        return InvalidArgument("SSE line longer than 64 MiB");
      }
      line_.append(bytes.substr(i));
      break;
    }
    if (line_.empty()) {
      ProcessLine(bytes.substr(i, end - i), out);
    } else {
      line_.append(bytes.substr(i, end - i));
      ProcessLine(line_, out);
      line_.clear();
    }
    if (bytes[end] == '\r') {
      if (end + 1 < bytes.size()) {
        i = bytes[end + 1] == '\n' ? end + 2 : end + 1;
      } else {
        after_cr_ = true;
        i = end + 1;
      }
    } else {
      i = end + 1;
    }
  }
  return OkStatus();
}

void SseParser::Finish(std::vector<SseEvent>* out) {
  if (!line_.empty()) {
    std::string line = std::move(line_);
    line_.clear();
    ProcessLine(line, out);
  }
  Dispatch(out);
  after_cr_ = false;
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>* out) {
  if (line.empty()) {
    Dispatch(out);
    return;
  }
  if (line[0] == ':') return;  // comment
  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  }
  // `id`, `retry` and unknown fields do not matter to a chat client.
}

void SseParser::Dispatch(std::vector<SseEvent>* out) {
  if (has_data_) {
    data_.pop_back();  // the LF after the last data line
    out->push_back(SseEvent{std::move(event_), std::move(data_)});
  }
  data_.clear();
  event_.clear();
  has_data_ = false;
}

}  // namespace cellar::replay
