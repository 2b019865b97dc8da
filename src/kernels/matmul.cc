#include "kernels/matmul.h"

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/matmul_kernels.h"

namespace cellar {

bool MatMulSupports(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

Status ValidateWeight(const WeightMatrix& w) {
  const uint32_t id = static_cast<uint32_t>(w.type);
  if (!GetGgmlTypeTraits(id).has_value()) {
    return InvalidArgument("weight type id " + std::to_string(id) + " is unknown");
  }
  if (!MatMulSupports(w.type)) {
    return Unimplemented("matmul does not support weight type " +
                         std::string(GgmlTypeName(w.type)));
  }
  if (w.rows < 0 || w.cols <= 0) {
    return InvalidArgument("weight shape " + std::to_string(w.rows) + " x " +
                           std::to_string(w.cols) + " is invalid");
  }
  const auto row_bytes = GgmlRowBytes(w.type, w.cols);
  if (!row_bytes.has_value()) {
    return InvalidArgument("weight row of " + std::to_string(w.cols) +
                           " elements is not a multiple of the " +
                           std::string(GgmlTypeName(w.type)) + " block size");
  }
  int64_t total = 0;
  if (__builtin_mul_overflow(*row_bytes, w.rows, &total)) {
    return InvalidArgument("weight byte size overflows");
  }
  if (w.rows > 0 && w.data == nullptr) return InvalidArgument("weight data is null");
  return OkStatus();
}

void MatMulWithIsa(IsaLevel isa, const WeightMatrix& w, const float* x, int64_t ldx,
                   int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool) {
  if (n_tokens <= 0 || w.rows == 0) return;
  switch (isa) {
    case IsaLevel::kAvx512:
      matmul_internal::MatMulAvx512(w, x, ldx, n_tokens, y, ldy, pool);
      return;
    case IsaLevel::kAvx2:
      matmul_internal::MatMulAvx2(w, x, ldx, n_tokens, y, ldy, pool);
      return;
    case IsaLevel::kScalar:
      matmul_internal::MatMulScalar(w, x, ldx, n_tokens, y, ldy, pool);
      return;
  }
}

void MatMul(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool) {
  MatMulWithIsa(ActiveIsa(), w, x, ldx, n_tokens, y, ldy, pool);
}

void MatMulSharedWithIsa(IsaLevel isa, std::span<const MatMulOutput> outs, const float* x,
                         int64_t ldx, int64_t n_tokens, ThreadPool& pool) {
  if (n_tokens <= 0) return;
  if (isa == IsaLevel::kAvx512 &&
      matmul_internal::MatMulSharedAvx512(outs, x, ldx, n_tokens, pool)) {
    return;
  }
  for (const MatMulOutput& o : outs) MatMulWithIsa(isa, *o.w, x, ldx, n_tokens, o.y, o.ldy, pool);
}

void MatMulShared(std::span<const MatMulOutput> outs, const float* x, int64_t ldx, int64_t n_tokens,
                  ThreadPool& pool) {
  MatMulSharedWithIsa(ActiveIsa(), outs, x, ldx, n_tokens, pool);
}

void MatMulReference(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                     int64_t ldy, ThreadPool& /*pool*/) {
  const int64_t row_bytes = matmul_internal::RowBytes(w);
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    const void* src = static_cast<const uint8_t*>(w.data) + r * row_bytes;
    DequantizeRow(w.type, src, row.data(), w.cols).IgnoreError();  // validated type/shape
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * ldx;
      double sum = 0;
      for (int64_t c = 0; c < w.cols; ++c) sum += static_cast<double>(row[c]) * xt[c];
      y[t * ldy + r] = static_cast<float>(sum);
    }
  }
}

namespace matmul_internal {

namespace {
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
struct ScratchSlot {
  std::unique_ptr<void, FreeDeleter> ptr;
  size_t size = 0;
};
}  // namespace

void ParallelChunks(ThreadPool& pool, int64_t n, int64_t chunk,
                    const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t n_chunks = (n + chunk - 1) / chunk;
  if (n_chunks <= 1 || pool.size() == 1) {
    if (n > 0) fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.RunOptional([&](int, int) {
    for (;;) {
      const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= n_chunks) return;
      const int64_t b = c * chunk;
      fn(b, b + chunk < n ? b + chunk : n);
    }
  });
}

void* CallerScratch(int slot, size_t bytes) {
  thread_local ScratchSlot slots[4];
  ScratchSlot& s = slots[slot];
  if (s.size < bytes) {
    size_t size = bytes + bytes / 4;
    size = (size + 63) & ~static_cast<size_t>(63);
    s.ptr.reset(std::aligned_alloc(64, size));
    s.size = size;
  }
  return s.ptr.get();
}

}  // namespace matmul_internal
}  // namespace cellar
