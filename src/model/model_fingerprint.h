// The model fingerprint: a Hash128 naming "the KV this model computes". It
// enters every KV block hash (kv/block_hash.h), so cached KV is only ever
// reused by the model that computed it — across restarts and across servers.
//
// Definition, version 1: XXH3-128 (seed 0) over
//   ASCII "CLMODEL1",
//   the file's whole GGUF header (bytes [0, data_offset): every metadata key —
//     architecture, hyperparameters, RoPE settings, vocabulary — and every
//     tensor's name, type, shape and offset),
//   and, per tensor in header order, up to three 4 KiB samples of its bytes
//     (its start, middle and end; the whole tensor when smaller),
// so a different architecture, shape, quantization, vocabulary, RoPE setting
// or set of weights gives a different fingerprint, while hashing takes a few
// milliseconds even for a multi-gigabyte file. Two files that differ only in
// weight bytes outside every sample would collide: acceptable for model files
// (re-training or fine-tuning changes every tensor), not a security boundary.
//
// Thread-safety: a pure function.
#pragma once

#include "base/hash.h"
#include "gguf/gguf_file.h"

namespace cellar {

Hash128 ComputeModelFingerprint(const GgufFile& file);

}  // namespace cellar
