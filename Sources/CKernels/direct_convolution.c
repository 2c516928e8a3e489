// The direct convolutions of direct_convolution.h.
//
// 3×3, stride 1: the input planes are copied into zero-padded planes of rows of w + 1 (one zero
// column serves as the right padding of a row and the left padding of the next; one more zero
// precedes the plane). An output position (i, j) is then the flat index p = i·(w + 1) + j, and its
// tap (ki, kj) reads padded index p + ki·(w + 1) + kj: every tap of a run of consecutive positions
// is one contiguous load, at any width. 3×3, stride 2: the padded plane is split into its four phases (even or odd row, even or
// odd column), each of width ⌈(w + 2) / 2⌉; tap (ki, kj) of output (i, j) is element
// (i + ki / 2, j + kj / 2) of phase (ki mod 2, kj mod 2), again one contiguous load per run. The
// columns per row that fall past the output width are computed and dropped when the output is
// copied out. 1×1: the input planes are read as they are and the output written in place.
//
// A register block holds 16 output channels × 16 positions (16 accumulators); weights are packed
// as [block][input channel][tap][16] so that each tap's 16 broadcasts read one cache line.
#include "direct_convolution.h"

#include <immintrin.h>
#include <string.h>

enum { BLOCK = 16 };

static long blocks_of(int out_channels) { return (out_channels + BLOCK - 1) / BLOCK; }

/// Where a 3×3 convolution reads its padded input: `stride`² phase planes of `rows` × `width`
/// per channel.
typedef struct {
    long stride, width, rows, plane, channel, out_height, out_width;
} Layout;

static Layout layout_of(int height, int width, int stride) {
    Layout l;
    l.stride = stride;
    l.width = stride == 1 ? width + 1 : (width + 3) / 2;
    l.rows = (height + 2 + stride - 1) / stride;
    // The last tap of the last position reads up to 2 floats past rows × width; rounded up to
    // whole 64-byte lines.
    l.plane = (l.rows * l.width + 2 + 15) / 16 * 16;
    l.channel = l.plane * stride * stride;
    l.out_height = (height - 1) / stride + 1;
    l.out_width = (width - 1) / stride + 1;
    return l;
}

long modnas_direct_convolution_packed_count(int out_channels, int in_channels, int kernel) {
    return blocks_of(out_channels) * BLOCK * in_channels * kernel * kernel;
}

void modnas_direct_convolution_pack(const float *weight, int out_channels, int in_channels, int kernel, float *packed) {
    const long taps = (long)kernel * kernel;
    for (long b = 0; b < blocks_of(out_channels); b++)
        for (long c = 0; c < in_channels; c++)
            for (long t = 0; t < taps; t++)
                for (long j = 0; j < BLOCK; j++) {
                    long o = b * BLOCK + j;
                    packed[((b * in_channels + c) * taps + t) * BLOCK + j] =
                        o < out_channels ? weight[(o * in_channels + c) * taps + t] : 0.0f;
                }
}

long modnas_direct_convolution_scratch_count(int out_channels, int in_channels, int height, int width, int kernel, int stride) {
    if (kernel == 1) return 0;
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
                memcpy(xp + c * l->channel + 1 + y * l->width, row, sizeof(float) * width);
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

/// out[o][p] = bias[o] + Σ_c Σ_t packed weight (o, c, t) · in[c · channel_stride + offsets[t] + p]
/// for p < positions and o < out_channels (rows of out `positions` apart). Inlined with a
/// constant `taps`, so that the tap loop unrolls.
__attribute__((target("avx512f"), always_inline))
static inline void accumulate(const float *in, long channel_stride, long in_channels, const long *offsets, const int taps,
                              const float *packed, const float *bias, int out_channels, long positions, float *out) {
    for (long b = 0; b < blocks_of(out_channels); b++) {
        const float *wb = packed + b * in_channels * taps * BLOCK;
        float start[BLOCK];
        for (long j = 0; j < BLOCK; j++) {
            long o = b * BLOCK + j;
            start[j] = bias && o < out_channels ? bias[o] : 0.0f;
        }
        const long rows = out_channels - b * BLOCK < BLOCK ? out_channels - b * BLOCK : BLOCK;
        for (long p = 0; p < positions; p += 16) {
            const __mmask16 mask = first_lanes(positions - p);
            __m512 acc[BLOCK];
#pragma clang loop unroll(full)
            for (int j = 0; j < BLOCK; j++) acc[j] = _mm512_set1_ps(start[j]);
            for (long c = 0; c < in_channels; c++) {
                const float *xc = in + c * channel_stride + p, *wc = wb + c * taps * BLOCK;
#pragma clang loop unroll(full)
                for (int t = 0; t < taps; t++) {
                    const __m512 v = _mm512_maskz_loadu_ps(mask, xc + offsets[t]);
#pragma clang loop unroll(full)
                    for (int j = 0; j < BLOCK; j++) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(wc[t * BLOCK + j]), v, acc[j]);
                }
            }
            for (long j = 0; j < rows; j++) _mm512_mask_storeu_ps(out + (b * BLOCK + j) * positions + p, mask, acc[j]);
        }
    }
}

__attribute__((target("avx512f")))
void modnas_direct_convolution(const float *x, int in_channels, int height, int width, int kernel, int stride,
                               const float *packed, const float *bias, int out_channels,
                               float *y, float *scratch) {
    if (kernel == 1) {
        const long zero = 0, positions = (long)height * width;
        accumulate(x, positions, in_channels, &zero, 1, packed, bias, out_channels, positions, y);
        return;
    }
    const Layout l = layout_of(height, width, stride);
    const long positions = l.out_height * l.width;
    float *xp = scratch, *yp = scratch + in_channels * l.channel;
    pad(x, in_channels, height, width, &l, xp);
    long offsets[9];
    for (long t = 0; t < 9; t++) {
        const long ki = t / 3, kj = t % 3;
        offsets[t] = ((ki % stride) * stride + kj % stride) * l.plane + (ki / stride) * l.width + kj / stride;
    }
    accumulate(xp, l.channel, in_channels, offsets, 9, packed, bias, out_channels, positions, yp);
    for (long o = 0; o < out_channels; o++)
        for (long i = 0; i < l.out_height; i++)
            memcpy(y + (o * l.out_height + i) * l.out_width, yp + o * positions + i * l.width, sizeof(float) * l.out_width);
}
