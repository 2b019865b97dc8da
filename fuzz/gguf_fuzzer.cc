// libFuzzer target for GgufFile::Parse. For every input it parses the bytes and,
// when they are accepted, touches every metadata value (every array element, every
// string byte), every tensor's data, the typed getters and the summary, then checks
// an invariant: writing the file back with GgufWriter and parsing it again gives
// the same metadata and tensor data. A violated invariant traps. See docs/FUZZING.md.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gguf/gguf_copy.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_summary.h"
#include "gguf/gguf_writer.h"

namespace {

using cellar::GgufFile;
using cellar::GgufValue;
using cellar::GgufValueType;

// Reads every byte a value refers to, so ASan sees any out-of-bounds view.
uint64_t Touch(const GgufValue& v) {
  uint64_t h = static_cast<uint64_t>(v.type()) + v.scalar_bits();
  if (v.is_string()) {
    const std::string_view str = *v.AsString();
    for (char c : str) h = h * 31 + static_cast<unsigned char>(c);
    return h;
  }
  if (!v.is_array()) {
    h += v.AsUint().ok() + v.AsInt().ok() + v.AsFloat().ok() + v.AsBool().ok();
    return h;
  }
  for (uint8_t b : v.array_bytes()) h = h * 31 + b;
  for (std::string_view s : v.string_array()) {
    for (char c : s) h = h * 31 + static_cast<unsigned char>(c);
  }
  for (const GgufValue& item : v.nested_array()) h += Touch(item);
  if (v.array_size() > 0) h += Touch(v.ArrayElement(v.array_size() - 1));
  h += v.ToIntVector().ok() + v.ToFloatVector().ok() + v.ToStringVector().ok();
  return h;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = GgufFile::Parse(std::span<const uint8_t>(data, size));
  if (!parsed.ok()) {
    Check(!parsed.status().message().empty());
    return 0;
  }
  const GgufFile& f = **parsed;
  volatile uint64_t sink = 0;
  for (const auto& [key, value] : f.metadata()) {
    sink = sink + Touch(value) + key.size();
    Check(f.Find(key) == &value);
    sink = sink + f.GetUint(key).ok() + f.GetString(key).ok() + f.GetStringArray(key).ok() +
           f.GetFloatArray(key).ok() + f.GetIntArray(key).ok();
  }
  for (const auto& t : f.tensors()) {
    Check(f.FindTensor(t.name) == &t);
    Check(t.data.size() == static_cast<size_t>(t.n_bytes));
    if (!t.data.empty()) sink = sink + t.data.front() + t.data.back();
  }
  const cellar::GgufSummary summary = cellar::SummarizeGguf(f);
  sink = sink + summary.n_params + summary.warnings.size();

  // Round trip: what the reader accepts, the writer writes back identically.
  cellar::GgufWriter w(cellar::GgufWriterOptions{.version = f.version()});
  Check(cellar::CopyGgufContents(f, w, cellar::GgufCopyOptions{.copy_tensors = true}).ok());
  auto bytes = w.WriteToBytes();
  Check(bytes.ok());
  auto again = GgufFile::Parse(*bytes);
  Check(again.ok());
  const GgufFile& g = **again;
  Check(g.metadata().size() == f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    Check(g.metadata()[i].first == f.metadata()[i].first);
    Check(g.metadata()[i].second == f.metadata()[i].second);
  }
  Check(g.tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = g.tensors()[i];
    Check(a.name == b.name && a.type == b.type && a.dims == b.dims);
    Check(std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end()));
  }
  return 0;
}
