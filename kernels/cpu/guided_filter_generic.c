/* Portable instantiation of the guided filter band kernel (guided_filter_impl.h): 4-float
 * GCC vectors, SSE on baseline x86-64. */
#include <string.h>
typedef float vf __attribute__((vector_size(16)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
#define VL 4
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) ((vf){(x), (x), (x), (x)})
#define NAME(x) x##_generic
#include "guided_filter_impl.h"
