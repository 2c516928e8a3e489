// The depthwise convolution of depthwise_convolution.h, one plane at a time in the layout of
// padded_planes.h (P = k / 2), written once on the vector vocabulary (vector_avx512.h,
// vector_avx2.h) and compiled once per instruction set (kernels_avx512.c, kernels_avx2.c).
//
// k = 3, 5 or 7 on planes of at least BAND output rows: bands of BAND output rows × 1 or 2 runs of
// LANES columns. Tap (ki, kj) of output row i reads the same vector as tap (ki + s, kj) of row i − 1,
// so each vector loaded for a band feeds up to BAND accumulators: for k = 7 at stride 1, 10
// loads per kernel column instead of 28. The last band overlaps the one before it where the rows
// are not a multiple of BAND (its rows are computed twice, to the same values), and results are
// stored straight into the output rows.
// Other kernels and planes: runs of LANES consecutive positions of the layout, RUNS of them at once
// (independent FMA chains), one load per tap and run.
#include "activate.h"
#include "pad_plane.h"

#include <stdint.h>

enum { RUNS = 4, MAX_KERNEL = 15, BAND = 4, MAX_CHAIN = 7 };

/// Floats after a plane's copy that may be read (v_load_within reads whole vectors): up to RUNS
/// runs past the last position.
enum { GUARD = RUNS * LANES };

/// Runs of LANES positions (rounded up to whole groups of RUNS).
static long runs_of(long positions) { return (positions + LANES * RUNS - 1) / (LANES * RUNS) * RUNS; }

/// Runs of LANES columns across one output row.
static long column_runs(const PaddedLayout *l) { return (l->out_width + LANES - 1) / LANES; }

/// Whether a plane is computed by bands (the kernels `band` is built for).
static int banded(const PaddedLayout *l, int kernel) { return (kernel == 3 || kernel == 5 || kernel == 7) && l->out_height >= BAND; }

/// Floats of scratch that hold `count` masks, with room to align them to 64 bytes.
static long mask_floats(long count) { return (count * (long)sizeof(vmask) + (long)sizeof(float) - 1) / (long)sizeof(float) + 16; }

/// The first 64-byte boundary at or after `at`, where the masks go.
static vmask *aligned_masks(float *at) { return (vmask *)(((uintptr_t)at + 63) & ~(uintptr_t)63); }

long ISA_NAME(modnas_depthwise_convolution_scratch_count)(int height, int width, int kernel, int stride) {
    const PaddedLayout l = padded_layout(height, width, kernel, stride);
    // The masks: one per run and kernel column; the computed rows of stride 2 where the plane is
    // not banded.
    if (banded(&l, kernel)) return l.copy + GUARD + mask_floats(column_runs(&l) * kernel);
    return l.copy + GUARD + (stride == 1 ? 0 : l.positions) + mask_floats(runs_of(l.positions) * kernel);
}

/// Output rows i0 ..< i0 + BAND, columns q ..< q + LANES · runs of one plane (k, s and runs
/// constant, so that every loop but the one over kernel columns unrolls). masks[r · k + kj]: the
/// lanes of run r that tap column kj reads, unless `inside` (every lane of every tap inside the
/// row: plain loads); store[r]: how many lanes of run r are inside the row.
__attribute__((always_inline))
static inline void band(const float *xp, const PaddedLayout *l, const int k, const int s, const float *weight, float bias,
                        const vmask *masks, const long *store, long i0, long q, const int runs, const int inside,
                        modnas_activation activation, float *y) {
    vfloat acc[BAND][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < BAND; r++)
#pragma clang loop unroll(full)
        for (int c = 0; c < runs; c++) acc[r][c] = v_set1(bias);
    for (long kj = 0; kj < k; kj++) {
#pragma clang loop unroll(full)
        for (int a = 0; a < s; a++) {
            // The taps ki = a, a + s, …: tap n of output row i0 + r reads input row m = n + r.
            const int chain = (k - a + s - 1) / s;
            vfloat w[MAX_CHAIN];
#pragma clang loop unroll(full)
            for (int n = 0; n < chain; n++) w[n] = v_set1(weight[(a + s * n) * k + kj]);
            const float *from = xp + (a * s + kj % s) * l->plane + kj / s + q + i0 * l->width;
#pragma clang loop unroll(full)
            for (int m = 0; m < BAND + chain - 1; m++) {
                vfloat v[2];
#pragma clang loop unroll(full)
                for (int c = 0; c < runs; c++) {
                    const float *at = from + m * l->width + LANES * c;
                    v[c] = inside ? v_load(at) : v_load_within(masks[c * k + kj], at);
                }
#pragma clang loop unroll(full)
                for (int r = 0; r < BAND; r++)
                    if (m - r >= 0 && m - r < chain)
#pragma clang loop unroll(full)
                        for (int c = 0; c < runs; c++) acc[r][c] = v_fmadd(w[m - r], v[c], acc[r][c]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < BAND; r++)
#pragma clang loop unroll(full)
        for (int c = 0; c < runs; c++) v_store_first(y + (i0 + r) * l->out_width + q + LANES * c, store[c], activate(acc[r][c], activation));
}

/// Whether every tap of the run of LANES output columns from `first` reads inside its row, and the
/// run lies inside the output row (at stride 2 the phases hold the padding's zeros).
static int run_inside(const PaddedLayout *l, long first) {
    const long last = first + LANES - 1;
    return last < l->out_width && (l->stride == 2 || (first - l->pad >= 0 && last + l->pad < l->out_width));
}

/// One plane by bands (k and s constant).
__attribute__((always_inline))
static inline void banded_plane(const float *xp, const PaddedLayout *l, const int k, const int s, const float *weight, float bias,
                                const vmask *masks, modnas_activation activation, float *y) {
    const long runs = column_runs(l);
    for (long i = 0;; i += BAND) {
        const long i0 = i + BAND <= l->out_height ? i : l->out_height - BAND;
        for (long run = 0; run < runs; run += 2) {
            const long store[2] = {l->out_width - LANES * run, l->out_width - LANES * run - LANES};
            const long q = LANES * run;
            if (run + 1 < runs) {
                if (run_inside(l, q) && run_inside(l, q + LANES)) band(xp, l, k, s, weight, bias, masks + run * k, store, i0, q, 2, 1, activation, y);
                else band(xp, l, k, s, weight, bias, masks + run * k, store, i0, q, 2, 0, activation, y);
            } else band(xp, l, k, s, weight, bias, masks + run * k, store, i0, q, 1, 0, activation, y);
        }
        if (i0 + BAND >= l->out_height) return;
    }
}

/// The general path for one plane: consecutive positions of the layout, RUNS runs at a time.
/// masks[run · k + kj] as in `band`, over the positions; `computed` holds stride 2's rows of
/// l->width before they are cut to the output width.
static void runs_plane(const float *xp, const PaddedLayout *l, int kernel, const long *offsets, const float *weight, float bias,
                       const vmask *masks, modnas_activation activation, float *computed, float *y) {
    const long taps = (long)kernel * kernel, positions = l->positions;
    float *out = l->stride == 1 ? y : computed;
    for (long p = 0; p < positions; p += LANES * RUNS) {
        const vmask *m = masks + (p / LANES) * kernel;
        vfloat acc[RUNS];
        for (int r = 0; r < RUNS; r++) acc[r] = v_set1(bias);
        for (long t = 0; t < taps; t++) {
            const vfloat w = v_set1(weight[t]);
            const float *at = xp + offsets[t] + p;
            const long kj = t % kernel;
#pragma clang loop unroll(full)
            for (int r = 0; r < RUNS; r++)
                acc[r] = v_fmadd(w, v_load_within(m[r * kernel + kj], at + LANES * r), acc[r]);
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < RUNS; r++) v_store_first(out + p + LANES * r, positions - p - LANES * r, activate(acc[r], activation));
    }
    if (l->stride == 2) copy_out(computed, l, y);
}

/// masks[run · kernel + kj] for `runs` runs of LANES from position 0 over rows `row_width` apart:
/// the lanes before position `count` and, at stride 1, whose input column for tap column kj is
/// inside the row.
static void tap_masks(const PaddedLayout *l, int kernel, int width, long runs, long row_width, long count, vmask *masks) {
    for (long run = 0; run < runs; run++)
        for (long kj = 0; kj < kernel; kj++) {
            unsigned bits = 0;
            for (long lane = 0; lane < LANES; lane++) {
                const long p = LANES * run + lane, in = p % row_width + kj - l->pad;
                if (p < count && (l->stride == 2 || (in >= 0 && in < width))) bits |= 1u << lane;
            }
            masks[run * kernel + kj] = mask_of_bits(bits);
        }
}

void ISA_NAME(modnas_depthwise_convolution)(const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, modnas_activation activation, float *y, float *scratch) {
    const PaddedLayout l = padded_layout(height, width, kernel, stride);
    const long taps = (long)kernel * kernel, out_plane = l.out_height * l.out_width;
    const int by_bands = banded(&l, kernel);
    float *xp = scratch, *computed = scratch + l.copy + GUARD;
    vmask *masks = aligned_masks(computed + (by_bands || stride == 1 ? 0 : l.positions));
    // Bands: the runs across one output row. Otherwise all the positions, whose stride-2 rows of
    // l.width are computed whole (the columns past the output are dropped).
    if (by_bands) tap_masks(&l, kernel, width, column_runs(&l), l.out_width, l.out_width, masks);
    else tap_masks(&l, kernel, width, runs_of(l.positions), l.width, l.positions, masks);
    long offsets[MAX_KERNEL * MAX_KERNEL];
    tap_offsets(&l, kernel, offsets);
    for (long c = 0; c < channels; c++) {
        pad_plane(x + c * height * width, height, width, 0, &l, xp);
        const float *wc = weight + c * taps, b = bias ? bias[c] : 0.0f;
        float *yc = y + c * out_plane;
        if (!by_bands) { runs_plane(xp, &l, kernel, offsets, wc, b, masks, activation, computed, yc); continue; }
#define MODNAS_BANDED(k, s) if (kernel == k && stride == s) banded_plane(xp, &l, k, s, wc, b, masks, activation, yc)
        MODNAS_BANDED(3, 1); MODNAS_BANDED(5, 1); MODNAS_BANDED(7, 1);
        MODNAS_BANDED(3, 2); MODNAS_BANDED(5, 2); MODNAS_BANDED(7, 2);
#undef MODNAS_BANDED
    }
}
