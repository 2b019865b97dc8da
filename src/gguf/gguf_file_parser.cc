#include "gguf/gguf_file_parser.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <numeric>
#include <string>

#include "gguf/gguf_value_parser.h"

namespace cellar {
namespace {

std::string At(size_t offset) { return " at offset " + std::to_string(offset); }

// Smallest encodings, used to bound counts by the bytes left in the file.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

// A count that cannot fit in the bytes left: a truncated file or an absurd count.
std::string CountError(std::string_view what, uint64_t count, size_t at, uint64_t min_each,
                       size_t remaining) {
  return std::string(what) + " count " + std::to_string(count) + At(at) +
         " is absurd or the file is truncated: each entry takes at least " +
         std::to_string(min_each) + " bytes and " + std::to_string(remaining) + " remain";
}

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

}  // namespace

Status GgufFileParser::Run(GgufFile& file) {
  GgufByteReader in(file.bytes_);
  CELLAR_ASSIGN_OR_RETURN(uint32_t magic, in.Read<uint32_t>("magic"));
  if (magic != kGgufMagic) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "bad magic 0x%08" PRIx32 " at offset 0 (expected \"GGUF\")",
                  magic);
    return InvalidArgument(buf);
  }
  CELLAR_RETURN_IF_ERROR(ParseVersion(in, file));
  const size_t counts_at = in.offset();
  CELLAR_ASSIGN_OR_RETURN(uint64_t n_tensors, in.Read<uint64_t>("tensor count"));
  CELLAR_ASSIGN_OR_RETURN(uint64_t n_kv, in.Read<uint64_t>("metadata count"));
  if (n_kv > in.remaining() / kMinKvBytes) {
    return OutOfRange(CountError("metadata", n_kv, counts_at + 8, kMinKvBytes, in.remaining()));
  }
  CELLAR_RETURN_IF_ERROR(ParseMetadata(in, n_kv, file));
  CELLAR_RETURN_IF_ERROR(ParseAlignment(file));

  if (n_tensors > in.remaining() / kMinTensorInfoBytes) {
    return OutOfRange(
        CountError("tensor", n_tensors, counts_at, kMinTensorInfoBytes, in.remaining()));
  }
  file.tensors_.reserve(static_cast<size_t>(n_tensors));
  std::unordered_map<std::string_view, size_t> names;  // name -> offset of its info
  names.reserve(static_cast<size_t>(n_tensors));
  for (size_t i = 0; i < n_tensors; ++i) {
    CELLAR_RETURN_IF_ERROR(ParseTensorInfo(in, i, names, file));
  }

  // The data section starts at the aligned end of the header.
  const uint64_t header_end = in.offset();
  const uint64_t a = file.alignment_;
  if (header_end > UINT64_MAX - (a - 1)) {
    return InvalidArgument("alignment " + std::to_string(a) + " overflows the data offset");
  }
  const uint64_t data_offset = (header_end + a - 1) / a * a;
  if (data_offset > file.bytes_.size() && !file.tensors_.empty()) {
    return OutOfRange("truncated: the tensor data section starts at offset " +
                      std::to_string(data_offset) +
                      " (aligned end of the header) but the file has " +
                      std::to_string(file.bytes_.size()) + " bytes");
  }
  // Without tensors a file may end before the aligned offset; the section is then empty.
  file.data_offset_ = static_cast<size_t>(std::min<uint64_t>(data_offset, file.bytes_.size()));
  CELLAR_RETURN_IF_ERROR(CheckTensorLayout(file));

  file.key_index_.reserve(file.metadata_.size());
  for (size_t i = 0; i < file.metadata_.size(); ++i) {
    file.key_index_.emplace(file.metadata_[i].first, i);
  }
  file.tensor_index_.reserve(file.tensors_.size());
  for (size_t i = 0; i < file.tensors_.size(); ++i) {
    file.tensor_index_.emplace(file.tensors_[i].name, i);
  }
  return OkStatus();
}

Status GgufFileParser::ParseVersion(GgufByteReader& in, GgufFile& file) {
  CELLAR_ASSIGN_OR_RETURN(uint32_t version, in.Read<uint32_t>("version"));
  if (version == 2 || version == 3) {
    file.version_ = version;
    return OkStatus();
  }
  const uint32_t swapped = __builtin_bswap32(version);
  if (swapped >= 1 && swapped <= 3) {
    return Unimplemented("big-endian GGUF (version " + std::to_string(swapped) +
                         " byte-swapped) is not supported");
  }
  if (version == 1) {
    return Unimplemented("GGUF version 1 is not supported (supported versions: 2, 3)");
  }
  return Unimplemented("unsupported GGUF version " + std::to_string(version) +
                       " at offset 4 (supported versions: 2, 3)");
}

Status GgufFileParser::ParseMetadata(GgufByteReader& in, uint64_t n_kv, GgufFile& file) {
  file.metadata_.reserve(static_cast<size_t>(n_kv));
  std::unordered_map<std::string_view, size_t> seen;  // key -> offset
  seen.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t key_at = in.offset();
    CELLAR_ASSIGN_OR_RETURN(std::string_view key,
                            in.ReadString("metadata key #" + std::to_string(i)));
    const std::string what = "key " + Quoted(key);
    if (!seen.emplace(key, key_at).second) {
      return InvalidArgument("duplicate " + what + At(key_at) + " (first at offset " +
                             std::to_string(seen[key]) + ")");
    }
    const size_t type_at = in.offset();
    CELLAR_ASSIGN_OR_RETURN(uint32_t type_id, in.Read<uint32_t>(what + " type"));
    CELLAR_ASSIGN_OR_RETURN(GgufValue value, GgufValueParser::Parse(in, type_id, type_at, what));
    file.metadata_.emplace_back(std::string(key), std::move(value));
  }
  return OkStatus();
}

Status GgufFileParser::ParseAlignment(GgufFile& file) {
  file.alignment_ = kGgufDefaultAlignment;
  for (const auto& [key, value] : file.metadata_) {
    if (key != kGgufAlignmentKey) continue;
    Result<uint64_t> a = value.AsUint();
    if (!a.ok()) return a.status().WithContext("key 'general.alignment'");
    if (*a == 0 || !std::has_single_bit(*a) || *a > UINT32_MAX) {
      return InvalidArgument("key 'general.alignment' is " + std::to_string(*a) +
                             ", not a power of two below 2^32");
    }
    file.alignment_ = *a;
  }
  return OkStatus();
}

Status GgufFileParser::ParseTensorInfo(GgufByteReader& in, size_t index,
                                       std::unordered_map<std::string_view, size_t>& names,
                                       GgufFile& file) {
  const size_t info_at = in.offset();
  CELLAR_ASSIGN_OR_RETURN(std::string_view name,
                          in.ReadString("tensor #" + std::to_string(index) + " name"));
  const std::string what = "tensor " + Quoted(name);
  if (auto [it, inserted] = names.emplace(name, info_at); !inserted) {
    return InvalidArgument("duplicate " + what + At(info_at) + " (first at offset " +
                           std::to_string(it->second) + ")");
  }
  GgufTensorInfo info;
  info.name = std::string(name);
  const size_t dims_at = in.offset();
  CELLAR_ASSIGN_OR_RETURN(uint32_t n_dims, in.Read<uint32_t>(what + " n_dims"));
  if (n_dims > kGgufMaxDims) {
    return InvalidArgument(what + ": n_dims " + std::to_string(n_dims) + " > " +
                           std::to_string(kGgufMaxDims) + At(dims_at));
  }
  int64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const size_t dim_at = in.offset();
    CELLAR_ASSIGN_OR_RETURN(int64_t ne, in.Read<int64_t>(what + " dims"));
    if (ne < 0) {
      return InvalidArgument(what + ": dimension " + std::to_string(d) + " is negative (" +
                             std::to_string(ne) + ")" + At(dim_at));
    }
    if (__builtin_mul_overflow(n_elements, ne, &n_elements)) {
      return InvalidArgument(what + ": element count overflows int64 at dimension " +
                             std::to_string(d) + " (" + std::to_string(ne) + ")" + At(dim_at));
    }
    info.dims.push_back(ne);
  }
  info.n_elements = n_elements;
  const size_t type_at = in.offset();
  CELLAR_ASSIGN_OR_RETURN(uint32_t type_id, in.Read<uint32_t>(what + " type"));
  std::optional<GgmlTypeTraits> traits = GetGgmlTypeTraits(type_id);
  if (!traits) {
    return InvalidArgument(what + ": unknown ggml type id " + std::to_string(type_id) +
                           At(type_at));
  }
  info.type = static_cast<GgmlType>(type_id);
  const int64_t row = info.dims.empty() ? 1 : info.dims[0];
  if (row % traits->block_size != 0) {
    return InvalidArgument(what + ": row length " + std::to_string(row) +
                           " is not a multiple of the " + std::string(traits->name) +
                           " block size " + std::to_string(traits->block_size));
  }
  std::optional<int64_t> n_bytes = GgmlRowBytes(info.type, n_elements);
  if (!n_bytes) {
    return InvalidArgument(what + ": byte size of " + std::to_string(n_elements) + " " +
                           std::string(traits->name) + " elements overflows int64");
  }
  info.n_bytes = *n_bytes;
  const size_t offset_at = in.offset();
  CELLAR_ASSIGN_OR_RETURN(info.offset, in.Read<uint64_t>(what + " offset"));
  if (info.offset % file.alignment_ != 0) {
    return InvalidArgument(what + ": data offset " + std::to_string(info.offset) +
                           " is not a multiple of the alignment " +
                           std::to_string(file.alignment_) + At(offset_at));
  }
  file.tensors_.push_back(std::move(info));
  return OkStatus();
}

Status GgufFileParser::CheckTensorLayout(GgufFile& file) {
  const uint64_t data_size =
      file.bytes_.size() > file.data_offset_ ? file.bytes_.size() - file.data_offset_ : 0;
  for (GgufTensorInfo& t : file.tensors_) {
    const auto n = static_cast<uint64_t>(t.n_bytes);
    if (t.offset > data_size || n > data_size - t.offset) {
      return OutOfRange("tensor " + Quoted(t.name) + ": data [" + std::to_string(t.offset) + ", " +
                        std::to_string(t.offset) + " + " + std::to_string(n) +
                        ") runs past the end of the file (the data section at offset " +
                        std::to_string(file.data_offset_) + " has " + std::to_string(data_size) +
                        " bytes)");
    }
    t.data = file.bytes_.subspan(file.data_offset_ + static_cast<size_t>(t.offset),
                                 static_cast<size_t>(n));
  }
  std::vector<size_t> order(file.tensors_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return file.tensors_[x].offset < file.tensors_[y].offset; });
  const GgufTensorInfo* prev = nullptr;
  for (size_t i : order) {
    const GgufTensorInfo& t = file.tensors_[i];
    if (t.n_bytes == 0) continue;
    if (prev != nullptr && prev->offset + static_cast<uint64_t>(prev->n_bytes) > t.offset) {
      return InvalidArgument("tensors " + Quoted(prev->name) + " [" + std::to_string(prev->offset) +
                             ", " + std::to_string(prev->offset + prev->n_bytes) + ") and " +
                             Quoted(t.name) + " [" + std::to_string(t.offset) + ", " +
                             std::to_string(t.offset + t.n_bytes) + ") overlap");
    }
    prev = &t;
  }
  return OkStatus();
}

}  // namespace cellar
