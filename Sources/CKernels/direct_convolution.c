// The direct convolutions of direct_convolution.h.
//
// 3×3 (stride 1 or 2, padding 1): the input planes are copied in the layout of padded_planes.h;
// the loads of the left taps mask the lanes at j = 0, those of the right taps the lanes at
// j = w − 1 (they would read the neighbouring row).
// 1×1: the input planes are read as they are and the output written in place.
// A ReLU on the input (`relu_input`) is applied as the 3×3 input is copied, as the 1×1 input is loaded.
//
// A register block holds 8 output channels × up to 3 runs of 16 positions (24 accumulators);
// weights are packed as [block][input channel][tap][8] so that each tap's 8 broadcasts read half a
// cache line.
#include "direct_convolution.h"

#include "activate.h"
#include "lanes.h"
#include "padded_planes.h"

#include <immintrin.h>

enum { BLOCK = 8 };

static long blocks_of(int out_channels) { return (out_channels + BLOCK - 1) / BLOCK; }

long modnas_direct_convolution_packed_count(int out_channels, int in_channels, int kernel) {
    return blocks_of(out_channels) * BLOCK * in_channels * kernel * kernel;
}

void modnas_direct_convolution_pack(const float *weight, int out_channels, int in_channels, int kernel, float *packed) {
    const long taps = (long)kernel * kernel;
    for (long b = 0; b < blocks_of(out_channels); b++)
        for (long c = 0; c < in_channels; c++)
            for (long t = 0; t < taps; t++)
                for (long j = 0; j < BLOCK; j++) {
                    long o = b * BLOCK + j;
                    packed[((b * in_channels + c) * taps + t) * BLOCK + j] =
                        o < out_channels ? weight[(o * in_channels + c) * taps + t] : 0.0f;
                }
}

long modnas_direct_convolution_scratch_count(int out_channels, int in_channels, int height, int width, int kernel, int stride) {
    if (kernel == 1) return 0;
    const PaddedLayout l = padded_layout(height, width, 3, stride);
    return in_channels * l.copy + (stride == 1 ? 0 : blocks_of(out_channels) * BLOCK * l.positions);
}

/// out[o][p] = bias[o] + Σ_c Σ_t packed weight (o, c, t) · in[c · channel_stride + offsets[t] + p]
/// (then `activation`) for p < positions and o < out_channels (rows of out `positions` apart), `runs` × 16 positions
/// at a time. With `edge_width` (3×3, stride 1), the left taps read nothing at
/// p mod edge_width = 0 and the right ones nothing at p mod edge_width = edge_width − 1. Inlined
/// with constant `taps` and `runs`, so that their loops unroll.
__attribute__((target("avx512f"), always_inline))
static inline void accumulate_runs(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                                   long edge_width, const float *packed, const float *bias, int out_channels, long positions,
                                   const int runs, const int relu_input, modnas_activation activation, float *out) {
    for (long b = 0; b < blocks_of(out_channels); b++) {
        const float *wb = packed + b * in_channels * taps * BLOCK;
        const long rows = out_channels - b * BLOCK < BLOCK ? out_channels - b * BLOCK : BLOCK;
        for (long p = 0; p < positions; p += 16 * runs) {
            __mmask16 mask[4], left[4], right[4];
            for (int r = 0; r < runs; r++) {
                mask[r] = left[r] = right[r] = first_lanes(positions - p - 16 * r);
                if (edge_width)
                    for (long lane = 0, j = (p + 16 * r) % edge_width; lane < 16; lane++, j = j + 1 == edge_width ? 0 : j + 1) {
                        if (j == 0) left[r] &= (__mmask16)~(1u << lane);
                        if (j == edge_width - 1) right[r] &= (__mmask16)~(1u << lane);
                    }
            }
            __m512 acc[BLOCK][4];
#pragma clang loop unroll(full)
            for (int j = 0; j < BLOCK; j++) {
                const long o = b * BLOCK + j;
                const __m512 start = _mm512_set1_ps(bias && o < out_channels ? bias[o] : 0.0f);
#pragma clang loop unroll(full)
                for (int r = 0; r < runs; r++) acc[j][r] = start;
            }
            for (long c = 0; c < in_channels; c++) {
                const float *xc = in + c * channel_stride + p, *wc = wb + c * taps * BLOCK;
#pragma clang loop unroll(full)
                for (int t = 0; t < taps; t++) {
                    __m512 v[4];
#pragma clang loop unroll(full)
                    for (int r = 0; r < runs; r++) {
                        const __mmask16 m = taps == 1 ? mask[r] : t % 3 == 0 ? left[r] : t % 3 == 2 ? right[r] : mask[r];
                        v[r] = _mm512_maskz_loadu_ps(m, xc + offsets[t] + 16 * r);
                        if (relu_input) v[r] = _mm512_max_ps(v[r], _mm512_setzero_ps());
                    }
#pragma clang loop unroll(full)
                    for (int j = 0; j < BLOCK; j++) {
                        const __m512 w = _mm512_set1_ps(wc[t * BLOCK + j]);
#pragma clang loop unroll(full)
                        for (int r = 0; r < runs; r++) acc[j][r] = _mm512_fmadd_ps(w, v[r], acc[j][r]);
                    }
                }
            }
            for (long j = 0; j < rows; j++)
#pragma clang loop unroll(full)
                for (int r = 0; r < runs; r++) _mm512_mask_storeu_ps(out + (b * BLOCK + j) * positions + p + 16 * r, mask[r], activate(acc[j][r], activation));
        }
    }
}

/// The runs per block that cost least for `positions`: with 2 or 3 runs a block is bound by its
/// FMAs, with 1 by its 9 loads per 8 FMAs on a core that retires two 512-bit FMAs but two loads per
/// cycle (Intel's AVX-512 cores); masked lanes past the last position cost as much as used ones.
/// AMD's Zen 4 retires one 512-bit FMA per cycle (on two 256-bit pipes) and up to three loads, so
/// a single run is not load-bound there and, wasting the fewest lanes, is always cheapest
/// (measured: at least as fast as 2 or 3 runs on every NB201 and OFA shape, up to 1.25× on stride 2).
static int cheapest_runs(long positions) {
    __builtin_cpu_init();
    if (__builtin_cpu_is("amd")) return 1;
    int best = 1;
    double best_cost = 0;
    for (int runs = 1; runs <= 3; runs++) {
        const double computed = (double)((positions + 16 * runs - 1) / (16 * runs) * 16 * runs);
        const double cost = computed * (runs == 1 ? 9.0 / 8.0 : 1.0);
        if (runs == 1 || cost <= best_cost) { best = runs; best_cost = cost; }
    }
    return best;
}

/// accumulate_runs with the cheapest number of runs.
__attribute__((target("avx512f"), always_inline))
static inline void accumulate(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                              long edge_width, const float *packed, const float *bias, int out_channels, long positions,
                              const int relu_input, modnas_activation activation, float *out) {
    switch (cheapest_runs(positions)) {
    case 3: accumulate_runs(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, positions, 3, relu_input, activation, out); break;
    case 2: accumulate_runs(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, positions, 2, relu_input, activation, out); break;
    default: accumulate_runs(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, positions, 1, relu_input, activation, out);
    }
}

__attribute__((target("avx512f")))
void modnas_direct_convolution(const float *x, int in_channels, int height, int width, int kernel, int stride,
                               const float *packed, const float *bias, int out_channels,
                               int relu_input, modnas_activation activation, float *y, float *scratch) {
    if (kernel == 1) {
        const long zero = 0, positions = (long)height * width;
        if (relu_input) accumulate(x, positions, in_channels, &zero, 1, 0, packed, bias, out_channels, positions, 1, activation, y);
        else accumulate(x, positions, in_channels, &zero, 1, 0, packed, bias, out_channels, positions, 0, activation, y);
        return;
    }
    const PaddedLayout l = padded_layout(height, width, 3, stride);
    float *xp = scratch;
    for (long c = 0; c < in_channels; c++) pad_plane(x + c * height * width, height, width, relu_input, &l, xp + c * l.copy);
    long offsets[9];
    tap_offsets(&l, 3, offsets);
    if (stride == 1) {
        accumulate(xp, l.copy, in_channels, offsets, 9, width, packed, bias, out_channels, l.positions, 0, activation, y);
        return;
    }
    float *yp = scratch + in_channels * l.copy;
    accumulate(xp, l.copy, in_channels, offsets, 9, 0, packed, bias, out_channels, l.positions, 0, activation, yp);
    for (long o = 0; o < out_channels; o++) copy_out(yp + o * l.positions, &l, y + o * l.out_height * l.out_width);
}
