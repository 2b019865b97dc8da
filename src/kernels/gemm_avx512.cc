// AVX-512 GEMM kernels (many tokens per pass over the weights).
//
// Each thread owns a contiguous range of weight rows. For a token block whose
// packed activations fit in L2, it walks its rows in tiles of R rows; a
// quantized tile is first unpacked ("prepared") into a small thread-local
// buffer in the form the micro-kernel wants (one byte per weight, expanded
// scale vectors), then an R x T register-blocked micro-kernel computes R rows
// for T tokens at a time over the whole K.
//
// Families:
//   float   F32/F16 weights x f32 activations: FMA, 16 lanes.
//   bf16    BF16 weights x bf16 activations: vdpbf16ps.
//   q8a     Q8_0/Q4_0 weights (as s8) x u8 = q + 128 activations: vpdpbusd
//           started from -128 * sum(w) per block, one float scale per block.
//   q8k     Q4_K/Q5_K/Q6_K weights (as u8 0..63) x s8 activations: vpmaddubsw
//           then vpdpwssd with the sub-block scales, one float scale per
//           super-block; the K-quant offsets (mins, Q6_K's -32) become a
//           16-lane float correction: corr[row] . (d * bsum16)[token].
// GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_*) as maybe-uninitialized.
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/gemm_avx512_inl.h"
#include "kernels/gemm_packed.h"
#include "kernels/matmul_kernels.h"
#include "kernels/quant_blocks.h"

namespace cellar::matmul_internal::avx512 {
namespace {

constexpr int kMaxR = 4;

// ---------------------------------------------------------------- float

// Rows w + r * w_stride, elements [k0, k1); adds to y unless `first`.
template <int R, int T, bool kF16, bool kPrefetch>
void MicroFloat(const uint8_t* w, int64_t w_stride, const PackedActs& a, int64_t t0, int64_t k0,
                int64_t k, bool first, float* y, int64_t ldy) {
  __m512 acc[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  const float* x[T];
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const float*>(a.q + (t0 + t) * a.q_stride);
  auto load_w = [&](int r, int64_t i, __mmask16 m) CELLAR_INLINE {
    if constexpr (kF16) {
      const auto* p = reinterpret_cast<const uint16_t*>(w + r * w_stride) + i;
      return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    } else {
      return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(w + r * w_stride) + i);
    }
  };
  int64_t i = k0;
  for (; i + 16 <= k; i += 16) {
    if constexpr (kPrefetch) {
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w + r * w_stride) + i * (kF16 ? 2 : 4) + 1024,
                     _MM_HINT_T0);
      }
    }
    __m512 wv[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = load_w(r, i, 0xFFFF);
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(x[t] + i);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (i < k) {
    const __mmask16 m = static_cast<__mmask16>((1u << (k - i)) - 1);
    __m512 wv[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = load_w(r, i, m);
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x[t] + i);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) {
      const float v = _mm512_reduce_add_ps(acc[r][t]);
      float& out = y[(t0 + t) * ldy + r];
      out = first ? v : out + v;
    }
  }
}

// ---------------------------------------------------------------- bf16

template <int R, int T, bool kPrefetch>
void MicroBF16(const uint8_t* w, int64_t w_stride, const PackedActs& a, int64_t t0, int64_t k0,
               int64_t k, bool first, float* y, int64_t ldy) {
  __m512 acc[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  const uint16_t* x[T];
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const uint16_t*>(a.q + (t0 + t) * a.q_stride);
  auto step = [&](int64_t i, __mmask32 m) CELLAR_INLINE {
    if constexpr (kPrefetch) {
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w + r * w_stride) + i * 2 + 1024, _MM_HINT_T0);
      }
    }
    __m512bh wv[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) {
      const auto* p = reinterpret_cast<const uint16_t*>(w + r * w_stride) + i;
      wv[r] = (__m512bh)_mm512_maskz_loadu_epi16(m, p);
    }
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x[t] + i);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv[r], xv);
    }
  };
  int64_t i = k0;
  for (; i + 32 <= k; i += 32) step(i, 0xFFFFFFFFu);
  if (i < k) step(i, static_cast<__mmask32>((1ull << (k - i)) - 1));
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) {
      const float v = _mm512_reduce_add_ps(acc[r][t]);
      float& out = y[(t0 + t) * ldy + r];
      out = first ? v : out + v;
    }
  }
}

// ---------------------------------------------------------------- q8a

// A prepared Q8_0/Q4_0 row: per 64 elements, 64 s8 weights, 16 int32 start
// values (-128 * sum of each lane's 4 weights) and 16 floats [d0 x8, d1 x8].
struct Q8ARowTile {
  int64_t n_steps = 0;  // k-steps of 64
  int8_t* wq[kMaxR];
  int32_t* init[kMaxR];
  float* dw[kMaxR];
  float* mw[kMaxR];  // Q5_1 only: [m0, m1, 0 x14] per step
};

void PrepQ8ARow(GgmlType type, const uint8_t* row, int64_t n_blocks, int8_t* wq, int32_t* init,
                float* dw, float* mw) {
  const int64_t n_steps = (n_blocks + 1) / 2;
  for (int64_t s = 0; s < n_steps; ++s) {
    float d0, d1, m0 = 0.0f, m1 = 0.0f;
    const __m512i v = LoadQ8APair(type, row, 2 * s, 2 * s + 1 < n_blocks, &d0, &d1, &m0, &m1);
    _mm512_storeu_si512(wq + 64 * s, v);
    _mm512_storeu_si512(init + 16 * s, Q8AInit(v));
    _mm512_storeu_ps(dw + 16 * s, PairScales(d0, d1));
    if (mw != nullptr) _mm512_storeu_ps(mw + 16 * s, PairMins(m0, m1));
  }
}

// kMins: Q5_1, adds m_w * s_x per block.
template <int R, int T, bool kMins>
void MicroQ8A(const Q8ARowTile& tile, const PackedActs& a, int64_t t0, float* y, int64_t ldy) {
  __m512 acc[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t s = 0; s < tile.n_steps; ++s) {
    __m512i wv[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_si512(tile.wq[r] + 64 * s);
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const __m512i u = _mm512_loadu_si512(a.q + (t0 + t) * a.q_stride + 64 * s);
      const __m512 dx = _mm512_loadu_ps(a.d + (t0 + t) * a.d_stride + 16 * s);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m512i i = _mm512_dpbusd_epi32(_mm512_loadu_si512(tile.init[r] + 16 * s), u, wv[r]);
        const __m512 sc = _mm512_mul_ps(_mm512_loadu_ps(tile.dw[r] + 16 * s), dx);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, acc[r][t]);
        if constexpr (kMins) {
          acc[r][t] =
              _mm512_fmadd_ps(_mm512_loadu_ps(tile.mw[r] + 16 * s),
                              _mm512_loadu_ps(a.c + (t0 + t) * a.c_stride + 16 * s), acc[r][t]);
        }
      }
    }
  }
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) y[(t0 + t) * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// ---------------------------------------------------------------- q8k

// A prepared K-quant row: per super-block 256 u8 weights, 4 x 32 int16 scale
// vectors (one per 64-element k-step, one int16 per maddubs pair), the float
// super-block scale and 16 correction floats (one per 16-element group).
struct Q8KRowTile {
  int64_t n_sb = 0;
  uint8_t* wq[kMaxR];
  int16_t* sc[kMaxR];
  float* dw[kMaxR];
  float* corr[kMaxR];
};

template <typename Block, void (*Unpack)(const Block&, KBlock*)>
void PrepKRow(const uint8_t* row, int64_t n_sb, uint8_t* wq, int16_t* sc, float* dw, float* corr) {
  const auto* blocks = reinterpret_cast<const Block*>(row);
  for (int64_t b = 0; b < n_sb; ++b) {
    KBlock k;
    Unpack(blocks[b], &k);
    CELLAR_UNROLL
    for (int g = 0; g < 4; ++g) {
      _mm512_storeu_si512(wq + 256 * b + 64 * g, k.w[g]);
      _mm512_storeu_si512(sc + 128 * b + 32 * g, k.s[g]);
    }
    dw[b] = k.d;
    _mm512_storeu_ps(corr + 16 * b, k.corr);
  }
}

template <int R, int T>
void MicroQ8K(const Q8KRowTile& tile, const PackedActs& a, int64_t t0, float* y, int64_t ldy) {
  __m512 accf[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) accf[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < tile.n_sb; ++b) {
    __m512i acci[R][T];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) {
      CELLAR_UNROLL
      for (int t = 0; t < T; ++t) acci[r][t] = _mm512_setzero_si512();
    }
    CELLAR_UNROLL
    for (int g = 0; g < 4; ++g) {
      __m512i wv[R], sv[R];
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        wv[r] = _mm512_loadu_si512(tile.wq[r] + 256 * b + 64 * g);
        sv[r] = _mm512_loadu_si512(tile.sc[r] + 128 * b + 32 * g);
      }
      CELLAR_UNROLL
      for (int t = 0; t < T; ++t) {
        const __m512i xv = _mm512_loadu_si512(a.q + (t0 + t) * a.q_stride + 256 * b + 64 * g);
        CELLAR_UNROLL
        for (int r = 0; r < R; ++r) {
          acci[r][t] = _mm512_dpwssd_epi32(acci[r][t], _mm512_maddubs_epi16(wv[r], xv), sv[r]);
        }
      }
    }
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const float dx = a.d[(t0 + t) * a.d_stride + b];
      const __m512 cx = _mm512_loadu_ps(a.c + (t0 + t) * a.c_stride + 16 * b);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m512 sc = _mm512_set1_ps(tile.dw[r][b] * dx);
        accf[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acci[r][t]), sc, accf[r][t]);
        accf[r][t] = _mm512_fmadd_ps(_mm512_loadu_ps(tile.corr[r] + 16 * b), cx, accf[r][t]);
      }
    }
  }
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) y[(t0 + t) * ldy + r] = _mm512_reduce_add_ps(accf[r][t]);
  }
}

// ---------------------------------------------------------------- driver

// Dispatches a runtime (nr, nt) to the template instance Micro<R, T>.
template <int T, template <int, int> class F, typename... Args>
void ForR(int nr, Args&&... args) {
  switch (nr) {
    case 1:
      F<1, T>::Run(args...);
      break;
    case 2:
      F<2, T>::Run(args...);
      break;
    case 3:
      F<3, T>::Run(args...);
      break;
    default:
      F<4, T>::Run(args...);
      break;
  }
}

template <int kT, template <int, int> class F, typename... Args>
void ForRT(int nr, int nt, Args&&... args) {
  if constexpr (kT > 1) {
    if (nt < kT) {
      ForRT<kT - 1, F>(nr, nt, args...);
      return;
    }
  }
  ForR<kT, F>(nr, args...);
}

template <int R, int T>
struct RunF32 {
  static void Run(const uint8_t* w, int64_t ws, const PackedActs& a, int64_t t0, int64_t k0,
                  int64_t k1, bool first, float* y, int64_t ldy) {
    MicroFloat<R, T, false, false>(w, ws, a, t0, k0, k1, first, y, ldy);
  }
};
template <int R, int T>
struct RunF32S {
  static void Run(const uint8_t* w, int64_t ws, const PackedActs& a, int64_t t0, int64_t k0,
                  int64_t k1, bool first, float* y, int64_t ldy) {
    MicroFloat<R, T, false, true>(w, ws, a, t0, k0, k1, first, y, ldy);
  }
};
template <int R, int T>
struct RunF16 {
  static void Run(const uint8_t* w, int64_t ws, const PackedActs& a, int64_t t0, int64_t k0,
                  int64_t k1, bool first, float* y, int64_t ldy) {
    MicroFloat<R, T, true, false>(w, ws, a, t0, k0, k1, first, y, ldy);
  }
};
template <int R, int T>
struct RunF16S {
  static void Run(const uint8_t* w, int64_t ws, const PackedActs& a, int64_t t0, int64_t k0,
                  int64_t k1, bool first, float* y, int64_t ldy) {
    MicroFloat<R, T, true, true>(w, ws, a, t0, k0, k1, first, y, ldy);
  }
};
template <int R, int T>
struct RunBF16 {
  static void Run(const uint8_t* w, int64_t ws, const PackedActs& a, int64_t t0, int64_t k0,
                  int64_t k1, bool first, float* y, int64_t ldy) {
    MicroBF16<R, T, false>(w, ws, a, t0, k0, k1, first, y, ldy);
  }
};
template <int R, int T>
struct RunBF16S {
  static void Run(const uint8_t* w, int64_t ws, const PackedActs& a, int64_t t0, int64_t k0,
                  int64_t k1, bool first, float* y, int64_t ldy) {
    MicroBF16<R, T, true>(w, ws, a, t0, k0, k1, first, y, ldy);
  }
};
template <int R, int T>
struct RunQ8A {
  static void Run(const Q8ARowTile& tile, const PackedActs& a, int64_t t0, float* y, int64_t ldy) {
    MicroQ8A<R, T, false>(tile, a, t0, y, ldy);
  }
};
template <int R, int T>
struct RunQ8A1 {
  static void Run(const Q8ARowTile& tile, const PackedActs& a, int64_t t0, float* y, int64_t ldy) {
    MicroQ8A<R, T, true>(tile, a, t0, y, ldy);
  }
};
template <int R, int T>
struct RunQ8K {
  static void Run(const Q8KRowTile& tile, const PackedActs& a, int64_t t0, float* y, int64_t ldy) {
    MicroQ8K<R, T>(tile, a, t0, y, ldy);
  }
};

constexpr int kTokF = 6;                // tokens per float/bf16 micro-tile
constexpr int kTokQ = 4;                // tokens per quantized micro-tile
constexpr int kMacroRows = 32;          // rows prepared together (stay in L2)
constexpr int64_t kFloatKBlock = 1024;  // float/bf16 K block (activations stay in L1)

// stream: few tokens (float types only): whole K per 4-row tile with software
// prefetch, so each row is read from memory once as a sequential stream.
void GemmRowsImpl(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end,
                  float* y, int64_t ldy, bool stream) {
  const int64_t row_bytes = RowBytes(w);
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  const int64_t n_tokens = a.n_tokens;
  switch (w.type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16: {
      // Macro tile of rows x K block; for each token tile, every R-row micro
      // tile reuses the token tile's activations from L1.
      const int64_t macro_rows = stream ? kMaxR : kMacroRows;
      const int64_t k_block = stream ? w.cols : kFloatKBlock;
      for (int64_t rb0 = r_begin; rb0 < r_end; rb0 += macro_rows) {
        const int64_t rb1 = std::min(r_end, rb0 + macro_rows);
        for (int64_t k0 = 0; k0 < w.cols; k0 += k_block) {
          const int64_t k1 = std::min(w.cols, k0 + k_block);
          for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokF) {
            const int nt = static_cast<int>(std::min<int64_t>(kTokF, n_tokens - t0));
            for (int64_t r0 = rb0; r0 < rb1; r0 += kMaxR) {
              const int nr = static_cast<int>(std::min<int64_t>(kMaxR, rb1 - r0));
              const uint8_t* wr = wdata + r0 * row_bytes;
              const bool first = k0 == 0;
              if (w.type == GgmlType::kF32) {
                if (stream) {
                  ForRT<kTokF, RunF32S>(nr, nt, wr, row_bytes, a, t0, k0, k1, first, y + r0, ldy);
                } else {
                  ForRT<kTokF, RunF32>(nr, nt, wr, row_bytes, a, t0, k0, k1, first, y + r0, ldy);
                }
              } else if (w.type == GgmlType::kF16) {
                if (stream) {
                  ForRT<kTokF, RunF16S>(nr, nt, wr, row_bytes, a, t0, k0, k1, first, y + r0, ldy);
                } else {
                  ForRT<kTokF, RunF16>(nr, nt, wr, row_bytes, a, t0, k0, k1, first, y + r0, ldy);
                }
              } else if (stream) {
                ForRT<kTokF, RunBF16S>(nr, nt, wr, row_bytes, a, t0, k0, k1, first, y + r0, ldy);
              } else {
                ForRT<kTokF, RunBF16>(nr, nt, wr, row_bytes, a, t0, k0, k1, first, y + r0, ldy);
              }
            }
          }
        }
      }
      return;
    }
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1: {
      const int64_t n_blocks = w.cols / 32;
      const int64_t n_steps = (n_blocks + 1) / 2;
      const bool mins = w.type == GgmlType::kQ5_1;
      // Per row: 64 B weights + 64 B init + 64 B scales (+ 64 B mins) per step.
      const int64_t per_row = n_steps * (mins ? 256 : 192);
      auto* buf = static_cast<uint8_t*>(CallerScratch(3, kMacroRows * per_row));
      for (int64_t rb0 = r_begin; rb0 < r_end; rb0 += kMacroRows) {
        const int64_t rb1 = std::min(r_end, rb0 + kMacroRows);
        for (int64_t r = rb0; r < rb1; ++r) {
          uint8_t* base = buf + (r - rb0) * per_row;
          PrepQ8ARow(w.type, wdata + r * row_bytes, n_blocks, reinterpret_cast<int8_t*>(base),
                     reinterpret_cast<int32_t*>(base + n_steps * 64),
                     reinterpret_cast<float*>(base + n_steps * 128),
                     mins ? reinterpret_cast<float*>(base + n_steps * 192) : nullptr);
        }
        for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokQ) {
          const int nt = static_cast<int>(std::min<int64_t>(kTokQ, n_tokens - t0));
          for (int64_t r0 = rb0; r0 < rb1; r0 += kMaxR) {
            const int nr = static_cast<int>(std::min<int64_t>(kMaxR, rb1 - r0));
            Q8ARowTile tile;
            tile.n_steps = n_steps;
            for (int r = 0; r < nr; ++r) {
              uint8_t* base = buf + (r0 + r - rb0) * per_row;
              tile.wq[r] = reinterpret_cast<int8_t*>(base);
              tile.init[r] = reinterpret_cast<int32_t*>(base + n_steps * 64);
              tile.dw[r] = reinterpret_cast<float*>(base + n_steps * 128);
              tile.mw[r] = reinterpret_cast<float*>(base + n_steps * 192);
            }
            if (mins) {
              ForRT<kTokQ, RunQ8A1>(nr, nt, tile, a, t0, y + r0, ldy);
            } else {
              ForRT<kTokQ, RunQ8A>(nr, nt, tile, a, t0, y + r0, ldy);
            }
          }
        }
      }
      return;
    }
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: {
      const int64_t n_sb = w.cols / 256;
      // Per row and super-block: 256 B weights, 256 B scales, 64 B corr, 4 B d.
      const int64_t per_row = n_sb * (256 + 256 + 64 + 64);
      auto* buf = static_cast<uint8_t*>(CallerScratch(3, kMacroRows * per_row));
      auto row_tile = [&](int64_t i, uint8_t** wq, int16_t** sc, float** corr, float** dw) {
        uint8_t* base = buf + i * per_row;
        *wq = base;
        *sc = reinterpret_cast<int16_t*>(base + n_sb * 256);
        *corr = reinterpret_cast<float*>(base + n_sb * 512);
        *dw = reinterpret_cast<float*>(base + n_sb * 576);
      };
      for (int64_t rb0 = r_begin; rb0 < r_end; rb0 += kMacroRows) {
        const int64_t rb1 = std::min(r_end, rb0 + kMacroRows);
        for (int64_t r = rb0; r < rb1; ++r) {
          uint8_t* wq;
          int16_t* sc;
          float *corr, *dw;
          row_tile(r - rb0, &wq, &sc, &corr, &dw);
          const uint8_t* row = wdata + r * row_bytes;
          if (w.type == GgmlType::kQ4_K) {
            PrepKRow<BlockQ4K, UnpackQ4K>(row, n_sb, wq, sc, dw, corr);
          } else if (w.type == GgmlType::kQ5_K) {
            PrepKRow<BlockQ5K, UnpackQ5K>(row, n_sb, wq, sc, dw, corr);
          } else {
            PrepKRow<BlockQ6K, UnpackQ6K>(row, n_sb, wq, sc, dw, corr);
          }
        }
        for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokQ) {
          const int nt = static_cast<int>(std::min<int64_t>(kTokQ, n_tokens - t0));
          for (int64_t r0 = rb0; r0 < rb1; r0 += kMaxR) {
            const int nr = static_cast<int>(std::min<int64_t>(kMaxR, rb1 - r0));
            Q8KRowTile tile;
            tile.n_sb = n_sb;
            for (int r = 0; r < nr; ++r) {
              row_tile(r0 + r - rb0, &tile.wq[r], &tile.sc[r], &tile.corr[r], &tile.dw[r]);
            }
            ForRT<kTokQ, RunQ8K>(nr, nt, tile, a, t0, y + r0, ldy);
          }
        }
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

void GemmRows(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end, float* y,
              int64_t ldy) {
  GemmRowsImpl(w, a, r_begin, r_end, y, ldy, false);
}

void GemvRowsFloat(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end,
                   float* y, int64_t ldy) {
  GemmRowsImpl(w, a, r_begin, r_end, y, ldy, true);
}

}  // namespace cellar::matmul_internal::avx512
