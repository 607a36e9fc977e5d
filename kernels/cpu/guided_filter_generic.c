/* Portable instantiation of the guided filter band kernel (guided_filter_impl.h): 4-float
 * GCC vectors, SSE on baseline x86-64. */
#include "vec_generic.h"
#define NAME(x) x##_generic
#include "guided_filter_impl.h"
