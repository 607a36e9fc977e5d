/* AVX2 + FMA instantiation of the depthwise + pointwise kernels (dwpw_impl.h): 6 pixels by
 * 16 output channels per GEMM block. */
#if defined(__x86_64__)
#include "vec_avx2.h"
#define NAME(x) x##_avx2
#include "dwpw_impl.h"
#else
typedef int ct_dwpw_avx2_empty;
#endif
