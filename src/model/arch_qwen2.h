// The `qwen2` architecture (Qwen2, Qwen2.5): llama's block with q/k/v biases
// (required) and NEOX-layout RoPE (rotating the two halves of each head).
#pragma once

#include "model/model_loader.h"

namespace cellar {
const ArchitectureLoader& Qwen2Architecture();
}  // namespace cellar
