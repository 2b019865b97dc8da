// GgufByteReader: bounds-checked little-endian cursor over a GGUF file's bytes.
// Every read checks the remaining length first, so no read can run past the end;
// a short read returns OUT_OF_RANGE naming what was being read and the offset.
// Internal to the gguf module. Not thread-safe (a cursor); one per parse.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cellar {

class GgufByteReader {
 public:
  explicit GgufByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t size() const { return bytes_.size(); }

  // Error unless `n` more bytes are available; `what` names the field being read.
  Status Need(uint64_t n, std::string_view what, std::string_view suffix = "") const {
    if (n > remaining()) {
      return OutOfRange("truncated: " + std::string(what) + std::string(suffix) + " needs " +
                        std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
                        " but only " + std::to_string(remaining()) + " remain");
    }
    return OkStatus();
  }

  template <typename T>
  Result<T> Read(std::string_view what) {
    CELLAR_RETURN_IF_ERROR(Need(sizeof(T), what));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // `n` bytes as a view (no copy).
  Result<std::span<const uint8_t>> ReadBytes(uint64_t n, std::string_view what) {
    CELLAR_RETURN_IF_ERROR(Need(n, what));
    std::span<const uint8_t> out = bytes_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
  }

  // A GGUF string: uint64 length, then that many bytes (a view, no copy).
  Result<std::string_view> ReadString(std::string_view what) {
    const size_t start = pos_;
    CELLAR_RETURN_IF_ERROR(Need(sizeof(uint64_t), what, " length"));
    uint64_t len;
    std::memcpy(&len, bytes_.data() + pos_, sizeof(len));
    pos_ += sizeof(len);
    if (len > remaining()) {
      pos_ = start;
      return OutOfRange(std::string(what) + " length " + std::to_string(len) + " at offset " +
                        std::to_string(start) + " runs past the end of the file (" +
                        std::to_string(remaining()) + " bytes remain after the length)");
    }
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_),
                       static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace cellar
