// Model: a loaded GGUF model — the mapped file, its hyperparameters and its
// bound weights — ready for the forward pass. Weights stay in the mmapped file
// (zero copy); only small 1-D tensors stored in F16/BF16 are converted.
//
// Created once (Model::Load) and shared read-only by everything that runs it.
// Thread-safety: immutable after loading; any thread may read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/model_weights.h"

namespace cellar {

class Model {
 public:
  // Opens, parses and binds `path`. Errors name the file and the problem
  // (unsupported architecture, missing or mis-shaped tensor, bad metadata).
  static Result<std::unique_ptr<Model>> Load(const std::string& path);
  // Binds an already opened file (tests build files in memory).
  static Result<std::unique_ptr<Model>> FromGguf(std::unique_ptr<GgufFile> file);

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const GgufFile& gguf() const { return *file_; }
  const ModelHParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }

  // Number of weight elements and bytes of all tensors in the file.
  int64_t n_params() const { return n_params_; }
  int64_t n_bytes() const { return n_bytes_; }
  // Short description like llama-bench's "llama 1B Q8_0": architecture, size
  // class from the parameter count, and the main weight type.
  std::string Describe() const;

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  ModelHParams hparams_;
  ModelWeights weights_;
  int64_t n_params_ = 0;
  int64_t n_bytes_ = 0;
};

}  // namespace cellar
