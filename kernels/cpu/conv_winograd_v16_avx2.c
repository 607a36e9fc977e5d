/* The 16-lane Winograd kernels (conv_winograd_impl.h with VL 16, MR 12, as in
 * conv_winograd_avx512.c) in GCC generic vectors, compiled for AVX2 (GCC splits each
 * 64-byte vector into two ymm registers). Never chosen at run time: it exists so that every
 * x86 machine with AVX2 runs the blocking, indexing and tails of the AVX-512 build in the
 * tests. FMA and max are the per-lane operations of the AVX-512 instructions. */
#if defined(__x86_64__)
#include <string.h>
#include "bf16_emul.h"
#include "conv_winograd_impl.h"

#include "vec_v16_avx2.h"

#define MR 12
#define WG_NAME(x) x##_v16_avx2
/* bf16 operands: each lane of VDPBF16PS and VCVTNEPS2BF16 as bf16_emul.h defines it, so the
 * results are those of the instructions bit for bit. */
typedef uint32_t vbh __attribute__((vector_size(64)));
static inline vbh v16_bh_load(const uint16_t *p) { vbh v; memcpy(&v, p, sizeof v); return v; }
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
#define BH_SET1(u) v16_bh_set1(u)
#define VDPBF16(acc, a, b) v16_dpbf16((acc), (a), (b))
#define BH_STORE_CVT(p, v) v16_bh_store_cvt((p), (v))
#define WG_BF16
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_v16_avx2_empty;
#endif
