#include "gguf/gguf_file.h"

#include "gguf/gguf_file_parser.h"

namespace cellar {
namespace {

Status Missing(std::string_view key) { return NotFound("missing key '" + std::string(key) + "'"); }

template <typename T>
Result<T> WithKey(Result<T> r, std::string_view key) {
  if (r.ok()) return r;
  return r.status().WithContext("key '" + std::string(key) + "'");
}

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapping, MappedFile::Open(path));
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->bytes_ = mapping->data();
  file->mapping_ = std::move(mapping);
  Status s = GgufFileParser::Run(*file);
  if (!s.ok()) return s.WithContext(path);
  return file;
}

Result<std::unique_ptr<GgufFile>> GgufFile::Parse(std::span<const uint8_t> bytes) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->bytes_ = bytes;
  CELLAR_RETURN_IF_ERROR(GgufFileParser::Run(*file));
  return file;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::string_view> GgufFile::GetStringView(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  return WithKey(v->AsString(), key);
}

Result<std::string> GgufFile::GetString(std::string_view key) const {
  CELLAR_ASSIGN_OR_RETURN(std::string_view s, GetStringView(key));
  return std::string(s);
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  return WithKey(v->AsUint(), key);
}

Result<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  return WithKey(v->AsInt(), key);
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  return WithKey(v->AsFloat(), key);
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  return WithKey(v->AsBool(), key);
}

Result<const GgufValue*> GgufFile::GetArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (!v->is_array()) {
    return InvalidArgument("key '" + std::string(key) + "': expected an array, got " +
                           GgufValueTypeName(v->type()));
  }
  return v;
}

Result<std::vector<std::string>> GgufFile::GetStringArray(std::string_view key) const {
  CELLAR_ASSIGN_OR_RETURN(const GgufValue* v, GetArray(key));
  return WithKey(v->ToStringVector(), key);
}

Result<std::span<const std::string_view>> GgufFile::GetStringArrayView(std::string_view key) const {
  CELLAR_ASSIGN_OR_RETURN(const GgufValue* v, GetArray(key));
  if (v->array_type() != GgufValueType::kString) {
    return InvalidArgument("key '" + std::string(key) + "': expected an array of strings, got " +
                           "an array of " + GgufValueTypeName(v->array_type()));
  }
  return v->string_array();
}

Result<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  CELLAR_ASSIGN_OR_RETURN(const GgufValue* v, GetArray(key));
  return WithKey(v->ToFloatVector(), key);
}

Result<std::vector<int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  CELLAR_ASSIGN_OR_RETURN(const GgufValue* v, GetArray(key));
  return WithKey(v->ToIntVector(), key);
}

Result<std::string> GgufFile::GetStringOr(std::string_view key, std::string_view dflt) const {
  if (!Has(key)) return std::string(dflt);
  return GetString(key);
}

Result<uint64_t> GgufFile::GetUintOr(std::string_view key, uint64_t dflt) const {
  if (!Has(key)) return dflt;
  return GetUint(key);
}

Result<int64_t> GgufFile::GetIntOr(std::string_view key, int64_t dflt) const {
  if (!Has(key)) return dflt;
  return GetInt(key);
}

Result<double> GgufFile::GetFloatOr(std::string_view key, double dflt) const {
  if (!Has(key)) return dflt;
  return GetFloat(key);
}

Result<bool> GgufFile::GetBoolOr(std::string_view key, bool dflt) const {
  if (!Has(key)) return dflt;
  return GetBool(key);
}

std::string GgufFile::architecture() const {
  Result<std::string_view> arch = GetStringView("general.architecture");
  return arch.ok() ? std::string(*arch) : std::string();
}

std::string GgufFile::ArchKey(std::string_view suffix) const {
  return architecture() + "." + std::string(suffix);
}

}  // namespace cellar
