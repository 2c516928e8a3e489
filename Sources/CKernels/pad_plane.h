// Copying an input plane into the layout of padded_planes.h, on the vector vocabulary
// (vector_avx512.h or vector_avx2.h, included first).
#ifndef MODNAS_PAD_PLANE_H
#define MODNAS_PAD_PLANE_H

#include "padded_planes.h"

/// Copies one plane x (max(x, 0) with `relu`) into its zero-padded copy (stride 1) or phases
/// (stride 2) at xp. Stride 2 splits each row's even and odd columns 2 · LANES at a time. Needs
/// the vector vocabulary (vector_avx512.h or vector_avx2.h).
static inline void pad_plane(const float *x, int height, int width, int relu, const PaddedLayout *l, float *xp) {
    const vfloat zero = v_zero();
    if (l->stride == 1) {
        const long lead = l->pad + l->pad * width, count = (long)height * width;
        memset(xp, 0, sizeof(float) * lead);
        memset(xp + lead + count, 0, sizeof(float) * (l->copy - lead - count));
        if (!relu) {
            memcpy(xp + lead, x, sizeof(float) * count);
            return;
        }
        for (long k = 0; k < count; k += LANES)
            v_store_first(xp + lead + k, count - k, v_max(v_load_masked(first_lanes(count - k), x + k), zero));
        return;
    }
    memset(xp, 0, sizeof(float) * l->copy);
    const long pad = l->pad;
    for (long i = 0; i < height; i++) {
        const long y = i + pad;   // padded row
        float *phase_row = xp + ((y % 2) * 2) * l->plane + (y / 2) * l->width;
        // Column j lands in phase (j + P) mod 2 at (j + P) / 2: the even columns in phase P mod 2.
        float *even_to = phase_row + (pad % 2) * l->plane + pad / 2, *odd_to = phase_row + (1 - pad % 2) * l->plane + (pad + 1) / 2;
        for (long j = 0; j < width; j += 2 * LANES) {
            vfloat a = v_load_masked(first_lanes(width - j), x + i * width + j);
            vfloat b = v_load_masked(first_lanes(width - j - LANES), x + i * width + j + LANES);
            if (relu) a = v_max(a, zero), b = v_max(b, zero);
            vfloat even, odd;
            v_deinterleave(a, b, &even, &odd);
            v_store_first(even_to + j / 2, (width - j + 1) / 2, even);
            v_store_first(odd_to + j / 2, (width - j) / 2, odd);
        }
    }
}

#endif
