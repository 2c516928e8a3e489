// The 3×3 average pooling of average_pool.h: per plane, the sums of three neighbouring cells of
// each row (masked loads supply the zeros outside the row), then the sums of three neighbouring
// row sums (rows of zeros above and below the plane), scaled by 1 / the in-bounds window size.
// The order of the additions is the portable kernel's: (left + centre) + right, then
// (above + middle) + below, times (row factor · column factor).
#include "average_pool.h"
#include "lanes.h"

#include <immintrin.h>
#include <string.h>

long modnas_average_pool3x3_scratch_count(int height, int width) {
    return (long)(height + 2) * width + width;
}

/// 1 / (in-bounds cells of the 3-wide window at position i of a side of length n).
static float inverse_window(long i, long n) {
    const long hi = i + 1 < n - 1 ? i + 1 : n - 1, lo = i - 1 > 0 ? i - 1 : 0;
    return 1.0f / (float)(hi - lo + 1);
}

__attribute__((target("avx512f")))
void modnas_average_pool3x3(const float *x, long planes, int height, int width, float *y, float *scratch) {
    const long h = height, w = width;
    float *sums = scratch, *columns = scratch + (h + 2) * w;   // row sums with a zero row above and below
    memset(sums, 0, sizeof(float) * w);
    memset(sums + (h + 1) * w, 0, sizeof(float) * w);
    for (long j = 0; j < w; j++) columns[j] = inverse_window(j, w);
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * h * w;
        float *dst = y + p * h * w;
        for (long i = 0; i < h; i++) {
            const float *row = src + i * w;
            float *out = sums + (i + 1) * w;
            for (long j = 0; j < w; j += 16) {
                const __mmask16 m = first_lanes(w - j);
                // Lane k of `left` is row[j + k − 1]: none for j + k = 0. Of `right`, row[j + k + 1]: none past the row.
                const __mmask16 ml = j == 0 ? (__mmask16)(m & ~1u) : m, mr = first_lanes(w - j - 1);
                const __m512 left = _mm512_maskz_loadu_ps(ml, row + j - 1);
                const __m512 centre = _mm512_maskz_loadu_ps(m, row + j);
                const __m512 right = _mm512_maskz_loadu_ps(mr, row + j + 1);
                _mm512_mask_storeu_ps(out + j, m, _mm512_add_ps(_mm512_add_ps(left, centre), right));
            }
        }
        for (long i = 0; i < h; i++) {
            const __m512 factor = _mm512_set1_ps(inverse_window(i, h));
            const float *above = sums + i * w, *middle = above + w, *below = middle + w;
            for (long j = 0; j < w; j += 16) {
                const __mmask16 m = first_lanes(w - j);
                const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(m, above + j), _mm512_maskz_loadu_ps(m, middle + j)),
                                               _mm512_maskz_loadu_ps(m, below + j));
                const __m512 scale = _mm512_mul_ps(factor, _mm512_maskz_loadu_ps(m, columns + j));
                _mm512_mask_storeu_ps(dst + i * w + j, m, _mm512_mul_ps(s, scale));
            }
        }
    }
}
