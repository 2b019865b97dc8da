#include "model/streaming_detokenizer.h"

#include "model/unicode_utf8.h"

namespace cellar {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, Options options)
    : tokenizer_(tokenizer),
      options_(options),
      strip_space_(options.sequence_start && tokenizer.vocab().add_space_prefix()) {}

std::string StreamingDetokenizer::Push(int32_t id) {
  std::string_view piece = tokenizer_.PieceView(id, options_.render_special);
  if (strip_space_ && !piece.empty()) {
    if (piece.front() == ' ') piece.remove_prefix(1);
    strip_space_ = false;
  }
  if (piece.empty()) return {};
  pending_.append(piece);
  std::string out;
  out.reserve(pending_.size());
  size_t pos = 0;
  while (pos < pending_.size()) {
    if (static_cast<uint8_t>(pending_[pos]) < 0x80) {
      out.push_back(pending_[pos++]);
      continue;
    }
    const unicode::Utf8Prefix p = unicode::ClassifyUtf8(std::string_view(pending_).substr(pos));
    if (p.status == unicode::Utf8Status::kIncomplete) break;  // wait for more bytes
    if (p.status == unicode::Utf8Status::kComplete) {
      out.append(pending_, pos, p.length);
    } else {
      out.append(unicode::kReplacementUtf8);
    }
    pos += p.length;
  }
  pending_.erase(0, pos);
  return out;
}

std::string StreamingDetokenizer::Flush() {
  std::string out = pending_.empty() ? std::string() : std::string(unicode::kReplacementUtf8);
  pending_.clear();
  strip_space_ = options_.sequence_start && tokenizer_.vocab().add_space_prefix();
  return out;
}

}  // namespace cellar
