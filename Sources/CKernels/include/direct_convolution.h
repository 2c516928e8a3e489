// Direct convolutions (NCHW, one image) with AVX-512 or AVX2, for the deployed graph: 3×3 with
// padding 1 at stride 1 or 2, and 1×1 at stride 1. No im2col matrix: a 3×3 input is copied once
// into zero-padded planes, a 1×1 input is read as it is; weights are packed once per network, the
// same for both instruction sets. Callers choose an instruction set the CPU executes
// (cpu_features.h) and otherwise use the im2col and sgemm path. Both instruction sets sum in the
// same order, so they give the same bits.
#ifndef MODNAS_DIRECT_CONVOLUTION_H
#define MODNAS_DIRECT_CONVOLUTION_H

#include "activation.h"
#include "cpu_features.h"

/// Floats of the packed weight of a kernel × kernel convolution with these channel counts.
long modnas_direct_convolution_packed_count(int out_channels, int in_channels, int kernel);

/// Packs an OIHW kernel × kernel weight into `packed` (modnas_direct_convolution_packed_count floats).
void modnas_direct_convolution_pack(const float *weight, int out_channels, int in_channels, int kernel, float *packed);

/// Floats of scratch memory one call needs.
long modnas_direct_convolution_scratch_count(int out_channels, int in_channels, int height, int width, int kernel, int stride);

/// y[o] = activation(bias[o] + Σ_c weight[o][c] ⋆ x'[c]) for one image, x' = max(x, 0) with
/// `relu_input`, else x: x [in_channels, height, width],
/// y [out_channels, (height − 1) / stride + 1, (width − 1) / stride + 1]. kernel 3 (padding 1,
/// stride 1 or 2) or 1 (stride 1); `packed` from modnas_direct_convolution_pack.
void modnas_direct_convolution(modnas_isa isa, const float *x, int in_channels, int height, int width, int kernel, int stride,
                               const float *packed, const float *bias, int out_channels,
                               int relu_input, modnas_activation activation, float *y, float *scratch);

#endif
