// The global average pooling of global_average_pool.h: four accumulators of 16 lanes per plane
// (masked loads past its end), added up and divided by the plane's size.
#include "global_average_pool.h"
#include "lanes.h"

#include <immintrin.h>

__attribute__((target("avx512f")))
void modnas_global_average_pool(const float *x, long planes, long positions, float *y) {
    for (long p = 0; p < planes; p++) {
        const float *plane = x + p * positions;
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (long i = 0; i < positions; i += 64)
            for (int r = 0; r < 4; r++)
                acc[r] = _mm512_add_ps(acc[r], _mm512_maskz_loadu_ps(first_lanes(positions - i - 16 * r), plane + i + 16 * r));
        const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        y[p] = _mm512_reduce_add_ps(sum) / (float)positions;
    }
}
