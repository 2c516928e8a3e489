// Lane masks as bits (bit k: lane k), shared by the AVX-512 and AVX2 kernels; the vector vocabulary
// (vector_avx512.h, vector_avx2.h) defines LANES and turns bits into its own mask type.
#ifndef MODNAS_LANES_H
#define MODNAS_LANES_H

/// Lanes [0, n) of a LANES-lane mask (n clamped to 0…LANES).
static inline unsigned first_lane_bits(long n) {
    if (n <= 0) return 0;
    if (n >= LANES) return (1u << LANES) - 1;
    return (1u << n) - 1;
}

#endif
