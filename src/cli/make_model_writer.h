// Writes a random-weight GGUF model of a given shape and file type (see
// make_model_plan.h), streaming: tensors are generated row by row on a thread
// pool and written in place, so memory stays small whatever the model size.
// Weights are normal(0, stddev) from a per-row seeded generator (the file does
// not depend on the thread count); norm weights are 1; qwen2 q/k/v biases are
// normal too. The tokenizer (every `tokenizer.*` key) is copied from a GGUF file.
// Thread-safety: WriteRandomModel may run on any thread; it uses its own pool.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "cli/make_model_plan.h"

namespace cellar::cli {

struct MakeModelOptions {
  ModelShape shape;
  ModelFileType file_type = ModelFileType::kF16;
  std::string vocab_path;  // GGUF file with tokenizer.* keys
  uint64_t seed = 1;
  float stddev = 0.02f;
  std::string out_path;
  int threads = 0;  // 0: one per physical core
};

// Writes `out_path` (atomically: a ".partial" file renamed at the end).
// Errors: unreadable vocabulary, vocabulary size different from the shape's,
// bad shape, I/O errors.
Status WriteRandomModel(const MakeModelOptions& options);

}  // namespace cellar::cli
