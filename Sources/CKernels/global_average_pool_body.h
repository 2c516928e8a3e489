// The global average pooling of global_average_pool.h, written once on the vector vocabulary
// (vector_avx512.h, vector_avx2.h) and compiled once per instruction set (kernels_avx512.c,
// kernels_avx2.c): four accumulators of LANES lanes per plane (masked loads past its end), added
// up and divided by the plane's size.

void ISA_NAME(modnas_global_average_pool)(const float *x, long planes, long positions, float *y) {
    for (long p = 0; p < planes; p++) {
        const float *plane = x + p * positions;
        vfloat acc[4] = {v_zero(), v_zero(), v_zero(), v_zero()};
        for (long i = 0; i < positions; i += 4 * LANES)
            for (int r = 0; r < 4; r++)
                acc[r] = v_add(acc[r], v_load_masked(first_lanes(positions - i - LANES * r), plane + i + LANES * r));
        y[p] = v_sum(v_add(v_add(acc[0], acc[1]), v_add(acc[2], acc[3]))) / (float)positions;
    }
}
