// Applying a modnas_activation to a vector: the same operations in the same order as the engine's
// relu and hardSwish, so a fused result equals the unfused one bit for bit. Needs the vector
// vocabulary (vector_avx512.h or vector_avx2.h).
#ifndef MODNAS_ACTIVATE_H
#define MODNAS_ACTIVATE_H

#include "activation.h"

__attribute__((always_inline))
static inline vfloat activate(vfloat v, modnas_activation activation) {
    switch (activation) {
    case MODNAS_ACTIVATION_RELU: return v_max(v, v_zero());
    case MODNAS_ACTIVATION_HARD_SWISH: {
        const vfloat gate = v_min(v_max(v_add(v, v_set1(3)), v_zero()), v_set1(6));
        return v_div(v_mul(v, gate), v_set1(6));
    }
    default: return v;
    }
}

#endif
