// What the CPU running the process can execute, for choosing between the vectorised kernels of
// this module (AVX-512 or AVX2 with FMA) and the engine's portable ones.
#ifndef MODNAS_CPU_FEATURES_H
#define MODNAS_CPU_FEATURES_H

/// The instruction set a kernel of this module runs with; each entry point takes one, and only
/// one that the CPU executes.
typedef enum {
    MODNAS_ISA_AVX2 = 1,
    MODNAS_ISA_AVX512 = 2,
} modnas_isa;

/// 1 when this CPU executes AVX-512F instructions, else 0.
int modnas_avx512_supported(void);

/// 1 when this CPU executes AVX2 and FMA instructions, else 0.
int modnas_avx2_fma_supported(void);

#endif
