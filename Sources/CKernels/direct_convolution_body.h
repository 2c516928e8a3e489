// The direct convolutions of direct_convolution.h, written once on the vector vocabulary
// (vector_avx512.h, vector_avx2.h) and compiled once per instruction set (kernels_avx512.c,
// kernels_avx2.c); the packing and the sizes are the same for both (direct_convolution.c).
//
// 3×3 (stride 1 or 2, padding 1): the input planes are copied in the layout of padded_planes.h;
// the loads of the left taps mask the lanes at j = 0, those of the right taps the lanes at
// j = w − 1 (they would read the neighbouring row).
// 1×1: the input planes are read as they are (or from a staggered copy, direct_convolution_layout.h)
// and the output written in place.
// A ReLU on the input (`relu_input`) is applied as the 3×3 input is copied, as the 1×1 input is loaded.
//
// A register block holds CHANNELS output channels × up to 3 runs of LANES positions; weights are
// packed as [block of 8][input channel][tap][8] so that each tap's broadcasts read at most half a
// cache line. Each output is bias + Σ_c Σ_t in the same order on every instruction set, so the
// AVX-512 and AVX2 results are the same bits.
#include "activate.h"
#include "direct_convolution_layout.h"
#include "pad_plane.h"

/// Output channels of a register block: all 8 of a packed block with 32 vector registers; with 16
/// (AVX2), half of it × 2 runs: 6 loads per 8 FMAs instead of 9 (4 × 3 runs, 12 accumulators,
/// spilled: slower).
enum { CHANNELS = VECTOR_REGISTERS < 32 ? BLOCK / 2 : BLOCK };

/// out[o][p ..< p + runs · LANES] = bias[o] + Σ_c Σ_t packed weight (o, c, t) · in[c · channel_stride + offsets[t] + p]
/// (then `activation`) for the CHANNELS output channels from j0 of block b (rows of out
/// `positions` apart). With `edge_width` (3×3, stride 1), the left taps read nothing at
/// p mod edge_width = 0 and the right ones nothing at p mod edge_width = edge_width − 1. Unless
/// `tail`, the runs hold no position past the last, so a 1×1 input or a middle tap is a plain
/// load. The 3×3 input is a padded copy with readable floats past every run, so its lanes are
/// masked by v_load_within; the 1×1 input is the caller's, read with v_load_masked in the tail.
/// Inlined with constant `taps`, `runs` and `tail`, so that their loops unroll.
__attribute__((always_inline))
static inline void accumulate_block(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                                    long edge_width, const float *packed, const float *bias, int out_channels, long positions,
                                    long b, long j0, long p, const int runs, const int tail, const int relu_input,
                                    modnas_activation activation, float *out) {
    const float *wb = packed + b * in_channels * taps * BLOCK + j0;
    // The masks per run of the left taps (column 0 of the kernel), the middle ones and the right ones.
    vmask masks[3][3];
    for (int r = 0; r < runs; r++) {
        unsigned inside = first_lane_bits(positions - p - LANES * r), left_bits = inside, right_bits = inside;
        if (edge_width)
            for (long lane = 0, j = (p + LANES * r) % edge_width; lane < LANES; lane++, j = j + 1 == edge_width ? 0 : j + 1) {
                if (j == 0) left_bits &= ~(1u << lane);
                if (j == edge_width - 1) right_bits &= ~(1u << lane);
            }
        masks[0][r] = mask_of_bits(left_bits), masks[1][r] = mask_of_bits(inside), masks[2][r] = mask_of_bits(right_bits);
    }
    vfloat acc[CHANNELS][3];
#pragma clang loop unroll(full)
    for (int j = 0; j < CHANNELS; j++) {
        const long o = b * BLOCK + j0 + j;
        const vfloat start = v_set1(bias && o < out_channels ? bias[o] : 0.0f);
#pragma clang loop unroll(full)
        for (int r = 0; r < runs; r++) acc[j][r] = start;
    }
    for (long c = 0; c < in_channels; c++) {
        const float *xc = in + c * channel_stride + p, *wc = wb + c * taps * BLOCK;
        // Kernel rows, and in each its columns (left, middle, right; one for 1×1). With 16
        // registers the rows are not unrolled: the compiler would hoist later rows' broadcasts and
        // spill accumulators.
        const int kernel = taps == 1 ? 1 : 3;
#pragma clang loop unroll_count(VECTOR_REGISTERS < 32 ? 1 : 3)
        for (int ki = 0; ki < kernel; ki++)
#pragma clang loop unroll(full)
            for (int kj = 0; kj < kernel; kj++) {
                const int t = ki * kernel + kj;
                vfloat v[3];
#pragma clang loop unroll(full)
                for (int r = 0; r < runs; r++) {
                    const float *at = xc + offsets[t] + LANES * r;
                    if (taps == 1) v[r] = tail ? v_load_masked(masks[1][r], at) : v_load(at);
                    else if (tail || kj != 1) v[r] = v_load_within(masks[kj][r], at);
                    else v[r] = v_load(at);
                    if (relu_input) v[r] = v_max(v[r], v_zero());
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < CHANNELS; j++) {
                    const vfloat w = v_set1(wc[t * BLOCK + j]);
#pragma clang loop unroll(full)
                    for (int r = 0; r < runs; r++) acc[j][r] = v_fmadd(w, v[r], acc[j][r]);
                }
            }
    }
    const long rows = out_channels - b * BLOCK - j0 < CHANNELS ? out_channels - b * BLOCK - j0 : CHANNELS;
    for (long j = 0; j < rows; j++)
#pragma clang loop unroll(full)
        for (int r = 0; r < runs; r++) {
            float *to = out + (b * BLOCK + j0 + j) * positions + p + LANES * r;
            if (tail) v_store_first(to, positions - p - LANES * r, activate(acc[j][r], activation));
            else v_store(to, activate(acc[j][r], activation));
        }
}

/// accumulate_block over every register block of output channels and every `runs` × LANES
/// positions (for p < positions), the last runs, where they pass the last position, as the tail.
/// Output blocks outermost, so that each output plane is written in order, unless the input is
/// larger than 256 KiB and has at least as many channels as the output: then positions outermost,
/// so that the input is read once from beyond L1 and not once per output block (OFA's projections,
/// 144 channels of 56 × 56 → 24: 6 % faster with AVX-512, 19 % with AVX2; an expansion, 16 → 64
/// channels of 112 × 112, was 10 % slower, writing 64 planes at once).
__attribute__((always_inline))
static inline void accumulate_runs(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                                   long edge_width, const float *packed, const float *bias, int out_channels, long positions,
                                   const int runs, const int relu_input, modnas_activation activation, float *out) {
    const long whole = positions / (LANES * runs) * (LANES * runs);
#define MODNAS_BLOCK(o, p, tail) accumulate_block(in, channel_stride, in_channels, offsets, taps, edge_width, packed, bias, out_channels, \
                                                  positions, (o) / BLOCK, (o) % BLOCK, p, runs, tail, relu_input, activation, out)
    if (in_channels >= out_channels && in_channels * channel_stride * (long)sizeof(float) > 256 * 1024) {
        for (long p = 0; p < whole; p += LANES * runs)
            for (long o = 0; o < out_channels; o += CHANNELS) MODNAS_BLOCK(o, p, 0);
        if (whole < positions)
            for (long o = 0; o < out_channels; o += CHANNELS) MODNAS_BLOCK(o, whole, 1);
        return;
    }
    for (long o = 0; o < out_channels; o += CHANNELS) {
        for (long p = 0; p < whole; p += LANES * runs) MODNAS_BLOCK(o, p, 0);
        if (whole < positions) MODNAS_BLOCK(o, whole, 1);
    }
#undef MODNAS_BLOCK
}

/// The runs per register block that cost least for `positions`, where masked lanes past the last
/// position cost as much as used ones. With 32 registers (AVX-512: 8 channels), 2 or 3 runs are
/// bound by their FMAs, 1 by its 9 loads per 8 FMAs on a core that retires two 512-bit FMAs but two
/// loads per cycle (Intel's AVX-512 cores). AMD's Zen 4 retires one 512-bit FMA per cycle (on two
/// 256-bit pipes) and up to three loads, so a single run is not load-bound there and, wasting the
/// fewest lanes, is always cheapest (measured: at least as fast as 2 or 3 runs on every NB201 and
/// OFA shape, up to 1.25× on stride 2). With 16 (AVX2: 4 channels), 2 runs.
static int cheapest_runs(long positions) {
    if (VECTOR_REGISTERS < 32) return 2;
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
        // The copy costs a pass over the input: with AVX-512 16 output channels lost less (6 %).
        const int copy = one_by_one_planes_alias(positions) && (LANES == 8 || out_channels > 16);
        const long stride = copy ? one_by_one_plane_stride(positions) : positions;
        const float *in = x;
        if (copy) {
            for (long c = 0; c < in_channels; c++) memcpy(scratch + c * stride, x + c * positions, sizeof(float) * positions);
            in = scratch;
        }
        if (relu_input) accumulate(in, stride, in_channels, &zero, 1, 0, packed, bias, out_channels, positions, 1, activation, y);
        else accumulate(in, stride, in_channels, &zero, 1, 0, packed, bias, out_channels, positions, 0, activation, y);
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
    float *yp = scratch + in_channels * l.copy + 48;
    accumulate(xp, l.copy, in_channels, offsets, 9, 0, packed, bias, out_channels, l.positions, 0, activation, yp);
    for (long o = 0; o < out_channels; o++) copy_out(yp + o * l.positions, &l, y + o * l.out_height * l.out_width);
}
