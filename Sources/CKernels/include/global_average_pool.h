// Global average pooling (NCHW planes → one mean per plane) with AVX-512 or AVX2, for the deployed
// graph. The sums run a vector at a time, so they differ from the portable kernel's (and between
// the instruction sets) in the last bits.
#ifndef MODNAS_GLOBAL_AVERAGE_POOL_H
#define MODNAS_GLOBAL_AVERAGE_POOL_H

#include "cpu_features.h"

/// y[p] = the mean of the `positions` floats of plane p of x, for each of `planes` planes, with
/// `isa`, which the CPU must execute (cpu_features.h).
void modnas_global_average_pool(modnas_isa isa, const float *x, long planes, long positions, float *y);

#endif
