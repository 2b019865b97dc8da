// GgufWriter: builds a GGUF file (version 3 by default, or 2) from metadata and
// tensors, and writes it to bytes or atomically to a file (temp file + fsync +
// rename). The layout matches ggml/gguf-py: header, key/values, tensor infos,
// zero padding to the alignment, then each tensor's data padded to the alignment
// (a file without tensors ends after its metadata, as gguf-py writes it).
//
// Metadata keeps insertion order; setting an existing key replaces its value in
// place. Values are stored owned (deep copies). Tensors added with AddTensor are
// copied; AddTensorView keeps only a view, so the caller keeps those bytes alive
// until the last Write*() call.
//
// Thread-safety: not thread-safe; one owner builds and writes it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_value.h"

namespace cellar {

struct GgufWriterOptions {
  uint32_t version = 3;  // 2 or 3 (same little-endian layout)
};

class GgufWriter {
 public:
  explicit GgufWriter(GgufWriterOptions options = {});

  // --- Metadata ---
  void Set(std::string_view key, const GgufValue& value);
  void SetUint8(std::string_view key, uint8_t v) { Set(key, GgufValue::FromUint8(v)); }
  void SetInt8(std::string_view key, int8_t v) { Set(key, GgufValue::FromInt8(v)); }
  void SetUint16(std::string_view key, uint16_t v) { Set(key, GgufValue::FromUint16(v)); }
  void SetInt16(std::string_view key, int16_t v) { Set(key, GgufValue::FromInt16(v)); }
  void SetUint32(std::string_view key, uint32_t v) { Set(key, GgufValue::FromUint32(v)); }
  void SetInt32(std::string_view key, int32_t v) { Set(key, GgufValue::FromInt32(v)); }
  void SetFloat32(std::string_view key, float v) { Set(key, GgufValue::FromFloat32(v)); }
  void SetBool(std::string_view key, bool v) { Set(key, GgufValue::FromBool(v)); }
  void SetString(std::string_view key, std::string_view v) { Set(key, GgufValue::FromString(v)); }
  void SetUint64(std::string_view key, uint64_t v) { Set(key, GgufValue::FromUint64(v)); }
  void SetInt64(std::string_view key, int64_t v) { Set(key, GgufValue::FromInt64(v)); }
  void SetFloat64(std::string_view key, double v) { Set(key, GgufValue::FromFloat64(v)); }
  void SetStringArray(std::string_view key, std::span<const std::string> v) {
    Set(key, GgufValue::FromStringArray(v));
  }
  void SetFloat32Array(std::string_view key, std::span<const float> v) {
    Set(key, GgufValue::FromFloat32Array(v));
  }
  void SetInt32Array(std::string_view key, std::span<const int32_t> v) {
    Set(key, GgufValue::FromInt32Array(v));
  }
  // Removes `key`; false if it was not set.
  bool Remove(std::string_view key);
  const GgufValue* Find(std::string_view key) const;
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }

  // Sets general.alignment (uint32). Error unless a power of two < 2^32.
  Status SetAlignment(uint64_t alignment);
  // general.alignment if set (and valid), else 32.
  uint64_t alignment() const;

  // --- Tensors ---
  // Adds a tensor (dims: ne[0] first, 0..4 of them). Error on a duplicate name, a
  // bad shape, a row length not a multiple of the type's block size, or
  // data.size() differing from the shape's byte size. AddTensor copies `data`.
  Status AddTensor(std::string_view name, GgmlType type, std::vector<int64_t> dims,
                   std::span<const uint8_t> data);
  // Like AddTensor but keeps only a view of `data` (see the class comment).
  Status AddTensorView(std::string_view name, GgmlType type, std::vector<int64_t> dims,
                       std::span<const uint8_t> data);
  size_t n_tensors() const { return tensors_.size(); }

  // --- Output ---
  Result<std::vector<uint8_t>> WriteToBytes() const;
  // Writes `path` + ".tmp.<pid>", fsyncs it, renames it to `path` and fsyncs the
  // folder, so a crash leaves either the old file or the complete new one.
  Status WriteToFile(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
    std::vector<uint8_t> owned;  // empty for views
    std::span<const uint8_t> data;
  };

  Status AddTensorImpl(std::string_view name, GgmlType type, std::vector<int64_t> dims,
                       std::span<const uint8_t> data, bool copy);
  // The header (through the padding before the data section) and each tensor's
  // offset relative to the data section.
  Result<std::string> EncodeHeader(std::vector<uint64_t>& offsets) const;

  GgufWriterOptions options_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
  std::unordered_set<std::string> tensor_names_;
};

}  // namespace cellar
