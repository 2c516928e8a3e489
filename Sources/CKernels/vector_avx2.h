// The vector vocabulary of the kernels for AVX2 with FMA: 8 floats a vector, masks as vectors of
// all-ones or zero lanes (vmaskmovps; a masked-off lane's address is not read or written).
// Included by kernels_avx2.c inside its target("avx2,fma") region, before the kernel bodies.
#ifndef MODNAS_VECTOR_H
#define MODNAS_VECTOR_H

#include <immintrin.h>

#define LANES 8
/// Vector registers: 16, so the direct convolution keeps one run of 8 output channels.
#define VECTOR_REGISTERS 16
/// The name of a kernel's entry point for this instruction set.
#define ISA_NAME(name) name##_avx2

#include "lanes.h"

typedef __m256 vfloat;
typedef __m256i vmask;

static inline vmask mask_of_bits(unsigned bits) {
    const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), lane_bit), lane_bit);
}
static inline vmask first_lanes(long n) { return mask_of_bits(first_lane_bits(n)); }
static inline vfloat v_zero(void) { return _mm256_setzero_ps(); }
static inline vfloat v_set1(float x) { return _mm256_set1_ps(x); }
static inline vfloat v_add(vfloat a, vfloat b) { return _mm256_add_ps(a, b); }
static inline vfloat v_mul(vfloat a, vfloat b) { return _mm256_mul_ps(a, b); }
static inline vfloat v_div(vfloat a, vfloat b) { return _mm256_div_ps(a, b); }
static inline vfloat v_max(vfloat a, vfloat b) { return _mm256_max_ps(a, b); }
static inline vfloat v_min(vfloat a, vfloat b) { return _mm256_min_ps(a, b); }
/// a · b + c, rounded once.
static inline vfloat v_fmadd(vfloat a, vfloat b, vfloat c) { return _mm256_fmadd_ps(a, b, c); }
static inline vfloat v_load(const float *p) { return _mm256_loadu_ps(p); }
/// The lanes of m from p, zeros elsewhere; the other lanes' addresses are not read.
static inline vfloat v_load_masked(vmask m, const float *p) { return _mm256_maskload_ps(p, m); }
/// The lanes of m from p, zeros elsewhere, where all LANES floats from p may be read: a plain load
/// and a mask (vmaskmovps costs more, and needs the mask in a register).
static inline vfloat v_load_within(vmask m, const float *p) { return _mm256_and_ps(_mm256_loadu_ps(p), _mm256_castsi256_ps(m)); }
static inline void v_store(float *p, vfloat v) { _mm256_storeu_ps(p, v); }
/// Stores lanes [0, n) of v at p (n clamped to 0…LANES): a plain store for a whole vector, else
/// 4, 2 and 1 lanes as n has them (vmaskmovps stores are microcoded on AMD's cores: storing
/// OFA's 14- and 28-wide rows through them made its depthwise convolutions 2× slower).
static inline void v_store_first(float *p, long n, vfloat v) {
    if (n >= LANES) { _mm256_storeu_ps(p, v); return; }
    if (n <= 0) return;
    __m128 part = _mm256_castps256_ps128(v);
    if (n & 4) { _mm_storeu_ps(p, part); p += 4; part = _mm256_extractf128_ps(v, 1); }
    if (n & 2) { _mm_storel_pi((__m64 *)p, part); p += 2; part = _mm_movehl_ps(part, part); }
    if (n & 1) _mm_store_ss(p, part);
}
static inline float v_sum(vfloat v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

/// The even and the odd lanes of the 2 · LANES floats a, b (a first), each in order.
static inline void v_deinterleave(vfloat a, vfloat b, vfloat *even, vfloat *odd) {
    // Within each 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6; then the 64-bit pairs reordered.
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

#endif
