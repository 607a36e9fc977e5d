/* The vector vocabulary the kernel templates are written over (see vec_avx2.h) at 16 lanes in
 * GCC generic vectors compiled for AVX2 (vec16_avx2.h): the AVX-512 instantiations' width,
 * indexing and per-lane operations, for the test-only v16-avx2 row on machines without
 * AVX-512. No streaming stores (plain ones: the same values) and no VHSUM8. */
#ifndef CARTOON_VEC_V16_AVX2_H
#define CARTOON_VEC_V16_AVX2_H
#include <string.h>
#include "vec16_avx2.h"
#define VL 16
#define VLOAD(p) v16_load(p)
#define VSTORE(p, v) v16_store((p), (v))
#define VSET1(x) v16_set1(x)
#define VLOAD8(p) v16_load8(p)
#define VSTORE8(p, v) memcpy((p), &(v), 8 * sizeof(float))

#define VFMA(a, b, c) v16_fma((a), (b), (c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) v16_max((a), (b))
#define VZERO ((vf){0})
#define VSTREAM(p, v) VSTORE((p), (v))
#define VFENCE() ((void)0)

/* _mm512_reduce_add_ps's order: halves added, then halves of those, down to one lane */
static inline float v16_hsum(vf v)
{
    float t[16];
    memcpy(t, &v, sizeof t);
    for (int n = 8; n >= 1; n /= 2)
        for (int i = 0; i < n; i++) t[i] += t[i + n];
    return t[0];
}
#define VHSUM(v) v16_hsum(v)
#endif
