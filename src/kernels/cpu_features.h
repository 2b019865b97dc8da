// CpuFeatures: the x86 instruction-set extensions this CPU and OS support,
// detected once (CPUID + XGETBV), and the kernel level (IsaLevel) chosen from
// them. The environment variable CELLAR_ISA=scalar|avx2|avx512 lowers the level
// (it never raises it above what the CPU supports); it is read once, on the
// first call of ActiveIsa().
// Thread-safety: Cpu() and ActiveIsa() are safe from any thread (initialized
// once, then read-only).
#pragma once

#include <string_view>

namespace cellar {

struct CpuFeatures {
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool bmi2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avx512vbmi = false;
  bool avxvnni = false;
};

// Kernel levels, lowest first. Each level's kernels are compiled in files named
// *_avx2.cc / *_avx512.cc with that level's compiler flags.
enum class IsaLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// Features of the running CPU (OS support of the wide registers included).
const CpuFeatures& Cpu();

// The best level the CPU supports: kAvx2 needs AVX2+FMA+F16C+BMI2; kAvx512
// additionally needs AVX-512 F/BW/VL/DQ/VNNI/BF16 and AVX-VNNI (the flag set
// the *_avx512.cc files are built with).
IsaLevel MaxSupportedIsa();

// The level the dispatching kernels use: MaxSupportedIsa(), lowered by
// CELLAR_ISA if set. An unknown CELLAR_ISA value is ignored (with a warning).
IsaLevel ActiveIsa();

// True if `level` can run on this CPU (tests iterate over these).
bool IsaSupported(IsaLevel level);

std::string_view IsaName(IsaLevel level);

}  // namespace cellar
