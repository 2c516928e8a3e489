// Lane masks of the AVX-512 kernels (16 floats per vector).
#ifndef MODNAS_LANES_H
#define MODNAS_LANES_H

#include <immintrin.h>

/// Lanes [0, n) of a 16-lane mask (n clamped to 0…16).
static inline __mmask16 first_lanes(long n) {
    if (n <= 0) return 0;
    if (n >= 16) return 0xFFFF;
    return (__mmask16)((1u << n) - 1);
}

#endif
