#include "model/model_fingerprint.h"

#include <algorithm>

namespace cellar {

Hash128 ComputeModelFingerprint(const GgufFile& file) {
  constexpr size_t kSample = 4096;
  Hasher128 h;
  h.Update("CLMODEL1");
  const std::span<const uint8_t> bytes = file.bytes();
  h.Update(bytes.subspan(0, std::min(file.data_offset(), bytes.size())));
  for (const GgufTensorInfo& t : file.tensors()) {
    const std::span<const uint8_t> d = t.data;
    if (d.size() <= 3 * kSample) {
      h.Update(d);
      continue;
    }
    h.Update(d.subspan(0, kSample));
    h.Update(d.subspan(d.size() / 2 - kSample / 2, kSample));
    h.Update(d.subspan(d.size() - kSample, kSample));
  }
  return h.Finish();
}

}  // namespace cellar
