#include "model/model_loader.h"

#include "model/arch_llama.h"
#include "model/arch_qwen2.h"

namespace cellar {
namespace {

const ArchitectureLoader* const* All(size_t* n) {
  static const ArchitectureLoader* const all[] = {&LlamaArchitecture(), &Qwen2Architecture()};
  *n = sizeof(all) / sizeof(all[0]);
  return all;
}

}  // namespace

Result<const ArchitectureLoader*> FindArchitecture(std::string_view arch) {
  size_t n = 0;
  const ArchitectureLoader* const* all = All(&n);
  std::string names;
  for (size_t i = 0; i < n; ++i) {
    if (all[i]->name == arch) return all[i];
    names += (i > 0 ? ", " : "") + std::string(all[i]->name);
  }
  return Unimplemented("model architecture '" + std::string(arch) +
                       "' is not supported (supported: " + names + ")");
}

std::vector<std::string_view> SupportedArchitectures() {
  size_t n = 0;
  const ArchitectureLoader* const* all = All(&n);
  std::vector<std::string_view> out;
  for (size_t i = 0; i < n; ++i) out.push_back(all[i]->name);
  return out;
}

}  // namespace cellar
