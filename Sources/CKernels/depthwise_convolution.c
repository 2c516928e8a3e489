// The depthwise convolution of depthwise_convolution.h: the instruction set's kernel
// (depthwise_convolution_body.h in kernels_avx512.c or kernels_avx2.c).
#include "depthwise_convolution.h"

#include "isa_kernels.h"

long modnas_depthwise_convolution_scratch_count(modnas_isa isa, int height, int width, int kernel, int stride) {
    return isa == MODNAS_ISA_AVX512 ? modnas_depthwise_convolution_scratch_count_avx512(height, width, kernel, stride)
                                    : modnas_depthwise_convolution_scratch_count_avx2(height, width, kernel, stride);
}

void modnas_depthwise_convolution(modnas_isa isa, const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, modnas_activation activation, float *y, float *scratch) {
    if (isa == MODNAS_ISA_AVX512) modnas_depthwise_convolution_avx512(x, channels, height, width, kernel, stride, weight, bias, activation, y, scratch);
    else modnas_depthwise_convolution_avx2(x, channels, height, width, kernel, stride, weight, bias, activation, y, scratch);
}
