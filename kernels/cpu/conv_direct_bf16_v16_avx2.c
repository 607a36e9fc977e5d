/* The bf16 direct-convolution kernels (conv_direct_bf16_impl.h) in 16-lane GCC generic vectors
 * with the bit-exact emulation of VDPBF16PS and VCVTNEPS2BF16 (vec_bf16_v16_avx2.h), built for
 * AVX2: never chosen at run time; the tests run it on any AVX2 machine and compare it with the
 * native kernels bit for bit where the CPU has AVX512_BF16. */
#if defined(__x86_64__)
#include "vec_v16_avx2.h"
#include "vec_bf16_v16_avx2.h"
#define NAME(x) x##_v16_avx2
#include "conv_direct_bf16_impl.h"
#else
typedef int ct_conv_direct_bf16_v16_avx2_empty;
#endif
