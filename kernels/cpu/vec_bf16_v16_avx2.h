/* The bf16 vocabulary of vec_bf16_avx512.h as the bit-exact emulation of VDPBF16PS and
 * VCVTNEPS2BF16 (bf16_emul.h), lane by lane, for the test-only 16-lane generic-vector builds
 * (after vec_v16_avx2.h): what the native kernels compute, on any AVX2 machine. */
#ifndef CARTOON_VEC_BF16_V16_AVX2_H
#define CARTOON_VEC_BF16_V16_AVX2_H
#include <stdint.h>
#include <string.h>
#include "bf16_emul.h"
typedef uint32_t vbh __attribute__((vector_size(64)));
static inline vbh v16_bh_load(const void *p) { vbh v; memcpy(&v, p, sizeof v); return v; }
static inline vbh v16_bh_loadn(const void *p, int n) { vbh v = {0}; memcpy(&v, p, (size_t)n * 4); return v; }
static inline vbh v16_bh_set1(uint32_t u) { return (vbh){u, u, u, u, u, u, u, u, u, u, u, u, u, u, u, u}; }
static inline vf v16_dpbf16(vf acc, vbh a, vbh b)
{
    for (int j = 0; j < 16; j++)
        acc[j] = ct_dpbf16_lane(acc[j], (uint16_t)a[j], (uint16_t)(a[j] >> 16), (uint16_t)b[j],
                                (uint16_t)(b[j] >> 16));
    return acc;
}
static inline void v16_bh_store_cvt(uint16_t *p, vf v)
{
    for (int j = 0; j < 16; j++) p[j] = ct_bf16_round(v[j]);
}
#define BH_LOAD(p) v16_bh_load(p)
#define BH_LOADN(p, n) v16_bh_loadn((p), (n))
#define BH_SET1(u) v16_bh_set1(u)
#define VDPBF16(acc, a, b) v16_dpbf16((acc), (a), (b))
#define BH_STORE_CVT(p, v) v16_bh_store_cvt((p), (v))
#endif
