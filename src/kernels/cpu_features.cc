#include "kernels/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/log.h"

namespace cellar {
namespace {

uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures Detect() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = (ecx >> 27) & 1;
  f.sse42 = (ecx >> 20) & 1;
  f.fma = (ecx >> 12) & 1;
  f.f16c = (ecx >> 29) & 1;
  const bool avx_hw = (ecx >> 28) & 1;
  const uint64_t xcr0 = osxsave ? ReadXcr0() : 0;
  const bool ymm_os = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm_os = (xcr0 & 0xe6) == 0xe6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  f.avx = avx_hw && ymm_os;
  if (!f.avx) {
    f.fma = f.f16c = false;
  }
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = f.avx && ((ebx >> 5) & 1);
    f.bmi2 = (ebx >> 8) & 1;
    if (f.avx && zmm_os) {
      f.avx512f = (ebx >> 16) & 1;
      f.avx512dq = (ebx >> 17) & 1;
      f.avx512bw = (ebx >> 30) & 1;
      f.avx512vl = (ebx >> 31) & 1;
      f.avx512vbmi = (ecx >> 1) & 1;
      f.avx512vnni = (ecx >> 11) & 1;
    }
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avxvnni = f.avx && ((eax >> 4) & 1);
    f.avx512bf16 = f.avx512f && ((eax >> 5) & 1);
  }
  return f;
}

IsaLevel ComputeMax(const CpuFeatures& f) {
  const bool avx2 = f.avx2 && f.fma && f.f16c && f.bmi2;
  if (!avx2) return IsaLevel::kScalar;
  const bool avx512 = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni &&
                      f.avx512bf16 && f.avxvnni;
  return avx512 ? IsaLevel::kAvx512 : IsaLevel::kAvx2;
}

IsaLevel ComputeActive() {
  IsaLevel level = MaxSupportedIsa();
  const char* env = std::getenv("CELLAR_ISA");
  if (env == nullptr || *env == '\0') return level;
  const std::string v(env);
  IsaLevel want;
  if (v == "scalar") {
    want = IsaLevel::kScalar;
  } else if (v == "avx2") {
    want = IsaLevel::kAvx2;
  } else if (v == "avx512") {
    want = IsaLevel::kAvx512;
  } else {
    CELLAR_LOG_WARN("CELLAR_ISA={} is not one of scalar|avx2|avx512; ignored", v);
    return level;
  }
  return want < level ? want : level;
}

}  // namespace

const CpuFeatures& Cpu() {
  static const CpuFeatures features = Detect();
  return features;
}

IsaLevel MaxSupportedIsa() {
  static const IsaLevel level = ComputeMax(Cpu());
  return level;
}

IsaLevel ActiveIsa() {
  static const IsaLevel level = ComputeActive();
  return level;
}

bool IsaSupported(IsaLevel level) { return level <= MaxSupportedIsa(); }

std::string_view IsaName(IsaLevel level) {
  switch (level) {
    case IsaLevel::kScalar:
      return "scalar";
    case IsaLevel::kAvx2:
      return "avx2";
    case IsaLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

}  // namespace cellar
