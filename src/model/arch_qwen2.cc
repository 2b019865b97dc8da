#include "model/arch_qwen2.h"

namespace cellar {
namespace {

Result<ModelHParams> ReadQwen2HParams(const GgufFile& file) {
  return ReadDecoderHParams(file, RopeStyle::kNeox);
}

Result<ModelWeights> BindQwen2Weights(const GgufFile& file, const ModelHParams& hp) {
  return BindDecoderWeights(file, hp, DecoderBindOptions{.require_qkv_bias = true});
}

}  // namespace

const ArchitectureLoader& Qwen2Architecture() {
  static const ArchitectureLoader loader{"qwen2", ReadQwen2HParams, BindQwen2Weights};
  return loader;
}

}  // namespace cellar
