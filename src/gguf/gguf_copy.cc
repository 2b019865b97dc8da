#include "gguf/gguf_copy.h"

namespace cellar {

Status CopyGgufContents(const GgufFile& src, GgufWriter& dst, const GgufCopyOptions& options) {
  for (const auto& [key, value] : src.metadata()) {
    bool wanted = options.key_prefixes.empty();
    for (const std::string& prefix : options.key_prefixes) {
      if (key.starts_with(prefix)) wanted = true;
    }
    if (wanted) dst.Set(key, value);
  }
  if (!options.copy_tensors) return OkStatus();
  for (const GgufTensorInfo& t : src.tensors()) {
    if (options.tensor_views) {
      CELLAR_RETURN_IF_ERROR(dst.AddTensorView(t.name, t.type, t.dims, t.data));
    } else {
      CELLAR_RETURN_IF_ERROR(dst.AddTensor(t.name, t.type, t.dims, t.data));
    }
  }
  return OkStatus();
}

}  // namespace cellar
