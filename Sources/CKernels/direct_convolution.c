// The direct convolutions of direct_convolution.h: weight packing and sizes (the same for every
// instruction set), and the choice of the instruction set's kernel (kernels_avx512.c, kernels_avx2.c).
#include "direct_convolution.h"

#include "direct_convolution_layout.h"
#include "isa_kernels.h"
#include "padded_planes.h"

long modnas_direct_convolution_packed_count(int out_channels, int in_channels, int kernel) {
    return blocks_of(out_channels) * BLOCK * in_channels * kernel * kernel;
}

void modnas_direct_convolution_pack(const float *weight, int out_channels, int in_channels, int kernel, float *packed) {
    const long taps = (long)kernel * kernel;
    for (long b = 0; b < blocks_of(out_channels); b++)
        for (long c = 0; c < in_channels; c++)
            for (long t = 0; t < taps; t++)
                for (long j = 0; j < BLOCK; j++) {
                    long o = b * BLOCK + j;
                    packed[((b * in_channels + c) * taps + t) * BLOCK + j] =
                        o < out_channels ? weight[(o * in_channels + c) * taps + t] : 0.0f;
                }
}

long modnas_direct_convolution_scratch_count(int out_channels, int in_channels, int height, int width, int kernel, int stride) {
    if (kernel == 1) {
        const long positions = (long)height * width;
        return one_by_one_planes_alias(positions) ? in_channels * one_by_one_plane_stride(positions) : 0;
    }
    const PaddedLayout l = padded_layout(height, width, 3, stride);
    // The padded copies, the floats that whole-vector reads (v_load_within) of up to 3 runs of 16
    // may read past the last one, and at stride 2 the computed rows.
    return in_channels * l.copy + 48 + (stride == 1 ? 0 : blocks_of(out_channels) * BLOCK * l.positions);
}

void modnas_direct_convolution(modnas_isa isa, const float *x, int in_channels, int height, int width, int kernel, int stride,
                               const float *packed, const float *bias, int out_channels,
                               int relu_input, modnas_activation activation, float *y, float *scratch) {
    if (isa == MODNAS_ISA_AVX512)
        modnas_direct_convolution_avx512(x, in_channels, height, width, kernel, stride, packed, bias, out_channels, relu_input, activation, y, scratch);
    else
        modnas_direct_convolution_avx2(x, in_channels, height, width, kernel, stride, packed, bias, out_channels, relu_input, activation, y, scratch);
}
