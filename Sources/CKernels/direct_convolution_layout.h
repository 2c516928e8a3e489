// The register block of the direct convolutions (direct_convolution_body.h): 8 output channels,
// the unit in which weights are packed on every instruction set.
#ifndef MODNAS_DIRECT_CONVOLUTION_LAYOUT_H
#define MODNAS_DIRECT_CONVOLUTION_LAYOUT_H

enum { BLOCK = 8 };

static inline long blocks_of(int out_channels) { return (out_channels + BLOCK - 1) / BLOCK; }

#endif
