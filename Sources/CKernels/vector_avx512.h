// The vector vocabulary of the kernels for AVX-512F: 16 floats a vector, masks in k registers.
// Included by kernels_avx512.c inside its target("avx512f") region, before the kernel bodies.
#ifndef MODNAS_VECTOR_H
#define MODNAS_VECTOR_H

#include <immintrin.h>

#define LANES 16
/// Vector registers: enough for 8 output channels × 3 runs of accumulators in the direct convolution.
#define VECTOR_REGISTERS 32
/// The name of a kernel's entry point for this instruction set.
#define ISA_NAME(name) name##_avx512

#include "lanes.h"

typedef __m512 vfloat;
typedef __mmask16 vmask;

static inline vmask mask_of_bits(unsigned bits) { return (vmask)bits; }
static inline vmask first_lanes(long n) { return mask_of_bits(first_lane_bits(n)); }
static inline vfloat v_zero(void) { return _mm512_setzero_ps(); }
static inline vfloat v_set1(float x) { return _mm512_set1_ps(x); }
static inline vfloat v_add(vfloat a, vfloat b) { return _mm512_add_ps(a, b); }
static inline vfloat v_mul(vfloat a, vfloat b) { return _mm512_mul_ps(a, b); }
static inline vfloat v_div(vfloat a, vfloat b) { return _mm512_div_ps(a, b); }
static inline vfloat v_max(vfloat a, vfloat b) { return _mm512_max_ps(a, b); }
static inline vfloat v_min(vfloat a, vfloat b) { return _mm512_min_ps(a, b); }
/// a · b + c, rounded once.
static inline vfloat v_fmadd(vfloat a, vfloat b, vfloat c) { return _mm512_fmadd_ps(a, b, c); }
static inline vfloat v_load(const float *p) { return _mm512_loadu_ps(p); }
/// The lanes of m from p, zeros elsewhere; the other lanes' addresses are not read.
static inline vfloat v_load_masked(vmask m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
/// The lanes of m from p, zeros elsewhere, where all LANES floats from p may be read.
static inline vfloat v_load_within(vmask m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
static inline void v_store(float *p, vfloat v) { _mm512_storeu_ps(p, v); }
/// Stores lanes [0, n) of v at p (n clamped to 0…LANES).
static inline void v_store_first(float *p, long n, vfloat v) { _mm512_mask_storeu_ps(p, first_lanes(n), v); }
static inline float v_sum(vfloat v) { return _mm512_reduce_add_ps(v); }

/// The even and the odd lanes of the 2 · LANES floats a, b (a first), each in order.
static inline void v_deinterleave(vfloat a, vfloat b, vfloat *even, vfloat *odd) {
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    *even = _mm512_permutex2var_ps(a, evens, b);
    *odd = _mm512_permutex2var_ps(a, _mm512_add_epi32(evens, _mm512_set1_epi32(1)), b);
}

#endif
