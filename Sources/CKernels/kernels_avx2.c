// The kernel bodies compiled for AVX2 with FMA (entry points named *_avx2, isa_kernels.h).
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "vector_avx2.h"
#include "direct_convolution_body.h"
#include "depthwise_convolution_body.h"
#include "average_pool_body.h"
#include "global_average_pool_body.h"
#pragma clang attribute pop
