// StreamingDetokenizer: turns token ids, pushed one at a time, into text that
// can be sent to a client as it is produced. It holds back the bytes of an
// incomplete UTF-8 character until the ids completing it arrive, and never
// returns invalid UTF-8: an ill-formed sequence becomes U+FFFD as soon as it is
// provably ill-formed, and an incomplete one at Flush(). The concatenation of
// every Push() and the final Flush() equals Tokenizer::Decode of all the ids
// (with the same render_special), when options.sequence_start is true.
//
// One per output stream; not thread-safe (one thread at a time). The Tokenizer
// must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "model/tokenizer.h"

namespace cellar {

class StreamingDetokenizer {
 public:
  struct Options {
    bool render_special = false;
    // The first id starts a sequence, so Decode's leading-space rule applies (SPM
    // vocabularies drop one leading space). Set false when the ids continue a
    // prompt (generated tokens): their pieces are then output unchanged, as
    // llama.cpp's server does.
    bool sequence_start = true;
  };

  explicit StreamingDetokenizer(const Tokenizer& tokenizer) : StreamingDetokenizer(tokenizer, {}) {}
  StreamingDetokenizer(const Tokenizer& tokenizer, Options options);

  // The text that `id` completes (possibly "").
  std::string Push(int32_t id);
  // The held-back bytes, as U+FFFD when they form no character; resets the state
  // (the next Push starts a new sequence per options.sequence_start).
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  Options options_;
  bool strip_space_;
  std::string pending_;  // an incomplete UTF-8 prefix (at most 3 bytes)
};

}  // namespace cellar
