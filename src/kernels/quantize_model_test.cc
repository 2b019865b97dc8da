// Our reference quantizers against llama-quantize's output: the tiny random
// models in ../shared were quantized from tiny-llama-F32.gguf by llama.cpp's
// llama-quantize (no imatrix); quantizing the same F32 tensors here must give
// the same bytes, tensor by tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "kernels/quantize.h"

namespace cellar {
namespace {

class QuantizeMatchesLlamaQuantize : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeMatchesLlamaQuantize, ByteIdenticalTensors) {
  CELLAR_REQUIRE_SHARED(f32_path, "models/tiny/tiny-llama-F32.gguf");
  CELLAR_REQUIRE_SHARED(q_path, std::string("models/tiny/tiny-llama-") + GetParam() + ".gguf");
  auto f32 = GgufFile::Open(f32_path.string());
  auto q = GgufFile::Open(q_path.string());
  ASSERT_TRUE(f32.ok()) << f32.status().ToString();
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  int compared = 0;
  for (const GgufTensorInfo& t : (*q)->tensors()) {
    const GgufTensorInfo* src = (*f32)->FindTensor(t.name);
    ASSERT_NE(src, nullptr) << t.name;
    ASSERT_EQ(src->type, GgmlType::kF32);
    ASSERT_EQ(src->n_elements, t.n_elements) << t.name;
    if (t.type == GgmlType::kF32) continue;
    ASSERT_TRUE(QuantizeSupports(t.type)) << t.name;
    std::vector<float> x(static_cast<size_t>(src->n_elements));
    std::memcpy(x.data(), src->data.data(), x.size() * sizeof(float));
    std::vector<uint8_t> out(static_cast<size_t>(t.n_bytes));
    // Row by row, as llama-quantize does.
    const int64_t row = t.dims[0];
    const int64_t row_bytes = *GgmlRowBytes(t.type, row);
    for (int64_t r = 0; r < t.n_rows(); ++r) {
      ASSERT_TRUE(QuantizeRow(t.type, x.data() + r * row, out.data() + r * row_bytes, row).ok());
    }
    int64_t first_diff = -1, n_diff = 0;
    for (int64_t i = 0; i < t.n_bytes; ++i) {
      if (out[i] != t.data[i]) {
        if (first_diff < 0) first_diff = i;
        ++n_diff;
      }
    }
    EXPECT_EQ(n_diff, 0) << t.name << " (" << GgmlTypeName(t.type) << "): first differing byte "
                         << first_diff << " of " << t.n_bytes;
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

INSTANTIATE_TEST_SUITE_P(Files, QuantizeMatchesLlamaQuantize,
                         ::testing::Values("F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M",
                                           "Q6_K"));

}  // namespace
}  // namespace cellar
