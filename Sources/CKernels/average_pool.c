// The poolings of average_pool.h and global_average_pool.h: the instruction set's kernel
// (average_pool_body.h and global_average_pool_body.h in kernels_avx512.c or kernels_avx2.c).
#include "average_pool.h"
#include "global_average_pool.h"

#include "isa_kernels.h"

void modnas_average_pool3x3(modnas_isa isa, const float *x, long planes, int height, int width, float *y) {
    if (isa == MODNAS_ISA_AVX512) modnas_average_pool3x3_avx512(x, planes, height, width, y);
    else modnas_average_pool3x3_avx2(x, planes, height, width, y);
}

void modnas_global_average_pool(modnas_isa isa, const float *x, long planes, long positions, float *y) {
    if (isa == MODNAS_ISA_AVX512) modnas_global_average_pool_avx512(x, planes, positions, y);
    else modnas_global_average_pool_avx2(x, planes, positions, y);
}
