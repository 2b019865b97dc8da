// StopMatcher: finds stop strings in streamed generated text, across token
// boundaries. Text that could still turn out to be the start of a stop string
// is held back until it is known not to be one; once a stop string completes,
// the text before it is released and the match is reported.
//
// Ownership: one per generated sequence. Thread-safety: not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cellar {

class StopMatcher {
 public:
  // Empty strings in `stops` are ignored.
  explicit StopMatcher(std::vector<std::string> stops);

  struct Output {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string completed; `text` ends just before it
    std::string stop;      // which stop string (when stopped)
  };

  // Appends generated text. After a stop, further calls return empty output.
  Output Push(std::string_view piece);

  // End of generation without a stop: releases what is held back.
  std::string Flush();

  bool stopped() const { return stopped_; }
  // Bytes currently held back.
  size_t held_back() const { return pending_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace cellar
