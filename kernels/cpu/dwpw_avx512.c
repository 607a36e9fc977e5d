/* AVX-512 instantiation of the depthwise + pointwise kernels (dwpw_impl.h): 16 lanes, 12
 * pixels by 32 output channels per GEMM block. The same template compiled with 16-lane GCC
 * vectors (dwpw_v16_avx2.c) is what the tests run where the CPU lacks AVX-512. */
#if defined(__x86_64__)
#include "vec_avx512.h"
#define NAME(x) x##_avx512
#include "dwpw_impl.h"
#else
typedef int ct_dwpw_avx512_empty;
#endif
