#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "gguf/gguf_file.h"

namespace cellar {
namespace {

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void PutString(std::string& out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out.append(s);
}

// An array's element type, count and elements (no leading value type).
void PutArrayBody(std::string& out, const GgufValue& v) {
  Put<uint32_t>(out, static_cast<uint32_t>(v.array_type()));
  Put<uint64_t>(out, v.array_size());
  if (v.array_type() == GgufValueType::kString) {
    for (std::string_view s : v.string_array()) PutString(out, s);
  } else if (v.array_type() == GgufValueType::kArray) {
    for (const GgufValue& item : v.nested_array()) PutArrayBody(out, item);
  } else {
    std::span<const uint8_t> raw = v.array_bytes();
    out.append(reinterpret_cast<const char*>(raw.data()), raw.size());
  }
}

void PutValue(std::string& out, const GgufValue& v) {
  Put<uint32_t>(out, static_cast<uint32_t>(v.type()));
  if (v.is_string()) {
    PutString(out, *v.AsString());
  } else if (v.is_array()) {
    PutArrayBody(out, v);
  } else {
    const uint64_t bits = v.scalar_bits();
    out.append(reinterpret_cast<const char*>(&bits), GgufScalarSize(v.type()));
  }
}

// Makes a rename in the folder holding `path` durable.
Status SyncParentDir(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open folder of '" + path + "': " + std::strerror(errno));
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return IoError("cannot fsync folder of '" + path + "': " + std::strerror(err));
  return OkStatus();
}

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

Status WriteAll(int fd, const void* data, size_t size, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      const std::string msg = "cannot write '" + path + "': " + std::strerror(err);
      return err == ENOSPC ? ResourceExhausted(msg) : IoError(msg);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return OkStatus();
}

}  // namespace

GgufWriter::GgufWriter(GgufWriterOptions options) : options_(options) {}

void GgufWriter::Set(std::string_view key, const GgufValue& value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = value.Owned();
      return;
    }
  }
  metadata_.emplace_back(std::string(key), value.Owned());
}

bool GgufWriter::Remove(std::string_view key) {
  auto it = std::find_if(metadata_.begin(), metadata_.end(),
                         [&](const auto& kv) { return kv.first == key; });
  if (it == metadata_.end()) return false;
  metadata_.erase(it);
  return true;
}

const GgufValue* GgufWriter::Find(std::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Status GgufWriter::SetAlignment(uint64_t alignment) {
  if (alignment == 0 || !std::has_single_bit(alignment) || alignment > UINT32_MAX) {
    return InvalidArgument("alignment " + std::to_string(alignment) +
                           " is not a power of two below 2^32");
  }
  SetUint32(kGgufAlignmentKey, static_cast<uint32_t>(alignment));
  return OkStatus();
}

uint64_t GgufWriter::alignment() const {
  const GgufValue* v = Find(kGgufAlignmentKey);
  if (v == nullptr) return kGgufDefaultAlignment;
  Result<uint64_t> a = v->AsUint();
  return a.ok() ? *a : kGgufDefaultAlignment;
}

Status GgufWriter::AddTensor(std::string_view name, GgmlType type, std::vector<int64_t> dims,
                             std::span<const uint8_t> data) {
  return AddTensorImpl(name, type, std::move(dims), data, /*copy=*/true);
}

Status GgufWriter::AddTensorView(std::string_view name, GgmlType type, std::vector<int64_t> dims,
                                 std::span<const uint8_t> data) {
  return AddTensorImpl(name, type, std::move(dims), data, /*copy=*/false);
}

Status GgufWriter::AddTensorImpl(std::string_view name, GgmlType type, std::vector<int64_t> dims,
                                 std::span<const uint8_t> data, bool copy) {
  const std::string what = "tensor '" + std::string(name) + "'";
  if (!GetGgmlTypeTraits(static_cast<uint32_t>(type))) {
    return InvalidArgument(what + ": unknown ggml type id " +
                           std::to_string(static_cast<uint32_t>(type)));
  }
  if (tensor_names_.contains(std::string(name))) return InvalidArgument("duplicate " + what);
  if (dims.size() > static_cast<size_t>(kGgufMaxDims)) {
    return InvalidArgument(what + ": " + std::to_string(dims.size()) + " dimensions (max 4)");
  }
  int64_t n_elements = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n_elements, d, &n_elements)) {
      return InvalidArgument(what + ": bad dimension " + std::to_string(d));
    }
  }
  const GgmlTypeTraits& traits = TraitsOf(type);
  const int64_t row = dims.empty() ? 1 : dims[0];
  if (row % traits.block_size != 0) {
    return InvalidArgument(what + ": row length " + std::to_string(row) +
                           " is not a multiple of the " + std::string(traits.name) +
                           " block size " + std::to_string(traits.block_size));
  }
  std::optional<int64_t> n_bytes = GgmlRowBytes(type, n_elements);
  if (!n_bytes) return InvalidArgument(what + ": byte size overflows int64");
  if (static_cast<uint64_t>(*n_bytes) != data.size()) {
    return InvalidArgument(what + ": " + std::to_string(data.size()) +
                           " bytes of data, shape needs " + std::to_string(*n_bytes));
  }
  Tensor t{std::string(name), type, std::move(dims), {}, data};
  if (copy) {
    t.owned.assign(data.begin(), data.end());
    t.data = t.owned;
  }
  tensor_names_.insert(t.name);
  tensors_.push_back(std::move(t));
  return OkStatus();
}

Result<std::string> GgufWriter::EncodeHeader(std::vector<uint64_t>& offsets) const {
  if (options_.version != 2 && options_.version != 3) {
    return InvalidArgument("cannot write GGUF version " + std::to_string(options_.version) +
                           " (supported: 2, 3)");
  }
  uint64_t align = kGgufDefaultAlignment;
  if (const GgufValue* v = Find(kGgufAlignmentKey)) {
    Result<uint64_t> a = v->AsUint();
    if (!a.ok()) return a.status().WithContext("key 'general.alignment'");
    if (*a == 0 || !std::has_single_bit(*a) || *a > UINT32_MAX) {
      return InvalidArgument("key 'general.alignment' is " + std::to_string(*a) +
                             ", not a power of two below 2^32");
    }
    align = *a;
  }
  std::string out;
  Put<uint32_t>(out, kGgufMagic);
  Put<uint32_t>(out, options_.version);
  Put<uint64_t>(out, tensors_.size());
  Put<uint64_t>(out, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    PutString(out, key);
    PutValue(out, value);
  }
  offsets.clear();
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    PutString(out, t.name);
    Put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) Put<int64_t>(out, d);
    Put<uint32_t>(out, static_cast<uint32_t>(t.type));
    Put<uint64_t>(out, offset);
    offsets.push_back(offset);
    offset = AlignUp(offset + t.data.size(), align);
  }
  // Like gguf-py, a file without tensors ends right after its metadata.
  if (!tensors_.empty()) out.resize(AlignUp(out.size(), align), '\0');
  return out;
}

Result<std::vector<uint8_t>> GgufWriter::WriteToBytes() const {
  std::vector<uint64_t> offsets;
  CELLAR_ASSIGN_OR_RETURN(std::string header, EncodeHeader(offsets));
  const uint64_t align = alignment();
  uint64_t total = header.size();
  if (!tensors_.empty()) total += AlignUp(offsets.back() + tensors_.back().data.size(), align);
  std::vector<uint8_t> out(total, 0);
  std::memcpy(out.data(), header.data(), header.size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    std::span<const uint8_t> d = tensors_[i].data;
    if (!d.empty()) std::memcpy(out.data() + header.size() + offsets[i], d.data(), d.size());
  }
  return out;
}

Status GgufWriter::WriteToFile(const std::string& path) const {
  std::vector<uint64_t> offsets;
  CELLAR_ASSIGN_OR_RETURN(std::string header, EncodeHeader(offsets));
  const uint64_t align = alignment();
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create '" + tmp + "': " + std::strerror(errno));
  Status s = WriteAll(fd, header.data(), header.size(), tmp);
  static constexpr uint8_t kZeros[256] = {};
  for (size_t i = 0; s.ok() && i < tensors_.size(); ++i) {
    std::span<const uint8_t> d = tensors_[i].data;
    s = WriteAll(fd, d.data(), d.size(), tmp);
    uint64_t pad = AlignUp(d.size(), align) - d.size();
    while (s.ok() && pad > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof(kZeros)));
      s = WriteAll(fd, kZeros, n, tmp);
      pad -= n;
    }
  }
  if (s.ok() && ::fsync(fd) != 0)
    s = IoError("cannot fsync '" + tmp + "': " + std::strerror(errno));
  if (::close(fd) != 0 && s.ok())
    s = IoError("cannot close '" + tmp + "': " + std::strerror(errno));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncParentDir(path);
}

}  // namespace cellar
