// The 3×3 average pooling of average_pool.h, one pass per plane: for each run of 16 columns, the
// sums of three neighbouring cells of each row (masked loads supply the zeros outside the row)
// are kept for three rows in registers; output row i is (sum of row i − 1 + sum of row i) + sum of
// row i + 1 (a zero sum above the first row and below the last), scaled by 1 / the in-bounds
// window size. The order of the additions is the portable kernel's: (left + centre) + right,
// then (above + middle) + below, times (row factor · column factor).
#include "average_pool.h"
#include "lanes.h"

#include <immintrin.h>

/// 1 / (in-bounds cells of the 3-wide window at position i of a side of length n).
static float inverse_window(long i, long n) {
    const long hi = i + 1 < n - 1 ? i + 1 : n - 1, lo = i - 1 > 0 ? i - 1 : 0;
    return 1.0f / (float)(hi - lo + 1);
}

/// (left + centre) + right of the 16 cells of `row` from column j (lanes of mask m).
__attribute__((target("avx512f")))
static inline __m512 three_cell_sums(const float *row, long j, long w, __mmask16 m) {
    // Lane k of `left` is row[j + k − 1]: none for j + k = 0. Of `right`, row[j + k + 1]: none past the row.
    const __mmask16 ml = j == 0 ? (__mmask16)(m & ~1u) : m, mr = first_lanes(w - j - 1);
    const __m512 left = _mm512_maskz_loadu_ps(ml, row + j - 1);
    const __m512 centre = _mm512_maskz_loadu_ps(m, row + j);
    const __m512 right = _mm512_maskz_loadu_ps(mr, row + j + 1);
    return _mm512_add_ps(_mm512_add_ps(left, centre), right);
}

__attribute__((target("avx512f")))
void modnas_average_pool3x3(const float *x, long planes, int height, int width, float *y) {
    const long h = height, w = width;
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * h * w;
        float *dst = y + p * h * w;
        for (long j = 0; j < w; j += 16) {
            const __mmask16 m = first_lanes(w - j);
            float column_factors[16] = {0};
            for (long k = 0; k < 16 && j + k < w; k++) column_factors[k] = inverse_window(j + k, w);
            const __m512 columns = _mm512_loadu_ps(column_factors);
            __m512 above = _mm512_setzero_ps(), middle = three_cell_sums(src, j, w, m);
            for (long i = 0; i < h; i++) {
                const __m512 below = i + 1 < h ? three_cell_sums(src + (i + 1) * w, j, w, m) : _mm512_setzero_ps();
                const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(inverse_window(i, h)), columns);
                _mm512_mask_storeu_ps(dst + i * w + j, m, _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(above, middle), below), scale));
                above = middle;
                middle = below;
            }
        }
    }
}
