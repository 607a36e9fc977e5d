/* AVX2 + FMA instantiation of the direct-convolution kernels (conv_direct_impl.h). */
#if defined(__x86_64__)
#include "vec_avx2.h"
#define NAME(x) x##_avx2
#include "conv_direct_impl.h"
#else
typedef int ct_conv_direct_avx2_empty;
#endif
