/* The 16-lane direct-convolution kernels (conv_direct_impl.h with VL 16) in GCC generic
 * vectors, compiled for AVX2 (GCC splits each 64-byte vector into two ymm registers). Never
 * chosen at run time: it exists so that every x86 machine with AVX2 runs the blocking,
 * indexing and tails of the AVX-512 build (conv_direct_avx512.c) in the tests. Each
 * operation is the one the AVX-512 instruction performs on each lane (FMA with one
 * rounding, max picking the second operand unless the first is greater). */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vset1(float x) { return (vf){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
static inline vf vfma(vf a, vf b, vf c)
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
static inline vf vmax(vf a, vf b)
{
    vi m = a > b;
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}
/* _mm512_reduce_add_ps's order: halves added, then halves of those, down to one lane */
static inline float vhsum(vf v)
{
    float t[16];
    memcpy(t, &v, sizeof t);
    for (int n = 8; n >= 1; n /= 2)
        for (int i = 0; i < n; i++) t[i] += t[i + n];
    return t[0];
}
#define VL 16
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) vset1(x)
#define VFMA(a, b, c) vfma((a), (b), (c))
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) vmax((a), (b))
#define VZERO ((vf){0})
#define VHSUM(v) vhsum(v)
#define NAME(x) x##_v16_avx2
#include "conv_direct_impl.h"
#else
typedef int ct_conv_direct_v16_avx2_empty;
#endif
