#include "model/arch_llama.h"

#include <string>

namespace cellar {
namespace {

Result<ModelHParams> ReadLlamaHParams(const GgufFile& file) {
  CELLAR_ASSIGN_OR_RETURN(ModelHParams hp, ReadDecoderHParams(file, RopeStyle::kNormal));
  auto experts = file.GetUintOr(file.ArchKey("expert_count"), 0);
  if (!experts.ok()) return experts.status();
  if (*experts > 0) {
    return Unimplemented("llama with " + std::to_string(*experts) +
                         " experts (mixture of experts) is not supported");
  }
  if (hp.rope.n_rot != hp.head_dim) {
    return InvalidArgument("llama needs rope.dimension_count (" + std::to_string(hp.rope.n_rot) +
                           ") == head dimension (" + std::to_string(hp.head_dim) + ")");
  }
  return hp;
}

Result<ModelWeights> BindLlamaWeights(const GgufFile& file, const ModelHParams& hp) {
  return BindDecoderWeights(file, hp, DecoderBindOptions{.require_qkv_bias = false});
}

}  // namespace

const ArchitectureLoader& LlamaArchitecture() {
  static const ArchitectureLoader loader{"llama", ReadLlamaHParams, BindLlamaWeights};
  return loader;
}

}  // namespace cellar
