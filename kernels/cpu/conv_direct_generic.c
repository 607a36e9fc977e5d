/* Portable instantiation of the direct-convolution row kernels (conv_direct_impl.h):
 * 8-float GCC vectors, which baseline x86-64 runs as SSE. */
#include <string.h>
#include "conv_direct.h"

/* 8-lane vectors keep the kernels' layout identical to the AVX2 build; the values only pass
 * between static functions of this file, so GCC's ABI note about them does not apply (the
 * Makefile builds this file with -Wno-psabi). */
typedef float vf __attribute__((vector_size(32)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vset1(float x) { return (vf){x, x, x, x, x, x, x, x}; }
static inline float vhsum(vf v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) vset1(x)
static inline vf vmax(vf a, vf b)
{
    vf r;
    for (int i = 0; i < 8; i++) r[i] = a[i] > b[i] ? a[i] : b[i];
    return r;
}
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) vmax((a), (b))
#define VZERO ((vf){0})
#define VHSUM(v) vhsum(v)
#define NAME(x) x##_generic
#include "conv_direct_impl.h"
