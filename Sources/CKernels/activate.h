// Applying a modnas_activation to 16 lanes: the same operations in the same order as the engine's
// relu and hardSwish, so a fused result equals the unfused one bit for bit.
#ifndef MODNAS_ACTIVATE_H
#define MODNAS_ACTIVATE_H

#include "activation.h"

#include <immintrin.h>

__attribute__((target("avx512f"), always_inline))
static inline __m512 activate(__m512 v, modnas_activation activation) {
    switch (activation) {
    case MODNAS_ACTIVATION_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case MODNAS_ACTIVATION_HARD_SWISH: {
        const __m512 gate = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, _mm512_set1_ps(3)), _mm512_setzero_ps()), _mm512_set1_ps(6));
        return _mm512_div_ps(_mm512_mul_ps(v, gate), _mm512_set1_ps(6));
    }
    default: return v;
    }
}

#endif
