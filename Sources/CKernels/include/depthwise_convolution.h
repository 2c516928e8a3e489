// A direct depthwise convolution (NCHW, one image) with AVX-512: weight [C, 1, k, k], odd k,
// "same" padding k / 2, stride 1 or 2, for the deployed graph. Callers check
// modnas_avx512_supported() (cpu_features.h) and otherwise use the engine's portable kernel.
#ifndef MODNAS_DEPTHWISE_CONVOLUTION_H
#define MODNAS_DEPTHWISE_CONVOLUTION_H

#include "activation.h"

/// Floats of scratch memory one call needs.
long modnas_depthwise_convolution_scratch_count(int height, int width, int kernel, int stride);

/// y[c] = activation(bias[c] + weight[c] ⋆ x[c]) for each of `channels` planes (kernel ≤ 15): x [channels, height, width],
/// y [channels, (height − 1) / stride + 1, (width − 1) / stride + 1]. Only call when
/// modnas_avx512_supported() is 1.
void modnas_depthwise_convolution(const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, modnas_activation activation, float *y, float *scratch);

#endif
