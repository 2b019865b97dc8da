#include "kv/block_list.h"

#include <cassert>

namespace cellar {

BlockList::BlockList(int capacity)
    : prev_(static_cast<size_t>(capacity), kNone),
      next_(static_cast<size_t>(capacity), kNone),
      in_list_(static_cast<size_t>(capacity), false) {}

void BlockList::PushBack(BlockId id) {
  const size_t i = static_cast<size_t>(id);
  assert(!in_list_[i]);
  prev_[i] = tail_;
  next_[i] = kNone;
  if (tail_ == kNone) {
    head_ = id;
  } else {
    next_[static_cast<size_t>(tail_)] = id;
  }
  tail_ = id;
  in_list_[i] = true;
  ++size_;
}

std::optional<BlockId> BlockList::PopFront() {
  if (head_ == kNone) return std::nullopt;
  const BlockId id = head_;
  Remove(id);
  return id;
}

void BlockList::Remove(BlockId id) {
  const size_t i = static_cast<size_t>(id);
  assert(in_list_[i]);
  const BlockId p = prev_[i];
  const BlockId n = next_[i];
  if (p == kNone) {
    head_ = n;
  } else {
    next_[static_cast<size_t>(p)] = n;
  }
  if (n == kNone) {
    tail_ = p;
  } else {
    prev_[static_cast<size_t>(n)] = p;
  }
  prev_[i] = kNone;
  next_[i] = kNone;
  in_list_[i] = false;
  --size_;
}

std::vector<BlockId> BlockList::ToVector() const {
  std::vector<BlockId> out;
  out.reserve(static_cast<size_t>(size_));
  for (BlockId id = head_; id != kNone; id = next_[static_cast<size_t>(id)]) out.push_back(id);
  return out;
}

}  // namespace cellar
