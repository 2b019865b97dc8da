// The on-disk chunk file (format version 1; specified in docs/STORE_FORMAT.md).
// A self-describing file per chunk: fixed header (magic, version, hashes, model
// fingerprint, codec, KV type, shape, token count), the token ids, a table of
// per-layer segments (offset, size, CRC32C), a header CRC32C, then the layer
// segments in layer order. The file name is the chunk hash in hex + ".kv".
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "store/chunk.h"
#include "store/kv_shape.h"

namespace cellar {

inline constexpr char kChunkFileMagic[8] = {'C', 'E', 'L', 'L', 'A', 'R', 'K', 'V'};
inline constexpr uint32_t kChunkFileVersion = 1;
// Bytes of the fixed part of the header, before the token ids.
inline constexpr size_t kChunkFileFixedBytes = 96;
// Upper bound on a header, so a garbage header_bytes field cannot ask for gigabytes.
inline constexpr size_t kChunkFileMaxHeaderBytes = 16u << 20;

struct LayerSegment {
  uint64_t offset = 0;  // from the start of the file
  uint32_t size = 0;
  uint32_t crc = 0;  // CRC32C of the segment bytes
};

// Everything the header says about a chunk file.
struct ChunkFileHeader {
  uint32_t version = kChunkFileVersion;
  uint32_t header_bytes = 0;
  Hash128 model;
  Codec codec = Codec::kRaw;
  KvShape shape;
  ChunkMeta meta;
  int64_t created_unix_ms = 0;
  std::vector<LayerSegment> layers;

  uint64_t FileBytes() const {
    return layers.empty() ? header_bytes : layers.back().offset + layers.back().size;
  }
};

// Size of the chunk file SerializeChunkFile makes for `chunk`.
uint64_t ChunkFileBytes(const EncodedChunk& chunk);

// The whole file for `chunk`.
std::vector<uint8_t> SerializeChunkFile(const EncodedChunk& chunk, const KvShape& shape,
                                        const Hash128& model, int64_t created_unix_ms);

// header_bytes from the fixed part (the first kChunkFileFixedBytes bytes), after
// checking magic and version. kDataLoss / kFailedPrecondition (other version).
Result<uint32_t> PeekChunkHeaderBytes(std::span<const uint8_t> fixed);

// Parses and verifies a whole header (`bytes` holds at least header_bytes):
// magic, version, header CRC, sane sizes, and a segment table that tiles the
// file after the header. kDataLoss on any mismatch.
Result<ChunkFileHeader> ParseChunkHeader(std::span<const uint8_t> bytes);

// Checks that a header belongs to this store (model fingerprint, KV shape and
// type, a known codec). kFailedPrecondition with the reason otherwise.
Status CheckChunkHeaderMatches(const ChunkFileHeader& h, const Hash128& model,
                               const KvShape& shape);

// Verifies `segment` against its CRC. kDataLoss on mismatch.
Status VerifySegment(const LayerSegment& info, std::span<const uint8_t> segment, int layer);

// "<32 hex digits>.kv".
std::string ChunkFileName(const Hash128& hash);
// Parses a file name made by ChunkFileName; false for anything else.
bool ParseChunkFileName(const std::string& name, Hash128* hash);

}  // namespace cellar
