// The input layout of the direct convolutions (direct_convolution.c, depthwise_convolution.c): a
// k × k kernel with "same" padding P = k / 2, stride 1 or 2, one plane at a time.
//
// Stride 1: the plane is copied between P zero rows above and P below (and P zero floats before
// and after). Output position p = i·w + j reads index p + ki·w + kj for tap (ki, kj): every tap of
// a run of consecutive positions is one contiguous load, at any width; the kernels mask the lanes
// whose input column j + kj − P falls outside the row, and write the output in place.
// Stride 2: the zero-padded plane is split into its four phases (even or odd row, even or odd
// column) of width ⌈(w + 2P) / 2⌉; tap (ki, kj) of output (i, j) is element (i + ki / 2, j + kj / 2)
// of phase (ki mod 2, kj mod 2), again one contiguous load per run. The columns per row past the
// output width are computed and dropped when the output is copied out.
#ifndef MODNAS_PADDED_PLANES_H
#define MODNAS_PADDED_PLANES_H

#include "lanes.h"

#include <immintrin.h>
#include <string.h>

typedef struct {
    long pad, stride, width, rows, plane, out_height, out_width;
    /// Floats of one plane's copy: its stride² phases, `plane` floats apart.
    long copy;
    /// Output positions computed per plane: h·w at stride 1, out_height × width at stride 2.
    long positions;
} PaddedLayout;

static inline PaddedLayout padded_layout(int height, int width, int kernel, int stride) {
    PaddedLayout l;
    l.pad = kernel / 2;
    l.stride = stride;
    l.width = stride == 1 ? width : (width + 2 * l.pad + 1) / 2;
    l.rows = stride == 1 ? height + 2 * l.pad : (height + 2 * l.pad + 1) / 2;
    // Stride 1 reads from P floats before the plane to P − 1 after it: 2P floats of guard; the
    // phases of stride 2 up to P − 1 past their rows × width. Rounded up to whole 64-byte lines.
    l.plane = (l.rows * l.width + 2 * l.pad + 15) / 16 * 16;
    l.copy = l.plane * stride * stride;
    l.out_height = (height - 1) / stride + 1;
    l.out_width = (width - 1) / stride + 1;
    l.positions = stride == 1 ? (long)height * width : l.out_height * l.width;
    return l;
}

/// Copies one plane x (max(x, 0) with `relu`) into its zero-padded copy (stride 1) or phases
/// (stride 2) at xp. Stride 2 splits each row's even and odd columns 32 at a time.
__attribute__((target("avx512f")))
static inline void pad_plane(const float *x, int height, int width, int relu, const PaddedLayout *l, float *xp) {
    const __m512 zero = _mm512_setzero_ps();
    if (l->stride == 1) {
        const long lead = l->pad + l->pad * width, count = (long)height * width;
        memset(xp, 0, sizeof(float) * lead);
        memset(xp + lead + count, 0, sizeof(float) * (l->copy - lead - count));
        if (!relu) {
            memcpy(xp + lead, x, sizeof(float) * count);
            return;
        }
        for (long k = 0; k < count; k += 16) {
            const __mmask16 m = first_lanes(count - k);
            _mm512_mask_storeu_ps(xp + lead + k, m, _mm512_max_ps(_mm512_maskz_loadu_ps(m, x + k), zero));
        }
        return;
    }
    memset(xp, 0, sizeof(float) * l->copy);
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    const long pad = l->pad;
    for (long i = 0; i < height; i++) {
        const long y = i + pad;   // padded row
        float *phase_row = xp + ((y % 2) * 2) * l->plane + (y / 2) * l->width;
        // Column j lands in phase (j + P) mod 2 at (j + P) / 2: the even columns in phase P mod 2.
        float *even_to = phase_row + (pad % 2) * l->plane + pad / 2, *odd_to = phase_row + (1 - pad % 2) * l->plane + (pad + 1) / 2;
        for (long j = 0; j < width; j += 32) {
            __m512 a = _mm512_maskz_loadu_ps(first_lanes(width - j), x + i * width + j);
            __m512 b = _mm512_maskz_loadu_ps(first_lanes(width - j - 16), x + i * width + j + 16);
            if (relu) a = _mm512_max_ps(a, zero), b = _mm512_max_ps(b, zero);
            _mm512_mask_storeu_ps(even_to + j / 2, first_lanes((width - j + 1) / 2), _mm512_permutex2var_ps(a, evens, b));
            _mm512_mask_storeu_ps(odd_to + j / 2, first_lanes((width - j) / 2), _mm512_permutex2var_ps(a, odds, b));
        }
    }
}

/// offsets[ki · kernel + kj]: where tap (ki, kj) of position 0 reads in a plane's copy.
static inline void tap_offsets(const PaddedLayout *l, int kernel, long *offsets) {
    const long s = l->stride;
    for (long t = 0; t < (long)kernel * kernel; t++) {
        const long ki = t / kernel, kj = t % kernel;
        offsets[t] = ((ki % s) * s + kj % s) * l->plane + (ki / s) * l->width + kj / s;
    }
}

/// Stride 2: one plane's output, its computed rows of `width` cut to `out_width`.
static inline void copy_out(const float *computed, const PaddedLayout *l, float *y) {
    for (long i = 0; i < l->out_height; i++)
        memcpy(y + i * l->out_width, computed + i * l->width, sizeof(float) * l->out_width);
}

#endif
