// The 3×3 average pooling of average_pool.h, written once on the vector vocabulary
// (vector_avx512.h, vector_avx2.h) and compiled once per instruction set (kernels_avx512.c,
// kernels_avx2.c). One pass per plane: for each run of LANES columns, the sums of three
// neighbouring cells of each row (masked loads supply the zeros outside the row) are kept for
// three rows in registers; output row i is (sum of row i − 1 + sum of row i) + sum of row i + 1 (a
// zero sum above the first row and below the last), scaled by 1 / the in-bounds window size. The
// order of the additions is the portable kernel's: (left + centre) + right, then
// (above + middle) + below, times (row factor · column factor).

/// 1 / (in-bounds cells of the 3-wide window at position i of a side of length n).
static float inverse_window(long i, long n) {
    const long hi = i + 1 < n - 1 ? i + 1 : n - 1, lo = i - 1 > 0 ? i - 1 : 0;
    return 1.0f / (float)(hi - lo + 1);
}

/// The masks of three_cell_sums for column j of a row of w: the cells inside the row, those whose
/// left neighbour is (none for column 0) and those whose right neighbour is.
typedef struct { vmask inside, left, right; } Neighbours;

static inline Neighbours neighbours(long j, long w) {
    const unsigned inside = first_lane_bits(w - j);
    return (Neighbours){mask_of_bits(inside), mask_of_bits(j == 0 ? inside & ~1u : inside), first_lanes(w - j - 1)};
}

/// (left + centre) + right of the LANES cells of `row` from column j.
static inline vfloat three_cell_sums(const float *row, long j, const Neighbours *m) {
    // Lane k of `left` is row[j + k − 1], of `right` row[j + k + 1].
    const vfloat left = v_load_masked(m->left, row + j - 1);
    const vfloat centre = v_load_masked(m->inside, row + j);
    const vfloat right = v_load_masked(m->right, row + j + 1);
    return v_add(v_add(left, centre), right);
}

void ISA_NAME(modnas_average_pool3x3)(const float *x, long planes, int height, int width, float *y) {
    const long h = height, w = width;
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * h * w;
        float *dst = y + p * h * w;
        for (long j = 0; j < w; j += LANES) {
            float column_factors[LANES] = {0};
            for (long k = 0; k < LANES && j + k < w; k++) column_factors[k] = inverse_window(j + k, w);
            const vfloat columns = v_load(column_factors);
            const Neighbours m = neighbours(j, w);
            vfloat above = v_zero(), middle = three_cell_sums(src, j, &m);
            for (long i = 0; i < h; i++) {
                const vfloat below = i + 1 < h ? three_cell_sums(src + (i + 1) * w, j, &m) : v_zero();
                const vfloat scale = v_mul(v_set1(inverse_window(i, h)), columns);
                v_store_first(dst + i * w + j, w - j, v_mul(v_add(v_add(above, middle), below), scale));
                above = middle;
                middle = below;
            }
        }
    }
}
