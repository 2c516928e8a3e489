// The entry points of the kernel bodies, one per instruction set (kernels_avx512.c,
// kernels_avx2.c), that the public functions choose between; arguments as in the public headers.
#ifndef MODNAS_ISA_KERNELS_H
#define MODNAS_ISA_KERNELS_H

#include "activation.h"

#define MODNAS_ISA_KERNELS(isa) \
    void modnas_direct_convolution_##isa(const float *x, int in_channels, int height, int width, int kernel, int stride, \
                                         const float *packed, const float *bias, int out_channels, \
                                         int relu_input, modnas_activation activation, float *y, float *scratch); \
    long modnas_depthwise_convolution_scratch_count_##isa(int height, int width, int kernel, int stride); \
    void modnas_depthwise_convolution_##isa(const float *x, int channels, int height, int width, int kernel, int stride, \
                                            const float *weight, const float *bias, modnas_activation activation, float *y, float *scratch); \
    void modnas_average_pool3x3_##isa(const float *x, long planes, int height, int width, float *y); \
    void modnas_global_average_pool_##isa(const float *x, long planes, long positions, float *y);

MODNAS_ISA_KERNELS(avx512)
MODNAS_ISA_KERNELS(avx2)

#undef MODNAS_ISA_KERNELS

#endif
