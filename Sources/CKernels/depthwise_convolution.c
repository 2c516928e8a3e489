// The depthwise convolution of depthwise_convolution.h, one plane at a time in the layout of
// padded_planes.h (P = k / 2).
//
// k = 3, 5 or 7 on planes of at least BAND output rows: bands of BAND output rows × 1 or 2 runs of
// 16 columns. Tap (ki, kj) of output row i reads the same vector as tap (ki + s, kj) of row i − 1,
// so each vector loaded for a band feeds up to BAND accumulators: for k = 7 at stride 1, 10
// loads per kernel column instead of 28. The last band overlaps the one before it where the rows
// are not a multiple of BAND (its rows are computed twice, to the same values), and results are
// stored straight into the output rows.
// Other kernels and planes: runs of 16 consecutive positions of the layout, RUNS of them at once
// (independent FMA chains), one load per tap and run.
#include "depthwise_convolution.h"

#include "activate.h"
#include "lanes.h"
#include "padded_planes.h"

#include <immintrin.h>

enum { RUNS = 4, MAX_KERNEL = 15, BAND = 4, MAX_CHAIN = 7 };

/// Runs of 16 positions (rounded up to whole groups of RUNS).
static long runs_of(long positions) { return (positions + 16 * RUNS - 1) / (16 * RUNS) * RUNS; }

/// Runs of 16 columns across one output row.
static long column_runs(const PaddedLayout *l) { return (l->out_width + 15) / 16; }

/// Whether a plane is computed by bands (the kernels `band` is built for).
static int banded(const PaddedLayout *l, int kernel) { return (kernel == 3 || kernel == 5 || kernel == 7) && l->out_height >= BAND; }

long modnas_depthwise_convolution_scratch_count(int height, int width, int kernel, int stride) {
    const PaddedLayout l = padded_layout(height, width, kernel, stride);
    // The masks: one 16-bit mask per run and kernel column, in floats; the computed rows of stride 2
    // where the plane is not banded.
    if (banded(&l, kernel)) return l.copy + (column_runs(&l) * kernel + 1) / 2;
    return l.copy + (stride == 1 ? 0 : l.positions) + (runs_of(l.positions) * kernel + 1) / 2;
}

/// Output rows i0 ..< i0 + BAND, columns q ..< q + 16 · runs of one plane (k, s and runs constant,
/// so that every loop but the one over kernel columns unrolls). masks[r · k + kj]: the lanes of
/// run r that tap column kj reads; store[r]: the lanes of run r inside the row.
__attribute__((target("avx512f"), always_inline))
static inline void band(const float *xp, const PaddedLayout *l, const int k, const int s, const float *weight, float bias,
                        const __mmask16 *masks, const __mmask16 *store, long i0, long q, const int runs, modnas_activation activation,
                        float *y) {
    __m512 acc[BAND][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < BAND; r++)
#pragma clang loop unroll(full)
        for (int c = 0; c < runs; c++) acc[r][c] = _mm512_set1_ps(bias);
    for (long kj = 0; kj < k; kj++) {
#pragma clang loop unroll(full)
        for (int a = 0; a < s; a++) {
            // The taps ki = a, a + s, …: tap n of output row i0 + r reads input row m = n + r.
            const int chain = (k - a + s - 1) / s;
            __m512 w[MAX_CHAIN];
#pragma clang loop unroll(full)
            for (int n = 0; n < chain; n++) w[n] = _mm512_set1_ps(weight[(a + s * n) * k + kj]);
            const float *from = xp + (a * s + kj % s) * l->plane + kj / s + q + i0 * l->width;
#pragma clang loop unroll(full)
            for (int m = 0; m < BAND + chain - 1; m++) {
                __m512 v[2];
#pragma clang loop unroll(full)
                for (int c = 0; c < runs; c++) v[c] = _mm512_maskz_loadu_ps(masks[c * k + kj], from + m * l->width + 16 * c);
#pragma clang loop unroll(full)
                for (int r = 0; r < BAND; r++)
                    if (m - r >= 0 && m - r < chain)
#pragma clang loop unroll(full)
                        for (int c = 0; c < runs; c++) acc[r][c] = _mm512_fmadd_ps(w[m - r], v[c], acc[r][c]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < BAND; r++)
#pragma clang loop unroll(full)
        for (int c = 0; c < runs; c++) _mm512_mask_storeu_ps(y + (i0 + r) * l->out_width + q + 16 * c, store[c], activate(acc[r][c], activation));
}

/// One plane by bands (k and s constant).
__attribute__((target("avx512f"), always_inline))
static inline void banded_plane(const float *xp, const PaddedLayout *l, const int k, const int s, const float *weight, float bias,
                                const __mmask16 *masks, modnas_activation activation, float *y) {
    const long runs = column_runs(l);
    for (long i = 0;; i += BAND) {
        const long i0 = i + BAND <= l->out_height ? i : l->out_height - BAND;
        for (long run = 0; run < runs; run += 2) {
            const __mmask16 store[2] = {first_lanes(l->out_width - 16 * run), first_lanes(l->out_width - 16 * run - 16)};
            if (run + 1 < runs) band(xp, l, k, s, weight, bias, masks + run * k, store, i0, 16 * run, 2, activation, y);
            else band(xp, l, k, s, weight, bias, masks + run * k, store, i0, 16 * run, 1, activation, y);
        }
        if (i0 + BAND >= l->out_height) return;
    }
}

/// The general path for one plane: consecutive positions of the layout, RUNS runs at a time.
/// masks[run · k + kj] as in `band`, over the positions; `computed` holds stride 2's rows of
/// l->width before they are cut to the output width.
__attribute__((target("avx512f")))
static void runs_plane(const float *xp, const PaddedLayout *l, int kernel, const long *offsets, const float *weight, float bias,
                       const __mmask16 *masks, modnas_activation activation, float *computed, float *y) {
    const long taps = (long)kernel * kernel, positions = l->positions;
    float *out = l->stride == 1 ? y : computed;
    for (long p = 0; p < positions; p += 16 * RUNS) {
        const __mmask16 *m = masks + (p / 16) * kernel;
        __m512 acc[RUNS];
        for (int r = 0; r < RUNS; r++) acc[r] = _mm512_set1_ps(bias);
        for (long t = 0; t < taps; t++) {
            const __m512 w = _mm512_set1_ps(weight[t]);
            const float *at = xp + offsets[t] + p;
            const long kj = t % kernel;
#pragma clang loop unroll(full)
            for (int r = 0; r < RUNS; r++)
                acc[r] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m[r * kernel + kj], at + 16 * r), acc[r]);
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < RUNS; r++) _mm512_mask_storeu_ps(out + p + 16 * r, first_lanes(positions - p - 16 * r), activate(acc[r], activation));
    }
    if (l->stride == 2) copy_out(computed, l, y);
}

/// masks[run · kernel + kj] for `runs` runs of 16 from position 0 over rows `row_width` apart: the
/// lanes before position `count` and, at stride 1, whose input column for tap column kj is inside
/// the row.
static void tap_masks(const PaddedLayout *l, int kernel, int width, long runs, long row_width, long count, __mmask16 *masks) {
    for (long run = 0; run < runs; run++)
        for (long kj = 0; kj < kernel; kj++) {
            __mmask16 m = 0;
            for (long lane = 0; lane < 16; lane++) {
                const long p = 16 * run + lane, in = p % row_width + kj - l->pad;
                if (p < count && (l->stride == 2 || (in >= 0 && in < width))) m |= (__mmask16)(1u << lane);
            }
            masks[run * kernel + kj] = m;
        }
}

__attribute__((target("avx512f")))
void modnas_depthwise_convolution(const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, modnas_activation activation, float *y, float *scratch) {
    const PaddedLayout l = padded_layout(height, width, kernel, stride);
    const long taps = (long)kernel * kernel, out_plane = l.out_height * l.out_width;
    const int by_bands = banded(&l, kernel);
    float *xp = scratch, *computed = scratch + l.copy;
    __mmask16 *masks = (__mmask16 *)(computed + (by_bands || stride == 1 ? 0 : l.positions));
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
