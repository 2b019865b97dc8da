#include "store/disk_tier.h"

#include "base/log.h"

namespace cellar {

Result<std::unique_ptr<DiskTier>> DiskTier::Open(const Options& options) {
  if (options.env == nullptr) return InvalidArgument("DiskTier needs an Env");
  if (options.dir.empty()) return InvalidArgument("DiskTier needs a directory");
  CELLAR_RETURN_IF_ERROR(options.env->CreateDirs(options.dir));
  return std::unique_ptr<DiskTier>(new DiskTier(options));
}

std::string DiskTier::PathFor(const Hash128& hash) const {
  return options_.dir + "/" + ChunkFileName(hash);
}

Result<ChunkFileHeader> DiskTier::ReadHeader(const std::string& path, uint64_t* file_size) {
  Env* env = options_.env;
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->OpenForRead(path));
  CELLAR_ASSIGN_OR_RETURN(*file_size, file->Size());
  std::vector<uint8_t> fixed(kChunkFileFixedBytes);
  CELLAR_ASSIGN_OR_RETURN(size_t n, file->Read(0, fixed));
  fixed.resize(n);
  CELLAR_ASSIGN_OR_RETURN(uint32_t header_bytes, PeekChunkHeaderBytes(fixed));
  std::vector<uint8_t> header(header_bytes);
  CELLAR_ASSIGN_OR_RETURN(n, file->Read(0, header));
  header.resize(n);
  return ParseChunkHeader(header);
}

Result<DiskTier::ScanResult> DiskTier::Scan() {
  Env* env = options_.env;
  CELLAR_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(options_.dir));
  ScanResult result;
  for (const std::string& name : names) {
    const std::string path = options_.dir + "/" + name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      env->Remove(path).IgnoreError();
      ++result.removed_temporary;
      continue;
    }
    Hash128 hash;
    if (!ParseChunkFileName(name, &hash)) {
      ++result.ignored;
      continue;
    }
    uint64_t file_size = 0;
    Result<ChunkFileHeader> header = ReadHeader(path, &file_size);
    Status bad;
    if (!header.ok()) {
      bad = header.status();
    } else if (Status m = CheckChunkHeaderMatches(*header, options_.model, options_.shape);
               !m.ok()) {
      bad = m;
    } else if (!(header->meta.hash == hash)) {
      bad = DataLoss("chunk file name does not match its hash");
    } else if (header->FileBytes() != file_size) {
      bad = DataLoss("chunk file is " + std::to_string(file_size) + " bytes, header says " +
                     std::to_string(header->FileBytes()));
    }
    if (bad.ok()) {
      result.chunks.push_back(std::move(*header));
      continue;
    }
    if (bad.code() == StatusCode::kNotFound) continue;  // removed meanwhile
    if (bad.code() == StatusCode::kFailedPrecondition) {
      ++result.removed_mismatch;
    } else {
      ++result.removed_corrupt;
    }
    CELLAR_LOG_WARN("store: removing chunk file {}: {}", path, bad.message());
    env->Remove(path).IgnoreError();
  }
  return result;
}

Result<ChunkFileHeader> DiskTier::Write(const EncodedChunk& chunk, int64_t created_unix_ms) {
  Env* env = options_.env;
  const std::vector<uint8_t> bytes =
      SerializeChunkFile(chunk, options_.shape, options_.model, created_unix_ms);
  const std::string path = PathFor(chunk.meta.hash);
  Status s = WriteFileAtomically(env, path, bytes);
  if (s.code() == StatusCode::kNotFound) {
    // The directory vanished under us: re-create it once and retry.
    CELLAR_LOG_WARN("store: {} is gone, re-creating it", options_.dir);
    CELLAR_RETURN_IF_ERROR(env->CreateDirs(options_.dir));
    s = WriteFileAtomically(env, path, bytes);
  }
  CELLAR_RETURN_IF_ERROR(s);
  return ParseChunkHeader(bytes);
}

Result<EncodedChunkPtr> DiskTier::Read(const ChunkFileHeader& expected) {
  CELLAR_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                          ReadWholeFile(options_.env, PathFor(expected.meta.hash)));
  CELLAR_ASSIGN_OR_RETURN(ChunkFileHeader h, ParseChunkHeader(bytes));
  if (!(h.meta.hash == expected.meta.hash) || h.codec != expected.codec ||
      h.header_bytes != expected.header_bytes || h.layers.size() != expected.layers.size()) {
    return DataLoss("chunk file changed since it was indexed");
  }
  CELLAR_RETURN_IF_ERROR(CheckChunkHeaderMatches(h, options_.model, options_.shape));
  if (bytes.size() != h.FileBytes()) return DataLoss("chunk file is truncated");
  auto chunk = std::make_shared<EncodedChunk>();
  chunk->meta = std::move(h.meta);
  chunk->codec = h.codec;
  chunk->layers.reserve(h.layers.size());
  for (size_t l = 0; l < h.layers.size(); ++l) {
    const LayerSegment& seg = h.layers[l];
    if (seg.crc != expected.layers[l].crc) return DataLoss("chunk file changed since indexed");
    std::span<const uint8_t> data(bytes.data() + seg.offset, seg.size);
    CELLAR_RETURN_IF_ERROR(VerifySegment(seg, data, static_cast<int>(l)));
    chunk->layers.emplace_back(data.begin(), data.end());
  }
  return EncodedChunkPtr(std::move(chunk));
}

Result<std::unique_ptr<RandomAccessFile>> DiskTier::OpenChunk(const Hash128& hash) {
  return options_.env->OpenForRead(PathFor(hash));
}

Status DiskTier::Remove(const Hash128& hash) { return options_.env->Remove(PathFor(hash)); }

}  // namespace cellar
