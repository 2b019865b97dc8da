#include "store/chunk_file.h"

#include <cstring>

namespace cellar {
namespace {

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) { Raw(&v, 2); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void H128(const Hash128& h) {
    U64(h.lo);
    U64(h.hi);
  }
  void Raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }

 private:
  std::vector<uint8_t>* out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  template <typename T>
  T Get() {
    T v{};
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Hash128 H128() {
    Hash128 h;
    h.lo = Get<uint64_t>();
    h.hi = Get<uint64_t>();
    return h;
  }
  size_t pos() const { return pos_; }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

size_t HeaderBytesFor(int n_tokens, int n_layers) {
  return kChunkFileFixedBytes + 4 * static_cast<size_t>(n_tokens) +
         16 * static_cast<size_t>(n_layers) + 4;
}

}  // namespace

uint64_t ChunkFileBytes(const EncodedChunk& chunk) {
  uint64_t b = HeaderBytesFor(chunk.meta.n_tokens(), static_cast<int>(chunk.layers.size()));
  for (const auto& l : chunk.layers) b += l.size();
  return b;
}

std::vector<uint8_t> SerializeChunkFile(const EncodedChunk& chunk, const KvShape& shape,
                                        const Hash128& model, int64_t created_unix_ms) {
  const int n_tokens = chunk.meta.n_tokens();
  const size_t header_bytes = HeaderBytesFor(n_tokens, shape.n_layers);
  size_t total = header_bytes;
  for (const auto& l : chunk.layers) total += l.size();
  std::vector<uint8_t> out;
  out.reserve(total);
  Writer w(&out);
  w.Raw(kChunkFileMagic, sizeof(kChunkFileMagic));
  w.U32(kChunkFileVersion);
  w.U32(static_cast<uint32_t>(header_bytes));
  w.H128(chunk.meta.hash);
  w.H128(chunk.meta.parent);
  w.H128(model);
  w.U8(static_cast<uint8_t>(chunk.codec));
  w.U8(static_cast<uint8_t>(shape.type));
  w.U16(0);
  w.U32(static_cast<uint32_t>(shape.n_layers));
  w.U32(static_cast<uint32_t>(shape.n_kv_heads));
  w.U32(static_cast<uint32_t>(shape.head_dim));
  w.U32(static_cast<uint32_t>(n_tokens));
  w.U32(chunk.meta.first_token);
  w.I64(created_unix_ms);
  for (int32_t t : chunk.meta.tokens) w.Raw(&t, 4);
  uint64_t offset = header_bytes;
  for (const auto& l : chunk.layers) {
    w.U64(offset);
    w.U32(static_cast<uint32_t>(l.size()));
    w.U32(Crc32c(l));
    offset += l.size();
  }
  w.U32(Crc32c(out));
  for (const auto& l : chunk.layers) w.Raw(l.data(), l.size());
  return out;
}

Result<uint32_t> PeekChunkHeaderBytes(std::span<const uint8_t> fixed) {
  if (fixed.size() < kChunkFileFixedBytes) return DataLoss("chunk file shorter than its header");
  if (std::memcmp(fixed.data(), kChunkFileMagic, sizeof(kChunkFileMagic)) != 0) {
    return DataLoss("not a chunk file (bad magic)");
  }
  Reader r(fixed.subspan(8));
  const uint32_t version = r.Get<uint32_t>();
  if (version != kChunkFileVersion) {
    return FailedPrecondition("chunk file format version " + std::to_string(version) +
                              ", this build reads " + std::to_string(kChunkFileVersion));
  }
  const uint32_t header_bytes = r.Get<uint32_t>();
  if (header_bytes < kChunkFileFixedBytes + 4 || header_bytes > kChunkFileMaxHeaderBytes) {
    return DataLoss("chunk file header size out of range");
  }
  return header_bytes;
}

Result<ChunkFileHeader> ParseChunkHeader(std::span<const uint8_t> bytes) {
  CELLAR_ASSIGN_OR_RETURN(uint32_t header_bytes, PeekChunkHeaderBytes(bytes));
  if (bytes.size() < header_bytes) return DataLoss("chunk file shorter than its header");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + header_bytes - 4, 4);
  if (Crc32c(bytes.first(header_bytes - 4)) != stored_crc) {
    return DataLoss("chunk file header CRC mismatch");
  }
  ChunkFileHeader h;
  Reader r(bytes.subspan(12));
  h.header_bytes = r.Get<uint32_t>();
  h.meta.hash = r.H128();
  h.meta.parent = r.H128();
  h.model = r.H128();
  const uint8_t codec = r.Get<uint8_t>();
  const uint8_t type = r.Get<uint8_t>();
  r.Get<uint16_t>();
  const uint32_t n_layers = r.Get<uint32_t>();
  const uint32_t n_heads = r.Get<uint32_t>();
  const uint32_t head_dim = r.Get<uint32_t>();
  const uint32_t n_tokens = r.Get<uint32_t>();
  h.meta.first_token = r.Get<uint32_t>();
  h.created_unix_ms = r.Get<int64_t>();
  if (!CodecIsValid(codec)) return DataLoss("chunk file has unknown codec");
  if (type > static_cast<uint8_t>(KvType::kF32)) return DataLoss("chunk file has unknown KV type");
  if (n_layers == 0 || n_heads == 0 || head_dim == 0 || n_tokens == 0 || n_layers > (1u << 16) ||
      n_heads > (1u << 16) || head_dim > (1u << 16) || n_tokens > (1u << 20)) {
    return DataLoss("chunk file shape out of range");
  }
  if (HeaderBytesFor(static_cast<int>(n_tokens), static_cast<int>(n_layers)) != header_bytes) {
    return DataLoss("chunk file header size does not match its contents");
  }
  h.codec = static_cast<Codec>(codec);
  h.shape = KvShape{static_cast<int>(n_layers), static_cast<int>(n_heads),
                    static_cast<int>(head_dim), static_cast<KvType>(type)};
  h.meta.tokens.resize(n_tokens);
  std::memcpy(h.meta.tokens.data(), bytes.data() + kChunkFileFixedBytes, 4 * size_t{n_tokens});
  Reader t(bytes.subspan(kChunkFileFixedBytes + 4 * size_t{n_tokens}));
  uint64_t expect = header_bytes;
  h.layers.resize(n_layers);
  for (auto& seg : h.layers) {
    seg.offset = t.Get<uint64_t>();
    seg.size = t.Get<uint32_t>();
    seg.crc = t.Get<uint32_t>();
    if (seg.offset != expect) return DataLoss("chunk file segments do not tile the file");
    expect += seg.size;
  }
  return h;
}

Status CheckChunkHeaderMatches(const ChunkFileHeader& h, const Hash128& model,
                               const KvShape& shape) {
  if (!(h.model == model)) {
    return FailedPrecondition("chunk of another model (" + h.model.ToHex() + ")");
  }
  if (!(h.shape == shape)) return FailedPrecondition("chunk of another KV shape or type");
  return OkStatus();
}

Status VerifySegment(const LayerSegment& info, std::span<const uint8_t> segment, int layer) {
  if (segment.size() != info.size) {
    return DataLoss("layer " + std::to_string(layer) + " segment is short");
  }
  if (Crc32c(segment) != info.crc) {
    return DataLoss("layer " + std::to_string(layer) + " CRC mismatch");
  }
  return OkStatus();
}

std::string ChunkFileName(const Hash128& hash) { return hash.ToHex() + ".kv"; }

bool ParseChunkFileName(const std::string& name, Hash128* hash) {
  if (name.size() != 35 || name.compare(32, 3, ".kv") != 0) return false;
  uint64_t parts[2] = {0, 0};
  for (int i = 0; i < 32; ++i) {
    const char c = name[static_cast<size_t>(i)];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    parts[i / 16] = (parts[i / 16] << 4) | d;
  }
  hash->hi = parts[0];
  hash->lo = parts[1];
  return true;
}

}  // namespace cellar
