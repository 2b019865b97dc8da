// GgufFileParser: fills a GgufFile from its bytes — header, metadata, tensor infos —
// and validates the tensor data layout (alignment, bounds, overlaps). Every count
// read from the file is checked against the bytes that remain before anything is
// allocated. Internal to the gguf module; one parser per parse, single-threaded.
#pragma once

#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "gguf/gguf_byte_reader.h"
#include "gguf/gguf_file.h"

namespace cellar {

class GgufFileParser {
 public:
  // REQUIRES: file->bytes_ is set; fills every other field of `file`.
  static Status Run(GgufFile& file);

 private:
  static Status ParseVersion(GgufByteReader& in, GgufFile& file);
  static Status ParseMetadata(GgufByteReader& in, uint64_t n_kv, GgufFile& file);
  static Status ParseAlignment(GgufFile& file);
  static Status ParseTensorInfo(GgufByteReader& in, size_t index,
                                std::unordered_map<std::string_view, size_t>& names,
                                GgufFile& file);
  static Status CheckTensorLayout(GgufFile& file);
};

}  // namespace cellar
