/* 16-float GCC generic vectors for the *_v16_avx2.c test builds of the AVX-512 kernels:
 * compiled for AVX2, GCC splits each 64-byte vector into two ymm registers. Each operation is
 * the one the AVX-512 instruction performs on each lane (FMA with one rounding, max picking
 * the second operand unless the first is greater), so the test builds compute what the
 * AVX-512 builds compute. Include only from files compiled with -mavx2 -mfma. */
#ifndef CARTOON_VEC16_AVX2_H
#define CARTOON_VEC16_AVX2_H
#include <immintrin.h>
#include <string.h>

typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));
static inline vf v16_load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline vf v16_load8(const float *p) { vf v = {0}; memcpy(&v, p, 8 * sizeof(float)); return v; }
static inline void v16_store(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf v16_set1(float x) { return (vf){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
static inline vf v16_fma(vf a, vf b, vf c)
{
    __m256 x[2], y[2], z[2];
    memcpy(x, &a, sizeof a);
    memcpy(y, &b, sizeof b);
    memcpy(z, &c, sizeof c);
    z[0] = _mm256_fmadd_ps(x[0], y[0], z[0]);
    z[1] = _mm256_fmadd_ps(x[1], y[1], z[1]);
    memcpy(&c, z, sizeof c);
    return c;
}
static inline vf v16_max(vf a, vf b)
{
    vi m = a > b;
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}
#endif
