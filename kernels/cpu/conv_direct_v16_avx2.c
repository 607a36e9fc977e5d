/* The 16-lane direct-convolution kernels (conv_direct_impl.h with VL 16) in GCC generic
 * vectors, compiled for AVX2 (GCC splits each 64-byte vector into two ymm registers). Never
 * chosen at run time: it exists so that every x86 machine with AVX2 runs the blocking,
 * indexing and tails of the AVX-512 build (conv_direct_avx512.c) in the tests. Each
 * operation is the one the AVX-512 instruction performs on each lane (FMA with one
 * rounding, max picking the second operand unless the first is greater). */
#if defined(__x86_64__)
#include <string.h>
#include "vec16_avx2.h"

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
#define VLOAD(p) v16_load(p)
#define VSTORE(p, v) v16_store((p), (v))
#define VSET1(x) v16_set1(x)
#define VFMA(a, b, c) v16_fma((a), (b), (c))
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) v16_max((a), (b))
#define VZERO ((vf){0})
#define VHSUM(v) vhsum(v)
#define NAME(x) x##_v16_avx2
#include "conv_direct_impl.h"
#else
typedef int ct_conv_direct_v16_avx2_empty;
#endif
