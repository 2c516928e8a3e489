// The input layout of the direct convolutions (direct_convolution_body.h, depthwise_convolution_body.h): a
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
