/* Portable instantiation of the depthwise + pointwise kernels (dwpw_impl.h): 8-float GCC
 * vectors (vec8_generic.h), which baseline x86-64 runs as SSE. */
#include "vec8_generic.h"
#define NAME(x) x##_generic
#include "dwpw_impl.h"
