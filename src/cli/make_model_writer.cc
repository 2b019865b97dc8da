#include "cli/make_model_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/thread_pool.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "kernels/quantize.h"

namespace cellar::cli {
namespace {

uint64_t SplitMix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** seeded from (seed, tensor, row), with Box-Muller normals.
class RowRng {
 public:
  RowRng(uint64_t seed, uint64_t tensor, uint64_t row) {
    uint64_t s = seed ^ (tensor * 0xD1342543DE82EF95ull) ^ (row * 0x9E3779B97F4A7C15ull);
    for (auto& v : s_) v = SplitMix64(s);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Fills out[0..n) with normal(0, stddev).
  void Normals(float* out, int64_t n, float stddev) {
    for (int64_t i = 0; i < n; i += 2) {
      // u1 in (0, 1], u2 in [0, 1).
      const double u1 = (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53;
      const double u2 = static_cast<double>(Next() >> 11) * 0x1.0p-53;
      const double r = std::sqrt(-2.0 * std::log(u1)) * stddev;
      out[i] = static_cast<float>(r * std::cos(2 * M_PI * u2));
      if (i + 1 < n) out[i + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Status PwriteAll(int fd, const uint8_t* data, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError(std::string("pwrite: ") + std::strerror(errno));
    }
    data += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return OkStatus();
}

void SetHyperparameters(const ModelShape& s, ModelFileType ft, GgufWriter& w) {
  const std::string& a = s.arch;
  w.SetString("general.architecture", a);
  w.SetString("general.name", s.name);
  w.SetString("general.description",
              "RANDOM weights (cellar make-model): for speed and loading tests only");
  w.SetUint32(a + ".context_length", static_cast<uint32_t>(s.n_ctx));
  w.SetUint32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.SetUint32(a + ".block_count", static_cast<uint32_t>(s.n_layers));
  w.SetUint32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.SetUint32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.SetUint32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  if (s.head_dim * s.n_head != s.n_embd) {
    w.SetUint32(a + ".attention.key_length", static_cast<uint32_t>(s.head_dim));
    w.SetUint32(a + ".attention.value_length", static_cast<uint32_t>(s.head_dim));
  }
  w.SetUint32(a + ".rope.dimension_count", static_cast<uint32_t>(s.head_dim));
  w.SetFloat32(a + ".rope.freq_base", s.rope_theta);
  w.SetFloat32(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  w.SetUint32(a + ".vocab_size", static_cast<uint32_t>(s.n_vocab));
  w.SetUint32("general.file_type", LlamaFileTypeId(ft));
  if (ft != ModelFileType::kF32 && ft != ModelFileType::kF16 && ft != ModelFileType::kBF16) {
    w.SetUint32("general.quantization_version", 2);
  }
}

// A read-only region of zeros (untouched anonymous pages: no memory used).
class ZeroRegion {
 public:
  explicit ZeroRegion(size_t size) : size_(std::max<size_t>(size, 1)) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<const uint8_t*>(p);
  }
  ~ZeroRegion() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  ZeroRegion(const ZeroRegion&) = delete;
  ZeroRegion& operator=(const ZeroRegion&) = delete;
  const uint8_t* data() const { return data_; }

 private:
  size_t size_;
  const uint8_t* data_;
};

// Generates tensor `index` of the plan and writes it at `offset`.
Status FillTensor(const TensorPlan& t, uint64_t index, const MakeModelOptions& opt, int fd,
                  uint64_t offset, ThreadPool& pool) {
  const int64_t row = t.dims[0];
  int64_t n_rows = 1;
  for (size_t i = 1; i < t.dims.size(); ++i) n_rows *= t.dims[i];
  const int64_t row_bytes = *GgmlRowBytes(t.type, row);
  // Chunks of rows of about 4 MiB of output per thread-step.
  const int64_t rows_per_chunk = std::max<int64_t>(1, (4 << 20) / std::max<int64_t>(row_bytes, 1));
  const int64_t n_chunks = (n_rows + rows_per_chunk - 1) / rows_per_chunk;
  std::vector<Status> errors(static_cast<size_t>(pool.size()));
  pool.Run([&](int ith, int nth) {
    std::vector<float> x(static_cast<size_t>(row));
    std::vector<uint8_t> out(static_cast<size_t>(rows_per_chunk * row_bytes));
    for (int64_t c = ith; c < n_chunks; c += nth) {
      const int64_t r0 = c * rows_per_chunk, r1 = std::min(n_rows, r0 + rows_per_chunk);
      for (int64_t r = r0; r < r1; ++r) {
        if (t.init == TensorInit::kOnes) {
          std::fill(x.begin(), x.end(), 1.0f);
        } else {
          RowRng rng(opt.seed, index, static_cast<uint64_t>(r));
          rng.Normals(x.data(), row, opt.stddev);
        }
        QuantizeRow(t.type, x.data(), out.data() + (r - r0) * row_bytes, row).IgnoreError();
      }
      Status s = PwriteAll(fd, out.data(), static_cast<size_t>((r1 - r0) * row_bytes),
                           offset + static_cast<uint64_t>(r0 * row_bytes));
      if (!s.ok()) {
        errors[static_cast<size_t>(ith)] = s;
        return;
      }
    }
  });
  for (const Status& s : errors) CELLAR_RETURN_IF_ERROR(s);
  return OkStatus();
}

}  // namespace

Status WriteRandomModel(const MakeModelOptions& opt) {
  ModelShape shape = opt.shape;
  // Tokenizer keys from the vocabulary file.
  auto vocab = GgufFile::Open(opt.vocab_path);
  if (!vocab.ok()) return vocab.status().WithContext("vocabulary");
  auto tokens = (*vocab)->GetArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.status().WithContext("vocabulary " + opt.vocab_path);
  const int64_t n_vocab = static_cast<int64_t>((*tokens)->array_size());
  if (shape.n_vocab == 0) shape.n_vocab = static_cast<int>(n_vocab);
  if (shape.n_vocab != n_vocab) {
    return InvalidArgument("the shape has " + std::to_string(shape.n_vocab) +
                           " tokens but the vocabulary " + opt.vocab_path + " has " +
                           std::to_string(n_vocab));
  }
  CELLAR_ASSIGN_OR_RETURN(std::vector<TensorPlan> plan, PlanTensors(shape, opt.file_type));

  GgufWriter writer;
  SetHyperparameters(shape, opt.file_type, writer);
  for (const auto& [key, value] : (*vocab)->metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) writer.Set(key, value);
  }
  int64_t max_bytes = 0;
  for (const TensorPlan& t : plan) {
    int64_t n = 1;
    for (int64_t d : t.dims) n *= d;
    const auto bytes = GgmlRowBytes(t.type, n);
    if (!bytes.has_value()) return InvalidArgument("tensor " + t.name + " has a bad size");
    max_bytes = std::max(max_bytes, *bytes);
  }
  ZeroRegion zeros(static_cast<size_t>(max_bytes));
  if (zeros.data() == nullptr) return ResourceExhausted("cannot map a zero region");
  for (const TensorPlan& t : plan) {
    int64_t n = 1;
    for (int64_t d : t.dims) n *= d;
    const auto bytes = static_cast<size_t>(*GgmlRowBytes(t.type, n));
    CELLAR_RETURN_IF_ERROR(writer.AddTensorView(t.name, t.type, t.dims,
                                                std::span<const uint8_t>(zeros.data(), bytes)));
  }
  // Header and zeroed tensor data, then the tensors filled in place.
  const std::string partial = opt.out_path + ".partial";
  CELLAR_RETURN_IF_ERROR(writer.WriteToFile(partial));
  std::vector<uint64_t> offsets;
  {
    auto written = GgufFile::Open(partial);
    if (!written.ok()) return written.status().WithContext("re-reading " + partial);
    for (const TensorPlan& t : plan) {
      const GgufTensorInfo* info = (*written)->FindTensor(t.name);
      if (info == nullptr) return Internal("tensor " + t.name + " missing after writing");
      offsets.push_back((*written)->data_offset() + info->offset);
    }
  }
  Fd fd(::open(partial.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open " + partial + ": " + std::strerror(errno));
  ThreadPool pool(opt.threads > 0 ? opt.threads : ThreadPool::PhysicalCores());
  for (size_t i = 0; i < plan.size(); ++i) {
    CELLAR_RETURN_IF_ERROR(FillTensor(plan[i], i, opt, fd.get(), offsets[i], pool)
                               .WithContext("tensor " + plan[i].name));
    if ((i + 1) % 20 == 0 || i + 1 == plan.size()) {
      CELLAR_LOG_INFO("make-model: {}/{} tensors written", i + 1, plan.size());
    }
  }
  if (::fsync(fd.get()) != 0) return IoError("fsync " + partial + ": " + std::strerror(errno));
  if (::close(fd.Release()) != 0) return IoError("close " + partial + ": " + std::strerror(errno));
  if (::rename(partial.c_str(), opt.out_path.c_str()) != 0) {
    return IoError("rename " + partial + " -> " + opt.out_path + ": " + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace cellar::cli
