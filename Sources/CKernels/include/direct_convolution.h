// A direct 3×3 convolution, stride 1 or 2, padding 1 (NCHW, one image) with AVX-512, for the
// deployed graph's convolutions: no im2col matrix, the input copied once into zero-padded planes,
// weights packed once per network. Callers check modnas_avx512_supported() and otherwise use
// the im2col and sgemm path.
#ifndef MODNAS_DIRECT_CONVOLUTION_H
#define MODNAS_DIRECT_CONVOLUTION_H

/// Floats of the packed weight of a convolution with these channel counts.
long modnas_direct_convolution_packed_count(int out_channels, int in_channels);

/// Packs an OIHW 3×3 weight into `packed` (modnas_direct_convolution_packed_count floats).
void modnas_direct_convolution_pack(const float *weight, int out_channels, int in_channels, float *packed);

/// Floats of scratch memory one call needs.
long modnas_direct_convolution_scratch_count(int out_channels, int in_channels, int height, int width, int stride);

/// y[o] = bias[o] + Σ_c weight[o][c] ⋆ x[c] for one image: x [in_channels, height, width],
/// y [out_channels, (height − 1) / stride + 1, (width − 1) / stride + 1]; stride 1 or 2; `packed`
/// from modnas_direct_convolution_pack. Only call when modnas_avx512_supported() (cpu_features.h) is 1.
void modnas_direct_convolution(const float *x, int in_channels, int height, int width, int stride,
                               const float *packed, const float *bias, int out_channels,
                               float *y, float *scratch);

#endif
