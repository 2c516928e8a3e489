// Global average pooling (NCHW planes → one mean per plane) with AVX-512, for the deployed graph.
// The sums run 16 lanes at a time, so they differ from the portable kernel's in the last bits.
#ifndef MODNAS_GLOBAL_AVERAGE_POOL_H
#define MODNAS_GLOBAL_AVERAGE_POOL_H

/// y[p] = the mean of the `positions` floats of plane p of x, for each of `planes` planes. Only
/// call when modnas_avx512_supported() (cpu_features.h) is 1.
void modnas_global_average_pool(const float *x, long planes, long positions, float *y);

#endif
