/* AVX-512 instantiation of the direct-convolution kernels (conv_direct_impl.h): 16 lanes, so
 * one zmm vector holds a block of 16 output channels. The same template compiled with 16-lane
 * GCC vectors (conv_direct_v16_avx2.c) is what the tests run where the CPU lacks AVX-512. */
#if defined(__x86_64__)
#include "vec_avx512.h"
#define NAME(x) x##_avx512
#include "conv_direct_impl.h"
#else
typedef int ct_conv_direct_avx512_empty;
#endif
