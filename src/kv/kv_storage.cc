#include "kv/kv_storage.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace cellar {

Result<std::unique_ptr<KvStorage>> KvStorage::Create(const KvLayout& layout) {
  if (layout.n_layers <= 0 || layout.n_kv_heads <= 0 || layout.head_dim <= 0 ||
      layout.block_size <= 0 || layout.n_blocks <= 0) {
    return InvalidArgument("KV layout has a non-positive dimension");
  }
  size_t bytes = layout.TotalBytes();
  bytes = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) {
    return ResourceExhausted("cannot allocate " + std::to_string(bytes) + " bytes of KV memory");
  }
  std::memset(p, 0, bytes);
  return std::unique_ptr<KvStorage>(new KvStorage(layout, static_cast<uint8_t*>(p)));
}

KvStorage::~KvStorage() { std::free(base_); }

}  // namespace cellar
