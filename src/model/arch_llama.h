// The `llama` architecture: Llama 1/2/3.x, TinyLlama, SmolLM, Mistral (dense).
// Normal (adjacent-pair) RoPE; optional attention biases; Llama 3 rope scaling
// through the rope_freqs tensor; tied embeddings when output.weight is absent.
#pragma once

#include "model/model_loader.h"

namespace cellar {
const ArchitectureLoader& LlamaArchitecture();
}  // namespace cellar
