// The architectures Cellar can run, and how each one reads its hyperparameters
// and binds its weights. Each architecture lives in its own arch_<name>.cc and
// provides an ArchitectureLoader; all of them share one forward pass
// (engine/forward_pass.h), which reads only ModelHParams and ModelWeights.
// Thread-safety: the loaders are constant tables; their functions are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/model_weights.h"

namespace cellar {

struct ArchitectureLoader {
  std::string_view name;  // general.architecture
  Result<ModelHParams> (*read_hparams)(const GgufFile& file);
  Result<ModelWeights> (*bind_weights)(const GgufFile& file, const ModelHParams& hp);
};

// The loader for `arch`, or UNIMPLEMENTED naming it and the supported ones.
Result<const ArchitectureLoader*> FindArchitecture(std::string_view arch);

// Names of every supported architecture.
std::vector<std::string_view> SupportedArchitectures();

}  // namespace cellar
