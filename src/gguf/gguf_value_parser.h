// GgufValueParser: reads one typed GGUF metadata value from a GgufByteReader into a
// GgufValue whose strings and arrays are views into the reader's bytes. Array
// counts are checked against the bytes left before anything is allocated, and
// nesting is limited to kGgufMaxArrayDepth. Internal to the gguf module; stateless.
#pragma once

#include <string_view>

#include "base/status.h"
#include "gguf/gguf_byte_reader.h"
#include "gguf/gguf_value.h"

namespace cellar {

class GgufValueParser {
 public:
  // Reads a value of on-disk type id `type_id` (read at offset `type_at`). `what`
  // names it in errors (e.g. "key 'x'").
  static Result<GgufValue> Parse(GgufByteReader& in, uint32_t type_id, size_t type_at,
                                 std::string_view what);

 private:
  static Result<GgufValue> ParseArray(GgufByteReader& in, std::string_view what, int depth);
};

}  // namespace cellar
