// GgufFile: a parsed, validated GGUF file (versions 2 and 3, little-endian) with
// zero-copy views of its metadata strings/arrays and tensor data.
//
// Open() maps the file (base/mapped_file.h) and owns the mapping; Parse() reads a
// caller-owned byte span that must outlive the GgufFile. Every view handed out
// (GgufValue strings/arrays, GgufTensorInfo::data, string_array spans) points into
// those bytes and is valid while the GgufFile lives. Parsing validates the whole
// header and tensor table up front (see docs/GGUF.md); a malformed file gives a
// Status naming the problem, the key/tensor and the byte offset.
//
// Thread-safety: immutable after Open/Parse; any thread may read concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_value.h"

namespace cellar {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian uint32
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;
inline constexpr int kGgufMaxArrayDepth = 16;  // nesting limit for arrays of arrays
inline constexpr const char* kGgufAlignmentKey = "general.alignment";

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> dims;  // ne[0] first = contiguous row length; 0..4 entries
  uint64_t offset = 0;        // relative to GgufFile::data_offset()
  int64_t n_elements = 0;
  int64_t n_bytes = 0;
  std::span<const uint8_t> data;  // n_bytes bytes inside the file

  // Dimension i, 1 past the last one (ggml's convention).
  int64_t dim(int i) const { return i < static_cast<int>(dims.size()) ? dims[i] : 1; }
  // Rows of ne[0] elements: the product of dims[1..] (1 for 0 or 1 dims).
  int64_t n_rows() const { return dim(1) * dim(2) * dim(3); }
};

class GgufFile {
 public:
  // Maps and parses `path`. Errors carry the path as context.
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses `bytes` without copying; the caller keeps them alive and unchanged.
  static Result<std::unique_ptr<GgufFile>> Parse(std::span<const uint8_t> bytes);

  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // Start of the tensor data section (aligned end of the header), in bytes.
  size_t data_offset() const { return data_offset_; }
  // The whole file.
  std::span<const uint8_t> bytes() const { return bytes_; }
  size_t file_size() const { return bytes_.size(); }

  // --- Metadata (in file order). ---
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // Typed getters: NOT_FOUND naming the key when missing, INVALID_ARGUMENT naming the
  // key and both types when the type does not fit.
  Result<std::string> GetString(std::string_view key) const;
  Result<std::string_view> GetStringView(std::string_view key) const;
  Result<uint64_t> GetUint(std::string_view key) const;  // any integer type, >= 0
  Result<int64_t> GetInt(std::string_view key) const;    // any integer type fitting int64
  Result<double> GetFloat(std::string_view key) const;   // float32 / float64
  Result<bool> GetBool(std::string_view key) const;
  Result<std::vector<std::string>> GetStringArray(std::string_view key) const;
  // No copy: views into the file (tokenizers read 100k+ token strings this way).
  Result<std::span<const std::string_view>> GetStringArrayView(std::string_view key) const;
  Result<std::vector<float>> GetFloatArray(std::string_view key) const;
  Result<std::vector<int64_t>> GetIntArray(std::string_view key) const;
  // The value as an array (any element type); error if missing or not an array.
  Result<const GgufValue*> GetArray(std::string_view key) const;

  // Defaulted variants: `dflt` when the key is missing; still an error when present
  // with a type that does not fit.
  Result<std::string> GetStringOr(std::string_view key, std::string_view dflt) const;
  Result<uint64_t> GetUintOr(std::string_view key, uint64_t dflt) const;
  Result<int64_t> GetIntOr(std::string_view key, int64_t dflt) const;
  Result<double> GetFloatOr(std::string_view key, double dflt) const;
  Result<bool> GetBoolOr(std::string_view key, bool dflt) const;

  // general.architecture, or "" when absent or not a string.
  std::string architecture() const;
  // "<architecture>.<suffix>", e.g. ArchKey("block_count") == "llama.block_count".
  std::string ArchKey(std::string_view suffix) const;

  // --- Tensors (in file order). ---
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;

 private:
  friend class GgufFileParser;
  GgufFile() = default;

  std::unique_ptr<MappedFile> mapping_;  // null when parsed from caller-owned bytes
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  // Indexes; keys view into metadata_/tensors_ (never resized after parsing).
  std::unordered_map<std::string_view, size_t> key_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace cellar
