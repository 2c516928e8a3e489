// What the CPU running the process can execute, for choosing between the AVX-512 kernels of this
// module and the engine's portable ones.
#ifndef MODNAS_CPU_FEATURES_H
#define MODNAS_CPU_FEATURES_H

/// 1 when this CPU executes AVX-512F instructions (and the kernels that need them), else 0.
int modnas_avx512_supported(void);

#endif
