// Small vocabulary types shared by the KV pool, the scheduler, the engine and
// the store: block ids, token ids and request ids.
#pragma once

#include <cstdint>

namespace cellar {

// Index of a block in the working pool (0 .. n_blocks-1); also the block's index
// in KvStorage (kv/kv_storage.h).
using BlockId = int32_t;

// A token id of the model's vocabulary.
using TokenId = int32_t;

// Identifies one request (one sequence) for as long as it lives in the engine.
using RequestId = uint64_t;

}  // namespace cellar
