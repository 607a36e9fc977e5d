/* The vector vocabulary of the FMA templates (see vec_avx2.h) for their portable
 * instantiations (conv_direct_generic.c, dwpw_generic.c): 8-float GCC vectors, which baseline
 * x86-64 runs as SSE; 8 lanes keep the kernels' blocking identical to the AVX2 build. VFMA is
 * a multiply then an add (two roundings); no streaming stores, no VHSUM8. The values only pass
 * between static functions of one file, so GCC's ABI note about such vectors does not apply
 * (the Makefile builds these files with -Wno-psabi). (vec_generic.h is the row-kernel
 * templates' 4-lane vector.) */
#ifndef CARTOON_VEC8_GENERIC_H
#define CARTOON_VEC8_GENERIC_H
#include <string.h>
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
static inline float vhsum(vf v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
#define VL 8
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) vset1(x)
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) vmax((a), (b))
#define VZERO ((vf){0})
#define VHSUM(v) vhsum(v)
#define VSTREAM(p, v) VSTORE((p), (v))
#define VFENCE() ((void)0)
#endif
