// The direct 3×3 convolution of direct_convolution.h.
//
// Stride 1: the input planes are copied into zero-padded planes of width w + 2. An output position
// (i, j) is then the flat index p = i·(w + 2) + j, and its tap (ki, kj) reads padded index
// p + ki·(w + 2) + kj: every tap of a run of consecutive positions is one contiguous load, at any
// width. Stride 2: the padded plane is split into its four phases (even or odd row, even or odd
// column), each of width ⌈(w + 2) / 2⌉; tap (ki, kj) of output (i, j) is element
// (i + ki / 2, j + kj / 2) of phase (ki mod 2, kj mod 2), again one contiguous load per run. The
// columns per row that fall past the output width are computed and dropped when the output is
// copied out. A register block holds 16 output channels × 16 positions (16 accumulators); weights
// are packed as [block][input channel][tap][16] so that each tap's 16 broadcasts read one line.
#include "direct_convolution.h"

#include <immintrin.h>
#include <string.h>

enum { BLOCK = 16, TAPS = 9 };

static long blocks_of(int out_channels) { return (out_channels + BLOCK - 1) / BLOCK; }

/// The padded input of one image: `phases` planes of `rows` × `width` per channel.
typedef struct {
    long stride, width, rows, plane, channel, out_height, out_width;
} Layout;

static Layout layout_of(int height, int width, int stride) {
    Layout l;
    l.stride = stride;
    l.width = (width + 2 + stride - 1) / stride;
    l.rows = (height + 2 + stride - 1) / stride;
    // The last tap of the last position reads up to 2 floats past a stride-1 plane; rounded up
    // to whole 64-byte lines.
    l.plane = (l.rows * l.width + 2 + 15) / 16 * 16;
    l.channel = l.plane * stride * stride;
    l.out_height = (height - 1) / stride + 1;
    l.out_width = (width - 1) / stride + 1;
    return l;
}

long modnas_direct_convolution_packed_count(int out_channels, int in_channels) {
    return blocks_of(out_channels) * BLOCK * in_channels * TAPS;
}

void modnas_direct_convolution_pack(const float *weight, int out_channels, int in_channels, float *packed) {
    for (long b = 0; b < blocks_of(out_channels); b++)
        for (long c = 0; c < in_channels; c++)
            for (long t = 0; t < TAPS; t++)
                for (long j = 0; j < BLOCK; j++) {
                    long o = b * BLOCK + j;
                    packed[((b * in_channels + c) * TAPS + t) * BLOCK + j] =
                        o < out_channels ? weight[(o * in_channels + c) * TAPS + t] : 0.0f;
                }
}

long modnas_direct_convolution_scratch_count(int out_channels, int in_channels, int height, int width, int stride) {
    Layout l = layout_of(height, width, stride);
    return in_channels * l.channel + blocks_of(out_channels) * BLOCK * l.out_height * l.width;
}

/// Lanes [0, n) of a 16-lane mask (n clamped to 0…16).
static __mmask16 first_lanes(long n) {
    if (n <= 0) return 0;
    if (n >= 16) return 0xFFFF;
    return (__mmask16)((1u << n) - 1);
}

/// Copies image x into its zero-padded phase planes.
static void pad(const float *x, int in_channels, int height, int width, const Layout *l, float *xp) {
    memset(xp, 0, sizeof(float) * in_channels * l->channel);
    for (long c = 0; c < in_channels; c++)
        for (long i = 0; i < height; i++) {
            const float *row = x + (c * height + i) * width;
            const long y = i + 1;   // padded row
            if (l->stride == 1) {
                memcpy(xp + c * l->channel + y * l->width + 1, row, sizeof(float) * width);
                continue;
            }
            float *even = xp + c * l->channel + ((y % 2) * 2) * l->plane + (y / 2) * l->width;
            float *odd = even + l->plane;
            // Padded column j + 1: even phase for odd j, odd phase for even j.
            for (long j = 0; j < width; j++) {
                if (j % 2) even[(j + 1) / 2] = row[j];
                else odd[j / 2] = row[j];
            }
        }
}

__attribute__((target("avx512f")))
void modnas_direct_convolution(const float *x, int in_channels, int height, int width, int stride,
                               const float *packed, const float *bias, int out_channels,
                               float *y, float *scratch) {
    const Layout l = layout_of(height, width, stride);
    const long positions = l.out_height * l.width;
    float *xp = scratch, *yp = scratch + in_channels * l.channel;
    pad(x, in_channels, height, width, &l, xp);
    long offsets[TAPS];
    for (long t = 0; t < TAPS; t++) {
        const long ki = t / 3, kj = t % 3;
        offsets[t] = ((ki % stride) * stride + kj % stride) * l.plane + (ki / stride) * l.width + kj / stride;
    }

    for (long b = 0; b < blocks_of(out_channels); b++) {
        const float *wb = packed + b * in_channels * TAPS * BLOCK;
        float start[BLOCK];
        for (long j = 0; j < BLOCK; j++) {
            long o = b * BLOCK + j;
            start[j] = bias && o < out_channels ? bias[o] : 0.0f;
        }
        for (long p = 0; p < positions; p += 16) {
            const __mmask16 mask = first_lanes(positions - p);
            __m512 acc[BLOCK];
#pragma clang loop unroll(full)
            for (int j = 0; j < BLOCK; j++) acc[j] = _mm512_set1_ps(start[j]);
            for (long c = 0; c < in_channels; c++) {
                const float *xc = xp + c * l.channel + p, *wc = wb + c * TAPS * BLOCK;
#pragma clang loop unroll(full)
                for (int t = 0; t < TAPS; t++) {
                    const __m512 v = _mm512_maskz_loadu_ps(mask, xc + offsets[t]);
#pragma clang loop unroll(full)
                    for (int j = 0; j < BLOCK; j++) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(wc[t * BLOCK + j]), v, acc[j]);
                }
            }
#pragma clang loop unroll(full)
            for (int j = 0; j < BLOCK; j++) _mm512_mask_storeu_ps(yp + (b * BLOCK + j) * positions + p, mask, acc[j]);
        }
    }
    for (long o = 0; o < out_channels; o++)
        for (long i = 0; i < l.out_height; i++)
            memcpy(y + (o * l.out_height + i) * l.out_width, yp + o * positions + i * l.width, sizeof(float) * l.out_width);
}
