#include "kv/block_pool.h"

#include <cassert>
#include <string>

namespace cellar {

Result<std::unique_ptr<BlockPool>> BlockPool::Create(BlockPoolOptions options) {
  if (options.n_blocks <= 0) {
    return InvalidArgument("the KV pool needs at least one block (n_blocks=" +
                           std::to_string(options.n_blocks) + "); raise --kv-mem");
  }
  std::unique_ptr<EvictionPolicy> eviction = std::move(options.eviction_policy);
  if (eviction == nullptr) {
    eviction = MakeEvictionPolicy(options.eviction, options.n_blocks);
  } else if (eviction->size() != options.n_blocks) {
    return InvalidArgument("eviction policy does not start with every block free");
  }
  return std::unique_ptr<BlockPool>(new BlockPool(options.n_blocks, std::move(eviction)));
}

BlockPool::BlockPool(int n_blocks, std::unique_ptr<EvictionPolicy> eviction)
    : ref_(static_cast<size_t>(n_blocks), 0),
      has_hash_(static_cast<size_t>(n_blocks), false),
      hash_(static_cast<size_t>(n_blocks)),
      eviction_(std::move(eviction)) {}

std::optional<std::vector<BlockId>> BlockPool::Allocate(int n) {
  if (n < 0 || n > n_free()) return std::nullopt;
  std::vector<BlockId> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::optional<BlockId> victim = eviction_->PopVictim();
    assert(victim.has_value());
    const BlockId id = *victim;
    const size_t b = static_cast<size_t>(id);
    if (has_hash_[b]) {
      cached_.erase(hash_[b]);
      has_hash_[b] = false;
      --n_free_cached_;
      ++n_evicted_;
      if (observer_ != nullptr) observer_->OnBlockEvicted(id, hash_[b]);
      hash_[b] = Hash128{};
    }
    ref_[b] = 1;
    out.push_back(id);
  }
  return out;
}

std::optional<BlockId> BlockPool::LookupCached(const Hash128& hash) const {
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::Touch(std::span<const BlockId> ids) {
  for (BlockId id : ids) {
    const size_t b = static_cast<size_t>(id);
    if (ref_[b] == 0) {
      eviction_->OnReuse(id);
      if (has_hash_[b]) --n_free_cached_;
    }
    ++ref_[b];
  }
}

void BlockPool::Release(std::span<const BlockId> ids) {
  for (BlockId id : ids) {
    const size_t b = static_cast<size_t>(id);
    assert(ref_[b] > 0);
    if (--ref_[b] == 0) {
      eviction_->OnFree(id, has_hash_[b]);
      if (has_hash_[b]) ++n_free_cached_;
    }
  }
}

bool BlockPool::CacheBlock(BlockId id, const Hash128& hash) {
  const size_t b = static_cast<size_t>(id);
  assert(ref_[b] > 0 && !has_hash_[b]);
  if (!cached_.emplace(hash, id).second) return false;
  has_hash_[b] = true;
  hash_[b] = hash;
  if (observer_ != nullptr) observer_->OnBlockCached(id, hash);
  return true;
}

std::optional<Hash128> BlockPool::BlockHash(BlockId id) const {
  const size_t b = static_cast<size_t>(id);
  if (!has_hash_[b]) return std::nullopt;
  return hash_[b];
}

}  // namespace cellar
