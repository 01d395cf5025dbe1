// kata/cpu/kernels/conv_nhwc.hpp
//
// Direct channel-last (NHWC) convolution with pre-packed weights and a fused epilogue: the frozen
// executor's path for Convolution and FusedConvolution with channel_last = true, group = 1 (any kernel
// size, stride, pad, dilation; 1-D/2-D/3-D; batch axes folded into the pixel dimension) whose weight and
// bias are parameters. kernels/convolution.hpp and kernels/fused_convolution.hpp choose it at compile
// time (packed_path(I)) and pack the weights at bind time (pack()).
//
// Formulation: Y(M, O) = sum over taps t and channels c of X_t(M, c) * W(t, c, O), M = B * out pixels.
// There is no im2col: a tile of MR output pixels carries, for each tap, one pointer per pixel to its
// input C-vector (or to a zero vector where the tap falls into the padding; a tap that is padding for
// every pixel of the tile is skipped). A kernel row (fixed kd, kh) whose kw taps lie inside the image
// for every pixel of the tile is one run of kw * C floats per pixel (dilation 1), so a 3x3 reduces over
// runs of 3 * C. Layers with few input channels and padding (the 7x7 RGB stem) first copy the input
// into a zero-bordered buffer and run unpadded, so all their tiles take runs of 7 * 3 floats.
//
// Weights are packed once per layer into blocks of NR = 64 output channels:
//     packed = [bias (nb * 64)] [block 0: K x 64] [block 1: K x 64] ...   K = taps * C, zero-padded
// so the micro-kernel streams 64 output channels of one k as four 16-float vectors. The micro-kernel
// keeps an MR x 64 accumulator tile in registers (MR = 6: 24 zmm accumulators + 4 weight vectors +
// the broadcast; 7 rows would spill), broadcasts one input value per pixel per k, and applies the
// epilogue on the last reduction chunk: + bias (initial value), + residual (an NHWC tensor of the
// output's shape, prefetched during the reduction), ReLU, then stores (non-temporal for outputs
// larger than 4 MiB). The reduction is split into chunks of <= 1024 k (a 256 KiB weight panel stays
// in L2 while every pixel tile of the work unit uses it); between chunks the partial sums live in
// the output.
//
// ISA (kata/cpu/simd.hpp): the AVX-512 and AVX2 + FMA micro-kernels are compiled with function target
// attributes and chosen at run time (`__builtin_cpu_supports`), so the library keeps building for
// plain x86-64 and runs a fast kernel on AVX-512 and on AVX2 machines without -march=native. The
// AVX2 kernel reads the same packed layout, 16 columns (one cache line of a packed row) per pass with
// a 6 x 16 accumulator tile (see ukernel_avx2). Elsewhere (or with KATA_CPU_SIMD=generic in the
// environment, or kata::cpu::simd::force_generic(true) in tests) a portable C++ micro-kernel with the
// same blocking runs.
//
// Threads: work units (see forward_unpadded()) are claimed dynamically by kata's pool (kata/cpu/parallel.hpp);
// OpenBLAS is not involved.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../simd.hpp"
#include "../kernel.hpp"
#include "../parallel.hpp"

namespace kata::cpu::detail {

using i64 = std::int64_t;

inline constexpr int NR = 64;    // output channels per packed block (4 x 16 floats)
inline constexpr int MR = 6;     // output pixels per register tile
inline constexpr i64 KC = 1024;  // reduction length per chunk (k values)
inline constexpr int max_segs = 64;

// Run-time description of one convolution (normalised to 3 spatial axes, leading unit axes added).
struct params {
    i64 B = 1, C = 1, O = 1;
    i64 in[3]{1, 1, 1}, out[3]{1, 1, 1}, k[3]{1, 1, 1}, pad[3]{}, stride[3]{1, 1, 1}, dil[3]{1, 1, 1};
    i64 taps = 1, K = 1, nb = 1, M = 1, out_sp = 1, in_sp = 1;
    bool has_bias = false;
    // Reduction chunking: chunks of `tpc` taps with the full C (C <= KC), or one tap split into `cpt`
    // channel pieces (C > KC).
    i64 tpc = 1, cpt = 1, nchunks = 1;
    // Few input channels (the RGB stem) and padding: border tiles would fall back to runs of C floats
    // per tap, so the input is first copied into a zero-bordered buffer (scratch) and the convolution
    // runs unpadded on it: every kernel row is one run of k * C floats.
    bool prepad = false;
    // One input channel, stride 1 along W, no dilation, <= 16 output channels, >= 8 output columns (LeNet's
    // first layer): the runs would be k floats long (the reduction is taps long), so the tile set-up costs
    // as much as the FMAs and most of the 16 columns are padding. Such layers run rows_forward() instead:
    // vectors along the output row (8 pixels per vector; the input row is contiguous), output channels
    // broadcast from the same packed weights.
    bool rows = false;
};

// The geometry of the convolution on the zero-bordered copy of x (pad 0, input grown by 2 * pad).
constexpr params padded(const params& p) {
    params q = p;
    for (int j = 0; j < 3; ++j) {
        q.in[j] = p.in[j] + 2 * p.pad[j];
        q.pad[j] = 0;
    }
    q.in_sp = q.in[0] * q.in[1] * q.in[2];
    q.prepad = false;
    return q;
}

// Whether the fast path handles this op instance (a Convolution, or the FusedConvolution that
// kata/converters/fuse_convolution_epilogue.hpp makes of one).
constexpr bool eligible(const op_instance& I) {
    if (I.op != op_kind::convolution && I.op != op_kind::fused_convolution) return false;
    if (!I.attr.channel_last || I.attr.group != 1) return false;
    if (I.type != dtype::f32 || I.nin < 2 || I.in_type[0] != dtype::f32 || I.in_type[1] != dtype::f32)
        return false;
    const int nsp = I.attr.spatial_dims;
    if (nsp < 1 || nsp > 3) return false;
    if (I.in[0].rank != I.attr.base_axis + nsp + 1 || I.out.rank != I.attr.base_axis + nsp + 1) return false;
    return true;
}

// Whether a frozen executor runs this instance here: eligible, and its weight (and bias) are frozen
// parameters, packed once at bind time (kata/exec/kernel_io.hpp, bind-time preparation).
constexpr bool packed_path(const op_instance& I) {
    if (!eligible(I) || !I.in_frozen[1]) return false;
    return !(I.attr.has_bias && I.nin >= 3) || I.in_frozen[2];
}

constexpr params make_params(const op_instance& I) {
    params p;
    const shape_t& xs = I.in[0];
    const shape_t& ys = I.out;
    const int ba = I.attr.base_axis;
    const int nsp = I.attr.spatial_dims;
    p.B = xs.prod(0, ba);
    p.C = xs.dims[xs.rank - 1];
    p.O = ys.dims[ys.rank - 1];
    for (int i = 0; i < nsp; ++i) {
        const int j = 3 - nsp + i;
        p.in[j] = xs.dims[ba + i];
        p.out[j] = ys.dims[ba + i];
        p.k[j] = I.attr.kernel[i];
        p.pad[j] = I.attr.pad[i];
        p.stride[j] = I.attr.stride[i];
        p.dil[j] = I.attr.dilation[i];
    }
    p.taps = p.k[0] * p.k[1] * p.k[2];
    p.K = p.taps * p.C;
    p.nb = (p.O + NR - 1) / NR;
    p.out_sp = p.out[0] * p.out[1] * p.out[2];
    p.in_sp = p.in[0] * p.in[1] * p.in[2];
    p.M = p.B * p.out_sp;
    p.has_bias = I.attr.has_bias && I.nin >= 3;
    if (p.C <= KC) {
        p.tpc = std::min<i64>(std::max<i64>(1, KC / p.C), max_segs);
        p.cpt = 1;
        p.nchunks = (p.taps + p.tpc - 1) / p.tpc;
    } else {
        p.tpc = 1;
        p.cpt = (p.C + KC - 1) / KC;
        p.nchunks = p.taps * p.cpt;
    }
    p.prepad = p.C < 8 && p.pad[0] + p.pad[1] + p.pad[2] > 0;
    p.rows = p.C == 1 && p.taps > 1 && p.O <= 16 && p.out[2] >= 8 && p.stride[2] == 1 &&
             p.dil[0] * p.dil[1] * p.dil[2] == 1;
    return p;
}

// The kernel a layer runs on, decided here at compile time from the op instance (the per-layer profile
// prints it: bench/profile_report.hpp).
constexpr const char* path_name(const params& p) {
    if (p.rows) return "nhwc-rows";
    if (p.prepad) return "nhwc-prepad";
    return "nhwc";
}

// Floats of the packed weights (+ bias) of one layer.
constexpr i64 packed_floats(const params& p) { return p.nb * NR + p.nb * p.K * NR; }
// Floats of scratch the forward needs (the zero vector for padding taps).
constexpr i64 zero_floats(const params& p) { return (std::min(p.C, KC) + 15) / 16 * 16 + 16; }
constexpr i64 scratch_floats(const params& p) {
    return p.prepad ? zero_floats(p) + p.B * padded(p).in_sp * p.C : zero_floats(p);
}

// W (O, taps, C) row-major and bias (O) or null -> packed (see the header comment). Threaded.
inline void pack(const params& p, const float* w, const float* bias, float* packed) {
    for (i64 j = 0; j < p.nb * NR; ++j) packed[j] = (bias && j < p.O) ? bias[j] : 0.f;
    float* pw = packed + p.nb * NR;
    const i64 K = p.K;
    parallel_for(
        p.nb * ((K + 63) / 64),
        [&](i64 u0, i64 u1) {
            const i64 kb_count = (K + 63) / 64;
            for (i64 u = u0; u < u1; ++u) {
                const i64 b = u / kb_count, k0 = (u % kb_count) * 64, k1 = std::min(K, k0 + 64);
                float* dst = pw + b * K * NR;
                for (int j = 0; j < NR; ++j) {
                    const i64 o = b * NR + j;
                    if (o < p.O) {
                        const float* src = w + o * K;
                        for (i64 k = k0; k < k1; ++k) dst[k * NR + j] = src[k];
                    } else {
                        for (i64 k = k0; k < k1; ++k) dst[k * NR + j] = 0.f;
                    }
                }
            }
        },
        1);
}

// One run of the reduction: `len` consecutive packed k values starting at k0; a[r] is pixel r's input.
struct seg {
    i64 k0 = 0, len = 0;
    bool full = false;  // every pixel reads real input (no zero vector): may be extended
    const float* a[MR]{};
};

// Epilogue / accumulation control for one micro-kernel call.
struct tile_args {
    const float* w;  // packed block base: k-th row at w + k * NR
    float* out;      // output tile: row r at out + r * ldo
    i64 ldo;
    const float* bias;  // 64 floats (initial value) when !accumulate
    bool accumulate;    // start from out's current values (not the first chunk)
    bool last;          // apply residual / relu
    const float* res;   // residual tile (row stride ldo) or null
    bool relu;
    int ncols;            // valid columns of this block (1..64)
    bool stream = false;  // last chunk: non-temporal stores for full vectors (64-byte aligned rows)
};

// ---- portable micro-kernel (any R <= MR; all 64 columns, the packed weights are zero-padded) --------
inline void ukernel_generic(int R, const seg* s, int ns, const tile_args& t) {
    float acc[MR][NR];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < NR; ++j)
            acc[r][j] = t.accumulate ? (j < t.ncols ? t.out[r * t.ldo + j] : 0.f) : t.bias[j];
    for (int q = 0; q < ns; ++q) {
        const float* w = t.w + s[q].k0 * NR;
        for (i64 k = 0; k < s[q].len; ++k, w += NR) {
            for (int r = 0; r < R; ++r) {
                const float xv = s[q].a[r][k];
                for (int j = 0; j < NR; ++j) acc[r][j] += xv * w[j];
            }
        }
    }
    for (int r = 0; r < R; ++r) {
        float* o = t.out + r * t.ldo;
        for (int j = 0; j < t.ncols; ++j) {
            float v = acc[r][j];
            if (t.last) {
                if (t.res) v += t.res[r * t.ldo + j];
                if (t.relu) v = v > 0.f ? v : 0.f;
            }
            o[j] = v;
        }
    }
}

#if KATA_CPU_X86
// ---- AVX-512 micro-kernel: R pixels x V vectors of 16 channels ---------------------------------------
// V = 1 serves blocks of <= 16 valid columns, V = 4 the others (columns past ncols are masked).
template <int R, int V>
KATA_CPU_AVX512_TARGET void ukernel_avx512(const seg* s, int ns, const tile_args& t) {
    const bool full = t.ncols >= V * 16;
    __mmask16 m[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
        const int c = t.ncols - 16 * v;
        m[v] = c >= 16 ? __mmask16(0xFFFF) : c <= 0 ? __mmask16(0) : __mmask16((1u << c) - 1u);
    }
    if (t.last && t.res) {
        // The residual tile is read after the reduction: fetch it meanwhile (it is usually out of L2).
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v)
                _mm_prefetch(reinterpret_cast<const char*>(t.res + r * t.ldo + v * 16), _MM_HINT_T0);
    }
    if (!t.stream) {
        // The output tile is written after the reduction: request ownership of its lines meanwhile.
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) __builtin_prefetch(t.out + r * t.ldo + v * 16, 1, 3);
    }
    __m512 acc[R][V];
    if (t.accumulate) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) acc[r][v] = _mm512_maskz_loadu_ps(m[v], t.out + r * t.ldo + v * 16);
        }
    } else {
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
            const __m512 b = _mm512_loadu_ps(t.bias + v * 16);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[r][v] = b;
        }
    }
    for (int q = 0; q < ns; ++q) {
        const float* w = t.w + s[q].k0 * NR;
        const float* a[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) a[r] = s[q].a[r];
        const i64 len = s[q].len;
        for (i64 k = 0; k < len; ++k, w += NR) {
            __m512 b[V];
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(w + v * 16);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const __m512 x = _mm512_set1_ps(a[r][k]);
#pragma GCC unroll 4
                for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
            __m512 y = acc[r][v];
            float* o = t.out + r * t.ldo + v * 16;
            if (t.last) {
                if (t.res) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m[v], t.res + r * t.ldo + v * 16));
                if (t.relu) y = _mm512_max_ps(y, zero);
            }
            if (!full)
                _mm512_mask_storeu_ps(o, m[v], y);
            else if (t.stream && t.last)
                _mm512_stream_ps(o, y);
            else
                _mm512_storeu_ps(o, y);
        }
    }
}

template <int R>
KATA_CPU_AVX512_TARGET void ukernel_avx512_r(const seg* s, int ns, const tile_args& t) {
    if (t.ncols <= 16)
        ukernel_avx512<R, 1>(s, ns, t);
    else
        ukernel_avx512<R, 4>(s, ns, t);
}
// ---- AVX2 + FMA micro-kernel: R pixels x 16 channels per pass, the 64-column block in slices ---------
// 16 ymm registers: R x V accumulators (12 for R = 6, V = 2) + V weight vectors + the broadcast. The
// packed layout is the AVX-512 kernel's (K x 64 per block): a slice reads the 16 floats (one cache
// line) of its columns from each k row, and slices past ncols are skipped, so a 24-channel block costs
// two slices, not four; a slice of at most 8 valid columns (LeNet's 6 output channels, tails) runs
// with V = 1, half the FMAs. Partial slices use masked loads and stores.
template <int R, int V>
KATA_CPU_AVX2_TARGET void ukernel_avx2_slice(const seg* s, int ns, const tile_args& t, int c0) {
    const int nc = std::min(8 * V, t.ncols - c0);
    const bool full = nc == 8 * V;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) m[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(nc - 8 * v), lane);
    float* out = t.out + c0;
    const float* res = t.res ? t.res + c0 : nullptr;
    if (t.last && res) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(res + r * t.ldo), _MM_HINT_T0);
    }
    if (!t.stream) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) __builtin_prefetch(out + r * t.ldo, 1, 3);
    }
    __m256 acc[R][V];
    if (t.accumulate) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) acc[r][v] = _mm256_maskload_ps(out + r * t.ldo + 8 * v, m[v]);
    } else {
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) {
            const __m256 bv = _mm256_loadu_ps(t.bias + c0 + 8 * v);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[r][v] = bv;
        }
    }
    for (int q = 0; q < ns; ++q) {
        const float* w = t.w + s[q].k0 * NR + c0;
        const float* a[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) a[r] = s[q].a[r];
        const i64 len = s[q].len;
        for (i64 k = 0; k < len; ++k, w += NR) {
            __m256 wv[V];
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) wv[v] = _mm256_load_ps(w + 8 * v);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const __m256 x = _mm256_broadcast_ss(a[r] + k);
#pragma GCC unroll 2
                for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(x, wv[v], acc[r][v]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) {
            __m256 y = acc[r][v];
            float* o = out + r * t.ldo + 8 * v;
            if (t.last) {
                if (res) y = _mm256_add_ps(y, _mm256_maskload_ps(res + r * t.ldo + 8 * v, m[v]));
                if (t.relu) y = _mm256_max_ps(y, zero);
            }
            if (!full)
                _mm256_maskstore_ps(o, m[v], y);
            else if (t.stream && t.last)
                _mm256_stream_ps(o, y);
            else
                _mm256_storeu_ps(o, y);
        }
    }
}

template <int R>
KATA_CPU_AVX2_TARGET void ukernel_avx2(const seg* s, int ns, const tile_args& t) {
    for (int c0 = 0; c0 < t.ncols; c0 += 16) {
        if (t.ncols - c0 <= 8)
            ukernel_avx2_slice<R, 1>(s, ns, t, c0);
        else
            ukernel_avx2_slice<R, 2>(s, ns, t, c0);
    }
}
#endif

// Tests: run the portable micro-kernel even on AVX-512 machines (= simd::force_generic).
inline void force_generic(bool on) { simd::force_generic(on); }

// The micro-kernel variant for this CPU (kata/cpu/simd.hpp), read once per forward.
enum class isa { generic, avx2, avx512 };
inline isa current_isa() {
    return simd::use_avx512() ? isa::avx512 : simd::use_avx2() ? isa::avx2 : isa::generic;
}

// Runs the micro-kernel for R (1..MR) pixels.
inline void run_ukernel(isa v, int R, const seg* s, int ns, const tile_args& t) {
#if KATA_CPU_X86
    if (v == isa::avx512) {
        switch (R) {
        case 1: return ukernel_avx512_r<1>(s, ns, t);
        case 2: return ukernel_avx512_r<2>(s, ns, t);
        case 3: return ukernel_avx512_r<3>(s, ns, t);
        case 4: return ukernel_avx512_r<4>(s, ns, t);
        case 5: return ukernel_avx512_r<5>(s, ns, t);
        default: return ukernel_avx512_r<MR>(s, ns, t);
        }
    }
    if (v == isa::avx2) {
        switch (R) {
        case 1: return ukernel_avx2<1>(s, ns, t);
        case 2: return ukernel_avx2<2>(s, ns, t);
        case 3: return ukernel_avx2<3>(s, ns, t);
        case 4: return ukernel_avx2<4>(s, ns, t);
        case 5: return ukernel_avx2<5>(s, ns, t);
        default: return ukernel_avx2<MR>(s, ns, t);
        }
    }
#endif
    (void)v;
    ukernel_generic(R, s, ns, t);
}
static_assert(MR == 6, "run_ukernel dispatches R = 1..6");

// Appends the run (tap t, channels [c0, c1)) for R pixels; merges it into the previous run when every
// pixel's input continues the previous run's (full channel range, no padding). Skips a tap that is
// padding for every pixel.
inline void add_tap(const params& p, const float* x, const float* zero, int R, const i64* base, const i64* i0,
                    const i64* i1, const i64* i2, i64 t, i64 c0, i64 c1, seg* s, int& ns) {
    const i64 t2 = t % p.k[2], t1 = (t / p.k[2]) % p.k[1], t0 = t / (p.k[2] * p.k[1]);
    const float* a[MR];
    bool any = false, all = true;
    for (int r = 0; r < R; ++r) {
        const i64 d = i0[r] + t0 * p.dil[0], h = i1[r] + t1 * p.dil[1], w = i2[r] + t2 * p.dil[2];
        if (d < 0 || d >= p.in[0] || h < 0 || h >= p.in[1] || w < 0 || w >= p.in[2]) {
            a[r] = zero;
            all = false;
        } else {
            a[r] = x + (base[r] + (d * p.in[1] + h) * p.in[2] + w) * p.C + c0;
            any = true;
        }
    }
    if (!any) return;
    const bool full_c = c0 == 0 && c1 == p.C;
    const i64 k0 = t * p.C + c0;
    if (ns > 0 && full_c && all && s[ns - 1].full && s[ns - 1].k0 + s[ns - 1].len == k0) {
        bool contiguous = true;
        for (int r = 0; r < R; ++r) contiguous = contiguous && a[r] == s[ns - 1].a[r] + s[ns - 1].len;
        if (contiguous) {
            s[ns - 1].len += p.C;
            return;
        }
    }
    seg& g = s[ns++];
    g.k0 = k0;
    g.len = c1 - c0;
    g.full = full_c && all;
    for (int r = 0; r < R; ++r) g.a[r] = a[r];
}

// Builds the reduction runs of chunk `ch` for the R pixels starting at m0. Returns the count.
inline int build_segs(const params& p, const float* x, const float* zero, i64 m0, int R, i64 ch, seg* s) {
    int ns = 0;
    if (p.taps == 1 && p.in_sp == p.out_sp && p.pad[0] + p.pad[1] + p.pad[2] == 0 &&
        p.stride[0] * p.stride[1] * p.stride[2] == 1) {
        // Pointwise: pixel m reads row m of x.
        const i64 piece = (p.C + p.cpt - 1) / p.cpt;
        const i64 c0 = ch * piece, c1 = std::min(p.C, c0 + piece);
        seg& g = s[ns++];
        g.k0 = c0;
        g.len = c1 - c0;
        g.full = false;
        for (int r = 0; r < R; ++r) g.a[r] = x + (m0 + r) * p.C + c0;
        return ns;
    }
    i64 base[MR], i0[MR], i1[MR], i2[MR];
    {
        // Coordinates of pixel m0 by division, then stepped (no division per pixel).
        i64 b = m0 / p.out_sp, q = m0 % p.out_sp;
        i64 o2 = q % p.out[2], o1 = (q / p.out[2]) % p.out[1], o0 = q / (p.out[2] * p.out[1]);
        for (int r = 0; r < R; ++r) {
            base[r] = b * p.in_sp;
            i0[r] = o0 * p.stride[0] - p.pad[0];
            i1[r] = o1 * p.stride[1] - p.pad[1];
            i2[r] = o2 * p.stride[2] - p.pad[2];
            if (++o2 == p.out[2]) {
                o2 = 0;
                if (++o1 == p.out[1]) {
                    o1 = 0;
                    if (++o0 == p.out[0]) {
                        o0 = 0;
                        ++b;
                    }
                }
            }
        }
    }
    if (p.cpt > 1) {  // one tap, a piece of the channels
        const i64 t = ch / p.cpt;
        const i64 piece = (p.C + p.cpt - 1) / p.cpt;
        const i64 c0 = (ch % p.cpt) * piece, c1 = std::min(p.C, c0 + piece);
        add_tap(p, x, zero, R, base, i0, i1, i2, t, c0, c1, s, ns);
        return ns;
    }
    const i64 tb = ch * p.tpc, te = std::min(p.taps, tb + p.tpc);
    const i64 kw = p.k[2];
    i64 t = tb;
    while (t < te) {
        // The taps of one kernel row (fixed kd, kh) inside the chunk: [t, row_end).
        const i64 row_end = std::min(te, (t / kw + 1) * kw);
        if (p.dil[2] == 1 && row_end - t > 1) {
            // Fast case: every pixel reads the whole kw run inside the image -> one contiguous run.
            const i64 q = t / kw;
            const i64 t1 = q % p.k[1], t0 = q / p.k[1];
            const i64 wa = t % kw, wb = wa + (row_end - t);
            bool inside = true;
            for (int r = 0; r < R && inside; ++r) {
                const i64 d = i0[r] + t0 * p.dil[0], h = i1[r] + t1 * p.dil[1];
                inside = d >= 0 && d < p.in[0] && h >= 0 && h < p.in[1] && i2[r] + wa >= 0 &&
                         i2[r] + wb <= p.in[2];
            }
            if (inside) {
                seg& g = s[ns++];
                g.k0 = t * p.C;
                g.len = (row_end - t) * p.C;
                g.full = false;  // runs of different kernel rows are not contiguous in general
                for (int r = 0; r < R; ++r) {
                    const i64 d = i0[r] + t0 * p.dil[0], h = i1[r] + t1 * p.dil[1];
                    g.a[r] = x + (base[r] + (d * p.in[1] + h) * p.in[2] + i2[r] + wa) * p.C;
                }
                t = row_end;
                continue;
            }
        }
        for (; t < row_end; ++t) add_tap(p, x, zero, R, base, i0, i1, i2, t, 0, p.C, s, ns);
    }
    return ns;
}

#if KATA_CPU_X86
// ---- rows kernel (params::rows): one input channel, vectors along the output row ---------------------
// V vectors of 8 consecutive output pixels x OC output channels (acc: V * OC <= 12 ymm), input row loaded
// unaligned per tap, the weight of (tap, channel) broadcast from the packed block (row tap, column o).
// The accumulators (channel-major) are stored to a small buffer and written pixel-major (NHWC) with the
// epilogue; pixels before `from` are not written (the last, overlapping vector of a row).
template <int V, int OC>
KATA_CPU_AVX2_TARGET void rows_ukernel(const params& p, const float* xrow, const float* w, const float* bias,
                                       const float* res, bool relu, float* y, int from) {
    __m256 acc[V][OC];
#pragma GCC unroll 8
    for (int o = 0; o < OC; ++o) {
        const __m256 b = _mm256_set1_ps(bias[o]);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) acc[v][o] = b;
    }
    const i64 tap_rows = p.k[0] * p.k[1];
    for (i64 tr = 0; tr < tap_rows; ++tr) {
        const i64 t0 = tr / p.k[1], t1 = tr % p.k[1];
        const float* xr = xrow + (t0 * p.in[1] + t1) * p.in[2];
        const float* wr = w + tr * p.k[2] * NR;
        for (i64 t2 = 0; t2 < p.k[2]; ++t2, wr += NR) {
            __m256 xv[V];
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) xv[v] = _mm256_loadu_ps(xr + t2 + 8 * v);
#pragma GCC unroll 8
            for (int o = 0; o < OC; ++o) {
                const __m256 wb = _mm256_broadcast_ss(wr + o);
#pragma GCC unroll 2
                for (int v = 0; v < V; ++v) acc[v][o] = _mm256_fmadd_ps(xv[v], wb, acc[v][o]);
            }
        }
    }
    alignas(32) float buf[OC][8 * V];
#pragma GCC unroll 8
    for (int o = 0; o < OC; ++o)
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) _mm256_store_ps(&buf[o][8 * v], acc[v][o]);
    for (int px = from; px < 8 * V; ++px) {
        float* yo = y + px * p.O;
        const float* ro = res ? res + px * p.O : nullptr;
#pragma GCC unroll 8
        for (int o = 0; o < OC; ++o) {
            float v = buf[o][px];
            if (ro) v += ro[o];
            if (relu) v = v > 0.f ? v : 0.f;
            yo[o] = v;
        }
    }
}

template <int V>
KATA_CPU_AVX2_TARGET void rows_ukernel_oc(int oc, const params& p, const float* xrow, const float* w,
                                          const float* bias, const float* res, bool relu, float* y,
                                          int from) {
    switch (oc) {
    case 1: return rows_ukernel<V, 1>(p, xrow, w, bias, res, relu, y, from);
    case 2: return rows_ukernel<V, 2>(p, xrow, w, bias, res, relu, y, from);
    case 3: return rows_ukernel<V, 3>(p, xrow, w, bias, res, relu, y, from);
    case 4: return rows_ukernel<V, 4>(p, xrow, w, bias, res, relu, y, from);
    case 5: return rows_ukernel<V, 5>(p, xrow, w, bias, res, relu, y, from);
    default: return rows_ukernel<V, 6>(p, xrow, w, bias, res, relu, y, from);
    }
}

// The forward of a params::rows layer (pad 0 here: forward() pads the input first), threaded over output
// rows. Each row: vectors of 16, then 8 pixels; a last remainder of < 8 pixels recomputes the row's last
// 8 and writes only the new ones. Output channels in passes of <= 6.
KATA_CPU_AVX2_TARGET inline void rows_forward(const params& p, const float* x, const float* packed,
                                              const float* res, bool relu, float* y) {
    const float* bias = packed;
    const float* pw = packed + p.nb * NR;
    const i64 W = p.out[2];
    parallel_for(
        p.B * p.out[0] * p.out[1],
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 b = r / (p.out[0] * p.out[1]), o0 = (r / p.out[1]) % p.out[0], o1 = r % p.out[1];
                const float* xrow =
                    x + b * p.in_sp + (o0 * p.stride[0] * p.in[1] + o1 * p.stride[1]) * p.in[2];
                float* yrow = y + r * W * p.O;
                const float* rrow = res ? res + r * W * p.O : nullptr;
                for (int c0 = 0; c0 < p.O; c0 += 6) {
                    const int oc = int(std::min<i64>(6, p.O - c0));
                    i64 w0 = 0;
                    for (; w0 + 16 <= W; w0 += 16)
                        rows_ukernel_oc<2>(oc, p, xrow + w0, pw + c0, bias + c0,
                                           rrow ? rrow + w0 * p.O + c0 : nullptr, relu, yrow + w0 * p.O + c0,
                                           0);
                    for (; w0 < W; w0 += 8) {
                        const i64 s0 = std::min(w0, W - 8);  // W >= 8 (params::rows)
                        rows_ukernel_oc<1>(oc, p, xrow + s0, pw + c0, bias + c0,
                                           rrow ? rrow + s0 * p.O + c0 : nullptr, relu, yrow + s0 * p.O + c0,
                                           int(w0 - s0));
                    }
                }
            }
        },
        1);
}
#endif

// The forward on x as given (p.pad may be > 0; padding taps read a zero vector). `zero` holds
// zero_floats(p) floats (zeroed here).
//
// Work order: when the weights are the smaller operand and fit in L2 (early layers, large batches),
// a unit is a group of pixel tiles; each tile's reduction runs are built once and used for every
// channel block (the tile's input rows stay in L1, the small weight panels in L2). Otherwise a unit
// is (channel block, pixel range), so each weight panel is fetched once and reused by every pixel
// tile of the unit. Units are claimed dynamically by the pool's threads.
inline void forward_unpadded(const params& p, const float* x, const float* packed, const float* res,
                             bool relu, float* y, float* zero) {
    std::memset(zero, 0, sizeof(float) * std::size_t(zero_floats(p)));
    const isa avx = current_isa();
#if KATA_CPU_X86
    if (p.rows && avx != isa::generic) return rows_forward(p, x, packed, res, relu, y);
#endif
    const i64 tiles = (p.M + MR - 1) / MR;
    const i64 nt = i64(num_threads());
    const float* bias = packed;
    const float* pw = packed + p.nb * NR;
    // Pixel-major when the weights are the smaller operand and fit in L2 with room to spare.
    const bool pixel_major =
        p.nb > 1 && p.K * p.O < p.M * p.C && p.K * p.O * i64(sizeof(float)) <= (i64(512) << 10);
    // Outputs larger than 4 MiB (twice the two cores' L2) leave the caches before the next layer reads
    // them: write them with non-temporal stores (no read-for-ownership), when rows are 64-byte aligned.
    const bool stream = p.M * p.O * i64(sizeof(float)) > (i64(4) << 20) && p.O % 16 == 0 &&
                        reinterpret_cast<std::uintptr_t>(y) % 64 == 0;
    i64 mg, units;
    if (pixel_major) {
        // Pixel groups of ~64 KiB of input channels (at least one tile), at least 4 per thread.
        const i64 tile_bytes = MR * std::min(p.K, KC) * i64(sizeof(float));
        mg = std::clamp<i64>(tiles / std::max<i64>(1, (i64(64) << 10) / tile_bytes), 4 * nt, tiles);
        units = mg;
    } else {
        mg = std::clamp<i64>((8 * nt + p.nb - 1) / p.nb, 1, tiles);
        units = p.nb * mg;
    }
    parallel_for(
        units,
        [&](i64 u0, i64 u1) {
            seg segs[max_segs];
            tile_args ta{};
            ta.ldo = p.O;
            ta.relu = relu;
            ta.stream = stream;
            auto set_block = [&](i64 b) {
                ta.ncols = int(std::min<i64>(NR, p.O - b * NR));
                ta.w = pw + b * p.K * NR;
                ta.bias = bias + b * NR;
            };
            auto run_tile = [&](i64 b, i64 tile, i64 ch, int ns) {
                const i64 m0 = tile * MR;
                const int R = int(std::min<i64>(MR, p.M - m0));
                ta.out = y + m0 * p.O + b * NR;
                ta.res = res ? res + m0 * p.O + b * NR : nullptr;
                ta.accumulate = ch > 0;
                ta.last = ch == p.nchunks - 1;
                run_ukernel(avx, R, segs, ns, ta);
            };
            for (i64 u = u0; u < u1; ++u) {
                if (pixel_major) {
                    // Each tile's runs are built once and used for every channel block.
                    const i64 tb = tiles * u / mg, te = tiles * (u + 1) / mg;
                    for (i64 tile = tb; tile < te; ++tile) {
                        const i64 m0 = tile * MR;
                        const int R = int(std::min<i64>(MR, p.M - m0));
                        for (i64 ch = 0; ch < p.nchunks; ++ch) {
                            const int ns = build_segs(p, x, zero, m0, R, ch, segs);
                            for (i64 b = 0; b < p.nb; ++b) {
                                set_block(b);
                                run_tile(b, tile, ch, ns);
                            }
                        }
                    }
                } else {
                    const i64 b = u / mg, g = u % mg;
                    set_block(b);
                    const i64 tb = tiles * g / mg, te = tiles * (g + 1) / mg;
                    for (i64 ch = 0; ch < p.nchunks; ++ch)
                        for (i64 tile = tb; tile < te; ++tile) {
                            const i64 m0 = tile * MR;
                            const int R = int(std::min<i64>(MR, p.M - m0));
                            run_tile(b, tile, ch, build_segs(p, x, zero, m0, R, ch, segs));
                        }
                }
            }
#if KATA_CPU_X86
            if (stream) _mm_sfence();  // this thread's non-temporal stores are visible before it reports done
#endif
        },
        1);
}

// Copies x into the zero-bordered layout of padded(p) at xp (threaded over padded rows).
inline void pad_input(const params& p, const float* x, float* xp) {
    const params q = padded(p);
    const i64 rows = p.B * q.in[0] * q.in[1];
    const i64 row = q.in[2] * p.C;
    parallel_for(
        rows,
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 b = r / (q.in[0] * q.in[1]), d = (r / q.in[1]) % q.in[0] - p.pad[0],
                          h = r % q.in[1] - p.pad[1];
                float* dst = xp + r * row;
                if (d < 0 || d >= p.in[0] || h < 0 || h >= p.in[1]) {
                    std::memset(dst, 0, sizeof(float) * std::size_t(row));
                    continue;
                }
                const i64 left = p.pad[2] * p.C, mid = p.in[2] * p.C;
                std::memset(dst, 0, sizeof(float) * std::size_t(left));
                std::memcpy(dst + left, x + ((b * p.in[0] + d) * p.in[1] + h) * mid,
                            sizeof(float) * std::size_t(mid));
                std::memset(dst + left + mid, 0, sizeof(float) * std::size_t(row - left - mid));
            }
        },
        64);
}

// The forward: y (M, O) = conv(x) + bias [+ res] [relu]. `packed` from pack(); `scratch` holds
// scratch_floats(p) floats.
inline void forward(const params& p, const float* x, const float* packed, const float* res, bool relu,
                    float* y, float* scratch) {
    if (p.prepad) {
        float* xp = scratch + zero_floats(p);
        pad_input(p, x, xp);
        forward_unpadded(padded(p), xp, packed, res, relu, y, scratch);
    } else {
        forward_unpadded(p, x, packed, res, relu, y, scratch);
    }
}

}  // namespace kata::cpu::detail
