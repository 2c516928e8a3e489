// The depthwise convolution of depthwise_convolution.h, one plane at a time, in the layouts of
// direct_convolution.c with P = k / 2 rows and columns of padding:
// stride 1: the plane is copied between P zero rows above and P below (and P zero floats before
// and after); output position p = i·w + j reads index p + ki·w + kj for tap (ki, kj), the lanes
// whose column j + kj − P falls outside the row masked; the output is written in place.
// stride 2: the zero-padded plane is split into its four phases of width ⌈(w + 2P) / 2⌉; tap
// (ki, kj) of output (i, j) is element (i + ki / 2, j + kj / 2) of phase (ki mod 2, kj mod 2); the
// columns past the output width are computed and dropped when the output is copied out.
// Four runs of 16 positions accumulate at once (independent FMA chains).
#include "depthwise_convolution.h"

#include <immintrin.h>
#include <string.h>

enum { RUNS = 4, MAX_KERNEL = 15 };

typedef struct {
    long pad, stride, width, rows, plane, out_height, out_width;
} Layout;

static Layout layout_of(int height, int width, int kernel, int stride) {
    Layout l;
    l.pad = kernel / 2;
    l.stride = stride;
    l.width = stride == 1 ? width : (width + 2 * l.pad + 1) / 2;
    l.rows = stride == 1 ? height + 2 * l.pad : (height + 2 * l.pad + 1) / 2;
    // Stride 1 reads from P floats before the plane to P − 1 after it: 2P floats of guard; the
    // phases of stride 2 up to P − 1 past their rows × width. Rounded up to whole 64-byte lines.
    l.plane = (l.rows * l.width + 2 * l.pad + 15) / 16 * 16;
    l.out_height = (height - 1) / stride + 1;
    l.out_width = (width - 1) / stride + 1;
    return l;
}

/// Runs of 16 positions (rounded up to whole groups of RUNS).
static long runs_of(long positions) { return (positions + 16 * RUNS - 1) / (16 * RUNS) * RUNS; }

long modnas_depthwise_convolution_scratch_count(int height, int width, int kernel, int stride) {
    Layout l = layout_of(height, width, kernel, stride);
    const long positions = stride == 1 ? (long)height * width : l.out_height * l.width;
    // The masks: one 16-bit mask per run and kernel column, in floats.
    const long masks = (runs_of(positions) * kernel + 1) / 2;
    return l.plane * stride * stride + (stride == 1 ? 0 : l.out_height * l.width) + masks;
}

/// Lanes [0, n) of a 16-lane mask (n clamped to 0…16).
static __mmask16 first_lanes(long n) {
    if (n <= 0) return 0;
    if (n >= 16) return 0xFFFF;
    return (__mmask16)((1u << n) - 1);
}

/// Copies one plane into its zero-padded copy (stride 1) or phases (stride 2).
static void pad(const float *x, int height, int width, const Layout *l, float *xp) {
    memset(xp, 0, sizeof(float) * l->plane * l->stride * l->stride);
    if (l->stride == 1) {
        memcpy(xp + l->pad + l->pad * width, x, sizeof(float) * height * width);
        return;
    }
    for (long i = 0; i < height; i++) {
        const long y = i + l->pad;   // padded row
        float *phase_row = xp + ((y % 2) * 2) * l->plane + (y / 2) * l->width;
        for (long j = 0; j < width; j++) {
            const long c = j + l->pad;   // padded column
            phase_row[(c % 2) * l->plane + c / 2] = x[i * width + j];
        }
    }
}

__attribute__((target("avx512f")))
void modnas_depthwise_convolution(const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, float *y, float *scratch) {
    const Layout l = layout_of(height, width, kernel, stride);
    const long taps = (long)kernel * kernel;
    const long positions = stride == 1 ? (long)height * width : l.out_height * l.width;
    long offsets[MAX_KERNEL * MAX_KERNEL];
    for (long t = 0; t < taps; t++) {
        const long ki = t / kernel, kj = t % kernel;
        offsets[t] = ((ki % stride) * stride + kj % stride) * l.plane + (ki / stride) * l.width + kj / stride;
    }
    float *xp = scratch, *yp = scratch + l.plane * stride * stride;
    // masks[run · kernel + kj]: the lanes of a run that tap column kj reads (the same for every
    // plane): those inside the output, and at stride 1 those whose input column is in the row.
    __mmask16 *masks = (__mmask16 *)(yp + (stride == 1 ? 0 : l.out_height * l.width));
    for (long run = 0, column = 0; run < runs_of(positions); run++) {
        const __mmask16 tail = first_lanes(positions - 16 * run);
        for (long kj = 0; kj < kernel; kj++) masks[run * kernel + kj] = tail;
        for (long lane = 0; lane < 16; lane++, column = column + 1 == width ? 0 : column + 1)
            for (long kj = 0; kj < kernel && stride == 1; kj++) {
                const long in = column + kj - l.pad;
                if (in < 0 || in >= width) masks[run * kernel + kj] &= (__mmask16)~(1u << lane);
            }
    }
    for (long c = 0; c < channels; c++) {
        pad(x + c * height * width, height, width, &l, xp);
        const float *wc = weight + c * taps;
        float *out = stride == 1 ? y + c * positions : yp;
        for (long p = 0; p < positions; p += 16 * RUNS) {
            const __mmask16 *m = masks + (p / 16) * kernel;
            __m512 acc[RUNS];
            for (int r = 0; r < RUNS; r++) acc[r] = _mm512_set1_ps(bias ? bias[c] : 0.0f);
            for (long t = 0; t < taps; t++) {
                const __m512 w = _mm512_set1_ps(wc[t]);
                const float *at = xp + offsets[t] + p;
                const long kj = t % kernel;
#pragma clang loop unroll(full)
                for (int r = 0; r < RUNS; r++)
                    acc[r] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m[r * kernel + kj], at + 16 * r), acc[r]);
            }
#pragma clang loop unroll(full)
            for (int r = 0; r < RUNS; r++) _mm512_mask_storeu_ps(out + p + 16 * r, first_lanes(positions - p - 16 * r), acc[r]);
        }
        if (stride == 2)
            for (long i = 0; i < l.out_height; i++)
                memcpy(y + (c * l.out_height + i) * l.out_width, yp + i * l.width, sizeof(float) * l.out_width);
    }
}
