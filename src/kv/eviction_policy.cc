#include "kv/eviction_policy.h"

#include "kv/block_list.h"

namespace cellar {
namespace {

// One list in LRU order: freed blocks at the tail, victims from the head.
class LruEvictionPolicy final : public EvictionPolicy {
 public:
  explicit LruEvictionPolicy(int n_blocks) : list_(n_blocks) {
    for (BlockId id = 0; id < n_blocks; ++id) list_.PushBack(id);
  }
  std::string_view name() const override { return "lru"; }
  void OnFree(BlockId id, bool /*cached*/) override { list_.PushBack(id); }
  void OnReuse(BlockId id) override { list_.Remove(id); }
  std::optional<BlockId> PopVictim() override { return list_.PopFront(); }
  int size() const override { return list_.size(); }
  std::vector<BlockId> Order() const override { return list_.ToVector(); }

 private:
  BlockList list_;
};

// Uncached free blocks first (LRU among them), then cached ones (LRU).
class UncachedFirstEvictionPolicy final : public EvictionPolicy {
 public:
  explicit UncachedFirstEvictionPolicy(int n_blocks) : uncached_(n_blocks), cached_(n_blocks) {
    for (BlockId id = 0; id < n_blocks; ++id) uncached_.PushBack(id);
  }
  std::string_view name() const override { return "uncached-first"; }
  void OnFree(BlockId id, bool cached) override { (cached ? cached_ : uncached_).PushBack(id); }
  void OnReuse(BlockId id) override {
    if (cached_.Contains(id)) {
      cached_.Remove(id);
    } else {
      uncached_.Remove(id);
    }
  }
  std::optional<BlockId> PopVictim() override {
    if (!uncached_.empty()) return uncached_.PopFront();
    return cached_.PopFront();
  }
  int size() const override { return uncached_.size() + cached_.size(); }
  std::vector<BlockId> Order() const override {
    std::vector<BlockId> out = uncached_.ToVector();
    for (BlockId id : cached_.ToVector()) out.push_back(id);
    return out;
  }

 private:
  BlockList uncached_;
  BlockList cached_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> MakeEvictionPolicy(EvictionPolicyKind kind, int n_blocks) {
  switch (kind) {
    case EvictionPolicyKind::kUncachedFirst:
      return std::make_unique<UncachedFirstEvictionPolicy>(n_blocks);
    case EvictionPolicyKind::kLru:
      break;
  }
  return std::make_unique<LruEvictionPolicy>(n_blocks);
}

}  // namespace cellar
