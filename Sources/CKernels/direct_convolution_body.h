// The direct convolutions of direct_convolution.h, written once on the vector vocabulary
// (vector_avx512.h, vector_avx2.h) and compiled once per instruction set (kernels_avx512.c,
// kernels_avx2.c); the packing and the sizes are the same for both (direct_convolution.c).
//
// 3×3 (stride 1 or 2, padding 1): the input planes are copied in the layout of padded_planes.h;
// the loads of the left taps mask the lanes at j = 0, those of the right taps the lanes at
// j = w − 1 (they would read the neighbouring row).
// 1×1: the input planes are read as they are and the output written in place.
// A ReLU on the input (`relu_input`) is applied as the 3×3 input is copied, as the 1×1 input is loaded.
//
// A register block holds 8 output channels × up to 3 runs of LANES positions (24 accumulators);
// weights are packed as [block][input channel][tap][8] so that each tap's 8 broadcasts read half a
// cache line. Each output is bias + Σ_c Σ_t in the same order on every instruction set, so the
// AVX-512 and AVX2 results are the same bits.
#include "activate.h"
#include "direct_convolution_layout.h"
#include "pad_plane.h"

/// out[o][p] = bias[o] + Σ_c Σ_t packed weight (o, c, t) · in[c · channel_stride + offsets[t] + p]
/// (then `activation`) for p < positions and o < out_channels (rows of out `positions` apart), `runs` × LANES positions
/// at a time. With `edge_width` (3×3, stride 1), the left taps read nothing at
/// p mod edge_width = 0 and the right ones nothing at p mod edge_width = edge_width − 1. Inlined
/// with constant `taps` and `runs`, so that their loops unroll.
__attribute__((always_inline))
static inline void accumulate_runs(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                                   long edge_width, const float *packed, const float *bias, int out_channels, long positions,
                                   const int runs, const int relu_input, modnas_activation activation, float *out) {
    for (long b = 0; b < blocks_of(out_channels); b++) {
        const float *wb = packed + b * in_channels * taps * BLOCK;
        const long rows = out_channels - b * BLOCK < BLOCK ? out_channels - b * BLOCK : BLOCK;
        for (long p = 0; p < positions; p += LANES * runs) {
            vmask mask[4], left[4], right[4];
            for (int r = 0; r < runs; r++) {
                unsigned inside = first_lane_bits(positions - p - LANES * r), left_bits = inside, right_bits = inside;
                if (edge_width)
                    for (long lane = 0, j = (p + LANES * r) % edge_width; lane < LANES; lane++, j = j + 1 == edge_width ? 0 : j + 1) {
                        if (j == 0) left_bits &= ~(1u << lane);
                        if (j == edge_width - 1) right_bits &= ~(1u << lane);
                    }
                mask[r] = mask_of_bits(inside), left[r] = mask_of_bits(left_bits), right[r] = mask_of_bits(right_bits);
            }
            vfloat acc[BLOCK][4];
#pragma clang loop unroll(full)
            for (int j = 0; j < BLOCK; j++) {
                const long o = b * BLOCK + j;
                const vfloat start = v_set1(bias && o < out_channels ? bias[o] : 0.0f);
#pragma clang loop unroll(full)
                for (int r = 0; r < runs; r++) acc[j][r] = start;
            }
            for (long c = 0; c < in_channels; c++) {
                const float *xc = in + c * channel_stride + p, *wc = wb + c * taps * BLOCK;
#pragma clang loop unroll(full)
                for (int t = 0; t < taps; t++) {
                    vfloat v[4];
#pragma clang loop unroll(full)
                    for (int r = 0; r < runs; r++) {
                        const vmask m = taps == 1 ? mask[r] : t % 3 == 0 ? left[r] : t % 3 == 2 ? right[r] : mask[r];
                        v[r] = v_load_masked(m, xc + offsets[t] + LANES * r);
                        if (relu_input) v[r] = v_max(v[r], v_zero());
                    }
#pragma clang loop unroll(full)
                    for (int j = 0; j < BLOCK; j++) {
                        const vfloat w = v_set1(wc[t * BLOCK + j]);
#pragma clang loop unroll(full)
                        for (int r = 0; r < runs; r++) acc[j][r] = v_fmadd(w, v[r], acc[j][r]);
                    }
                }
            }
            for (long j = 0; j < rows; j++)
#pragma clang loop unroll(full)
                for (int r = 0; r < runs; r++) v_store_first(out + (b * BLOCK + j) * positions + p + LANES * r, positions - p - LANES * r, activate(acc[j][r], activation));
        }
    }
}

/// The runs per block that cost least for `positions`: with 2 or 3 runs a block is bound by its
/// FMAs, with 1 by its 9 loads per 8 FMAs on a core that retires two 512-bit FMAs but two loads per
/// cycle (Intel's AVX-512 cores); masked lanes past the last position cost as much as used ones.
/// AMD's Zen 4 retires one 512-bit FMA per cycle (on two 256-bit pipes) and up to three loads, so
/// a single run is not load-bound there and, wasting the fewest lanes, is always cheapest
/// (measured: at least as fast as 2 or 3 runs on every NB201 and OFA shape, up to 1.25× on stride 2).
/// With 16 vector registers (AVX2) a second run's 8 accumulators would not fit beside the first's.
static int cheapest_runs(long positions) {
    if (VECTOR_REGISTERS < 32) return 1;
    __builtin_cpu_init();
    if (__builtin_cpu_is("amd")) return 1;
    int best = 1;
    double best_cost = 0;
    for (int runs = 1; runs <= 3; runs++) {
        const double computed = (double)((positions + LANES * runs - 1) / (LANES * runs) * LANES * runs);
        const double cost = computed * (runs == 1 ? 9.0 / 8.0 : 1.0);
        if (runs == 1 || cost <= best_cost) { best = runs; best_cost = cost; }
    }
    return best;
}

/// accumulate_runs with the cheapest number of runs.
__attribute__((always_inline))
static inline void accumulate(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                              long edge_width, const float *packed, const float *bias, int out_channels, long positions,
                              const int relu_input, modnas_activation activation, float *out) {
    switch (cheapest_runs(positions)) {
    case 3: accumulate_runs(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, positions, 3, relu_input, activation, out); break;
    case 2: accumulate_runs(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, positions, 2, relu_input, activation, out); break;
    default: accumulate_runs(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, positions, 1, relu_input, activation, out);
    }
}

void ISA_NAME(modnas_direct_convolution)(const float *x, int in_channels, int height, int width, int kernel, int stride,
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
