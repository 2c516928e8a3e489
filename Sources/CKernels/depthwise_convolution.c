// The depthwise convolution of depthwise_convolution.h, one plane at a time in the layout of
// padded_planes.h (P = k / 2). Four runs of 16 positions accumulate at once (independent FMA
// chains).
#include "depthwise_convolution.h"

#include "lanes.h"
#include "padded_planes.h"

#include <immintrin.h>

enum { RUNS = 4, MAX_KERNEL = 15 };

/// Runs of 16 positions (rounded up to whole groups of RUNS).
static long runs_of(long positions) { return (positions + 16 * RUNS - 1) / (16 * RUNS) * RUNS; }

long modnas_depthwise_convolution_scratch_count(int height, int width, int kernel, int stride) {
    const PaddedLayout l = padded_layout(height, width, kernel, stride);
    // The masks: one 16-bit mask per run and kernel column, in floats.
    const long masks = (runs_of(l.positions) * kernel + 1) / 2;
    return l.copy + (stride == 1 ? 0 : l.positions) + masks;
}

__attribute__((target("avx512f")))
void modnas_depthwise_convolution(const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, float *y, float *scratch) {
    const PaddedLayout l = padded_layout(height, width, kernel, stride);
    const long taps = (long)kernel * kernel, positions = l.positions;
    long offsets[MAX_KERNEL * MAX_KERNEL];
    tap_offsets(&l, kernel, offsets);
    float *xp = scratch, *yp = scratch + l.copy;
    // masks[run · kernel + kj]: the lanes of a run that tap column kj reads (the same for every
    // plane): those inside the output, and at stride 1 those whose input column is in the row.
    __mmask16 *masks = (__mmask16 *)(yp + (stride == 1 ? 0 : positions));
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
        pad_plane(x + c * height * width, height, width, &l, xp);
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
        if (stride == 2) copy_out(yp, &l, y + c * l.out_height * l.out_width);
    }
}
