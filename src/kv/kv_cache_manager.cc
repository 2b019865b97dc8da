#include "kv/kv_cache_manager.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace cellar {

Result<std::unique_ptr<KvCacheManager>> KvCacheManager::Create(
    const KvCacheManagerOptions& options) {
  if (options.block_size <= 0) {
    return InvalidArgument("KV block size must be positive (got " +
                           std::to_string(options.block_size) + ")");
  }
  BlockPoolOptions pool_options;
  pool_options.n_blocks = options.n_blocks;
  pool_options.eviction = options.eviction;
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<BlockPool> pool,
                          BlockPool::Create(std::move(pool_options)));
  return std::unique_ptr<KvCacheManager>(new KvCacheManager(options, std::move(pool)));
}

KvCacheManager::KvCacheManager(const KvCacheManagerOptions& options,
                               std::unique_ptr<BlockPool> pool)
    : pool_(std::move(pool)),
      block_size_(options.block_size),
      model_fingerprint_(options.model_fingerprint),
      enable_prefix_caching_(options.enable_prefix_caching) {}

CachedPrefix KvCacheManager::GetComputedBlocks(const KvRequest& r) const {
  assert(seqs_.count(r.id) == 0);
  CachedPrefix prefix;
  if (!enable_prefix_caching_ || r.tokens.empty()) return prefix;
  const BlockHashContext ctx{model_fingerprint_, r.tenant_salt};
  // At least the last token is computed, so at most (n - 1) tokens are reused.
  const size_t bs = static_cast<size_t>(block_size_);
  const size_t max_blocks = (r.tokens.size() - 1) / bs;
  Hash128 parent = kRootBlockHash;
  for (size_t i = 0; i < max_blocks; ++i) {
    const Hash128 h = HashBlock(parent, r.tokens.subspan(i * bs, bs), ctx);
    const std::optional<BlockId> block = pool_->LookupCached(h);
    if (!block.has_value()) break;
    prefix.blocks.push_back(*block);
    prefix.hashes.push_back(h);
    parent = h;
  }
  prefix.n_tokens = static_cast<int>(prefix.blocks.size()) * block_size_;
  return prefix;
}

bool KvCacheManager::AllocateSlots(const KvRequest& r, int n_new_tokens,
                                   const CachedPrefix& new_computed) {
  auto it = seqs_.find(r.id);
  const bool is_new = it == seqs_.end();
  assert(new_computed.blocks.empty() || (is_new && r.n_computed_tokens == 0));
  const size_t n_have = (is_new ? 0 : it->second.blocks.size()) + new_computed.blocks.size();
  const int64_t n_total =
      static_cast<int64_t>(r.n_computed_tokens) + new_computed.n_tokens + std::max(n_new_tokens, 0);
  const int n_required = BlocksFor(n_total);
  const int n_alloc = std::max(0, n_required - static_cast<int>(n_have));
  // Adopting a free cached block takes it off the free list.
  int n_free_adopted = 0;
  for (BlockId id : new_computed.blocks) n_free_adopted += pool_->RefCount(id) == 0 ? 1 : 0;
  if (n_alloc > pool_->n_free() - n_free_adopted) return false;

  if (is_new) {
    it = seqs_.emplace(r.id, Sequence{}).first;
    it->second.tenant_salt = r.tenant_salt;
    n_query_tokens_ += r.tokens.size();
    n_hit_tokens_ += static_cast<uint64_t>(new_computed.n_tokens);
  }
  Sequence& seq = it->second;
  if (!new_computed.blocks.empty()) {
    pool_->Touch(new_computed.blocks);
    seq.blocks = new_computed.blocks;
    seq.hashes = new_computed.hashes;
    seq.n_committed = static_cast<int>(new_computed.blocks.size());
  }
  if (n_alloc > 0) {
    std::optional<std::vector<BlockId>> fresh = pool_->Allocate(n_alloc);
    assert(fresh.has_value());
    seq.blocks.insert(seq.blocks.end(), fresh->begin(), fresh->end());
  }
  return true;
}

void KvCacheManager::CacheFullBlocks(const KvRequest& r) {
  if (!enable_prefix_caching_) return;
  auto it = seqs_.find(r.id);
  if (it == seqs_.end()) return;
  Sequence& seq = it->second;
  const size_t bs = static_cast<size_t>(block_size_);
  const size_t n_computed = std::min(static_cast<size_t>(r.n_computed_tokens), r.tokens.size());
  const size_t n_full = std::min(n_computed / bs, seq.blocks.size());
  if (n_full <= static_cast<size_t>(seq.n_committed)) return;
  const BlockHashContext ctx{model_fingerprint_, seq.tenant_salt};
  ExtendBlockHashes(r.tokens.first(n_full * bs), block_size_, ctx, &seq.hashes);
  for (size_t i = static_cast<size_t>(seq.n_committed); i < n_full; ++i) {
    // A block that somebody else computed first stays uncached here; the hash
    // chain goes on regardless (hashes name content, not blocks).
    (void)pool_->CacheBlock(seq.blocks[i], seq.hashes[i]);
  }
  seq.n_committed = static_cast<int>(n_full);
}

void KvCacheManager::Free(RequestId id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  std::vector<BlockId>& blocks = it->second.blocks;
  std::reverse(blocks.begin(), blocks.end());
  pool_->Release(blocks);
  seqs_.erase(it);
}

std::span<const BlockId> KvCacheManager::BlockTable(RequestId id) const {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return {};
  return it->second.blocks;
}

std::span<const Hash128> KvCacheManager::BlockHashes(RequestId id) const {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return {};
  return std::span<const Hash128>(it->second.hashes)
      .first(static_cast<size_t>(it->second.n_committed));
}

KvCacheStats KvCacheManager::stats() const {
  KvCacheStats s;
  s.n_blocks = pool_->n_blocks();
  s.n_used_blocks = pool_->n_used();
  s.n_free_blocks = pool_->n_free();
  s.n_cached_blocks = pool_->n_cached();
  s.n_free_cached_blocks = pool_->n_free_cached();
  s.n_sequences = static_cast<int>(seqs_.size());
  s.n_query_tokens = n_query_tokens_;
  s.n_hit_tokens = n_hit_tokens_;
  s.n_evicted_blocks = pool_->n_evicted();
  return s;
}

}  // namespace cellar
