/* Portable instantiation of the Winograd kernels (conv_winograd_impl.h). */
#include "conv_winograd_impl.h"

/*, which the baseline x86-64 (SSE2) and other
 * targets map to their 128-bit registers, or scalar code where there is none. */
typedef float vf __attribute__((vector_size(16)));
typedef float vfu __attribute__((vector_size(16), aligned(4), may_alias));
typedef int vi __attribute__((vector_size(16)));

static inline vf g_set1(float x) { return (vf){x, x, x, x}; }
static inline vf g_max(vf a, vf b)
{
    vi m = a > b;
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}
#define VL 4
#define MR 3
#define WG_NAME(x) x##_generic
#define VLOAD(p) ((vf)(*(const vfu *)(const void *)(p)))
#define VSTORE(p, v) (*(vfu *)(void *)(p) = (v))
#define VSET1(x) g_set1(x)
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VMAX(a, b) g_max(a, b)
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
