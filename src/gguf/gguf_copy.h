// CopyGgufContents: copies metadata (and optionally tensors) from a parsed GgufFile
// into a GgufWriter — e.g. make-model takes the tokenizer.* keys of another GGUF.
// Stateless function; call from one thread per writer.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace cellar {

struct GgufCopyOptions {
  // Keys to copy: every key when empty, else the keys starting with one of these
  // prefixes (e.g. {"tokenizer."}). Existing keys in the writer are replaced.
  std::vector<std::string> key_prefixes;
  // Also copy the tensors (each must be new to the writer).
  bool copy_tensors = false;
  // Copy tensors as views of src's bytes (no copy; src must outlive the writer's last
  // Write*() call) instead of copying their bytes.
  bool tensor_views = true;
};

Status CopyGgufContents(const GgufFile& src, GgufWriter& dst, const GgufCopyOptions& options = {});

}  // namespace cellar
