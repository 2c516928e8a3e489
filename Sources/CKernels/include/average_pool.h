// 3×3 average pooling, stride 1, padding 1, padding not counted (NCHW planes), with AVX-512 or
// AVX2. The same sums in the same order as the engine's portable kernel, so the results are identical.
#ifndef MODNAS_AVERAGE_POOL_H
#define MODNAS_AVERAGE_POOL_H

#include "cpu_features.h"

/// y = the in-bounds 3×3 window mean of each of `planes` planes of height × width, with `isa`,
/// which the CPU must execute (cpu_features.h).
void modnas_average_pool3x3(modnas_isa isa, const float *x, long planes, int height, int width, float *y);

#endif
