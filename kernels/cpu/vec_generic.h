/* The vector type and the load/store/broadcast macros the row-kernel templates
 * (upsample_impl.h, guided_filter_impl.h) are written over, for the portable instantiations:
 * 4-float GCC vectors, SSE on baseline x86-64. Include once per instantiation file, before
 * the template. */
#ifndef CARTOON_VEC_GENERIC_H
#define CARTOON_VEC_GENERIC_H
#include <string.h>
typedef float vf __attribute__((vector_size(16)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
#define VL 4
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) ((vf){(x), (x), (x), (x)})
#endif
