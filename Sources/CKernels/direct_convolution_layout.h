// The register block of the direct convolutions (direct_convolution_body.h): 8 output channels,
// the unit in which weights are packed on every instruction set.
#ifndef MODNAS_DIRECT_CONVOLUTION_LAYOUT_H
#define MODNAS_DIRECT_CONVOLUTION_LAYOUT_H

enum { BLOCK = 8 };

static inline long blocks_of(int out_channels) { return (out_channels + BLOCK - 1) / BLOCK; }

/// Whether a 1×1 convolution's input planes are a multiple of 4 KiB apart. A register block reads
/// the same position of every plane, and planes 4 KiB apart put those lines in one L1 set, where
/// they and the prefetched ones evict each other: 32 × 32 planes ran at half speed with AVX2 (16 →
/// 16 channels) and with AVX-512 from 32 output channels (planes 1 KiB apart, four sets, did not).
/// The kernel then reads the planes from a copy 64 bytes further apart (one_by_one_plane_stride)
/// where it pays for the copy.
static inline int one_by_one_planes_alias(long positions) { return positions % 1024 == 0; }

/// Floats from one input plane of a 1×1 convolution to the next in that copy.
static inline long one_by_one_plane_stride(long positions) { return positions + 16; }

#endif
