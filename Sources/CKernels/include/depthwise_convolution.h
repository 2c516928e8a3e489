// A direct depthwise convolution (NCHW, one image) with AVX-512 or AVX2: weight [C, 1, k, k], odd
// k, "same" padding k / 2, stride 1 or 2, for the deployed graph. Callers choose an instruction
// set the CPU executes (cpu_features.h) and otherwise use the engine's portable kernel. Both
// instruction sets sum in the same order, so they give the same bits.
#ifndef MODNAS_DEPTHWISE_CONVOLUTION_H
#define MODNAS_DEPTHWISE_CONVOLUTION_H

#include "activation.h"
#include "cpu_features.h"

/// Floats of scratch memory one call with `isa` needs.
long modnas_depthwise_convolution_scratch_count(modnas_isa isa, int height, int width, int kernel, int stride);

/// y[c] = activation(bias[c] + weight[c] ⋆ x[c]) for each of `channels` planes (kernel ≤ 15): x [channels, height, width],
/// y [channels, (height − 1) / stride + 1, (width − 1) / stride + 1].
void modnas_depthwise_convolution(modnas_isa isa, const float *x, int channels, int height, int width, int kernel, int stride,
                                  const float *weight, const float *bias, modnas_activation activation, float *y, float *scratch);

#endif
