// BlockList: an intrusive doubly linked list of block ids with O(1) push, pop and
// removal of any member, backed by two arrays indexed by block id. A block is in
// at most one BlockList at a time. Used by the eviction policies to keep free
// blocks in eviction order.
//
// Thread-safety: none; owned by one eviction policy (engine thread).
#pragma once

#include <optional>
#include <vector>

#include "kv/kv_types.h"

namespace cellar {

class BlockList {
 public:
  // A list able to hold block ids 0 .. capacity-1; starts empty.
  explicit BlockList(int capacity);

  int size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool Contains(BlockId id) const { return in_list_[static_cast<size_t>(id)]; }

  // REQUIRES: !Contains(id).
  void PushBack(BlockId id);
  // The front id, removed; nullopt when empty.
  std::optional<BlockId> PopFront();
  // REQUIRES: Contains(id).
  void Remove(BlockId id);
  // Ids front to back (for tests and stats; O(size)).
  std::vector<BlockId> ToVector() const;

 private:
  static constexpr BlockId kNone = -1;
  std::vector<BlockId> prev_;
  std::vector<BlockId> next_;
  std::vector<bool> in_list_;
  BlockId head_ = kNone;
  BlockId tail_ = kNone;
  int size_ = 0;
};

}  // namespace cellar
