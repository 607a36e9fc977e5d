/* The 16-lane upsample row kernel (upsample_impl.h with VL 16, as upsample_avx512.c) in GCC
 * generic vectors compiled for AVX2: never chosen at run time, it runs the AVX-512 kernel's
 * indexing and channel tails in the tests on machines without AVX-512. */
#if defined(__x86_64__)
#include <string.h>
typedef float vf __attribute__((vector_size(64)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
#define VL 16
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) ((vf){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})
#define NAME(x) x##_v16_avx2
#include "upsample_impl.h"
#else
typedef int ct_upsample_v16_avx2_empty;
#endif
