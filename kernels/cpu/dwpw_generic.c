/* Portable instantiation of the depthwise + pointwise kernels (dwpw_impl.h): 8-float GCC
 * vectors, which baseline x86-64 runs as SSE. */
#include <string.h>
#include "dwpw.h"

/* 8-lane vectors keep the kernels' blocking identical to the AVX2 build; the values only pass
 * between static functions of this file, so GCC's ABI note about them does not apply (the
 * Makefile builds this file with -Wno-psabi). */
typedef float vf __attribute__((vector_size(32)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vset1(float x) { return (vf){x, x, x, x, x, x, x, x}; }
static inline vf vmax(vf a, vf b)
{
    vf r;
    for (int i = 0; i < 8; i++) r[i] = a[i] > b[i] ? a[i] : b[i];
    return r;
}
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) vset1(x)
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) vmax((a), (b))
#define VZERO ((vf){0})
#define NAME(x) x##_generic
#include "dwpw_impl.h"
