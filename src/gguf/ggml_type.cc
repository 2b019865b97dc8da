#include "gguf/ggml_type.h"

#include <array>

namespace cellar {
namespace {

constexpr uint32_t kMaxTypeId = 42;

struct Entry {
  bool known;
  GgmlTypeTraits traits;
};

constexpr std::array<Entry, kMaxTypeId> MakeTable() {
  std::array<Entry, kMaxTypeId> t{};
  auto set = [&t](GgmlType id, std::string_view name, int64_t bs, int64_t ts, bool q) {
    t[static_cast<uint32_t>(id)] = Entry{true, GgmlTypeTraits{name, bs, ts, q}};
  };
  set(GgmlType::kF32, "f32", 1, 4, false);
  set(GgmlType::kF16, "f16", 1, 2, false);
  set(GgmlType::kQ4_0, "q4_0", 32, 18, true);
  set(GgmlType::kQ4_1, "q4_1", 32, 20, true);
  set(GgmlType::kQ5_0, "q5_0", 32, 22, true);
  set(GgmlType::kQ5_1, "q5_1", 32, 24, true);
  set(GgmlType::kQ8_0, "q8_0", 32, 34, true);
  set(GgmlType::kQ8_1, "q8_1", 32, 36, true);
  set(GgmlType::kQ2_K, "q2_K", 256, 84, true);
  set(GgmlType::kQ3_K, "q3_K", 256, 110, true);
  set(GgmlType::kQ4_K, "q4_K", 256, 144, true);
  set(GgmlType::kQ5_K, "q5_K", 256, 176, true);
  set(GgmlType::kQ6_K, "q6_K", 256, 210, true);
  set(GgmlType::kQ8_K, "q8_K", 256, 292, true);
  set(GgmlType::kIQ2_XXS, "iq2_xxs", 256, 66, true);
  set(GgmlType::kIQ2_XS, "iq2_xs", 256, 74, true);
  set(GgmlType::kIQ3_XXS, "iq3_xxs", 256, 98, true);
  set(GgmlType::kIQ1_S, "iq1_s", 256, 50, true);
  set(GgmlType::kIQ4_NL, "iq4_nl", 32, 18, true);
  set(GgmlType::kIQ3_S, "iq3_s", 256, 110, true);
  set(GgmlType::kIQ2_S, "iq2_s", 256, 82, true);
  set(GgmlType::kIQ4_XS, "iq4_xs", 256, 136, true);
  set(GgmlType::kI8, "i8", 1, 1, false);
  set(GgmlType::kI16, "i16", 1, 2, false);
  set(GgmlType::kI32, "i32", 1, 4, false);
  set(GgmlType::kI64, "i64", 1, 8, false);
  set(GgmlType::kF64, "f64", 1, 8, false);
  set(GgmlType::kIQ1_M, "iq1_m", 256, 56, true);
  set(GgmlType::kBF16, "bf16", 1, 2, false);
  set(GgmlType::kTQ1_0, "tq1_0", 256, 54, true);
  set(GgmlType::kTQ2_0, "tq2_0", 256, 66, true);
  set(GgmlType::kMXFP4, "mxfp4", 32, 17, true);
  set(GgmlType::kNVFP4, "nvfp4", 64, 36, true);
  set(GgmlType::kQ1_0, "q1_0", 128, 18, true);
  return t;
}

constexpr std::array<Entry, kMaxTypeId> kTable = MakeTable();

}  // namespace

std::optional<GgmlTypeTraits> GetGgmlTypeTraits(uint32_t type_id) {
  if (type_id >= kMaxTypeId || !kTable[type_id].known) return std::nullopt;
  return kTable[type_id].traits;
}

const GgmlTypeTraits& TraitsOf(GgmlType type) { return kTable[static_cast<uint32_t>(type)].traits; }

std::optional<int64_t> GgmlRowBytes(GgmlType type, int64_t n_elements) {
  const GgmlTypeTraits& t = TraitsOf(type);
  if (n_elements < 0 || n_elements % t.block_size != 0) return std::nullopt;
  int64_t out = 0;
  if (__builtin_mul_overflow(n_elements / t.block_size, t.type_size, &out)) return std::nullopt;
  return out;
}

}  // namespace cellar
