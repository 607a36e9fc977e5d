/* The bf16-operand direct-convolution kernels for AVX512_BF16 (VDPBF16PS, VCVTNEPS2BF16):
 * conv_direct_bf16_impl.h on the AVX-512 vocabulary, in a file of its own because only code
 * built with -mavx512bf16 may use them. The tests run the same template as its bit-exact
 * emulation (conv_direct_bf16_v16_avx2.c) where the CPU lacks AVX512_BF16. */
#if defined(__x86_64__)
#include "vec_avx512.h"
#include "vec_bf16_avx512.h"
#define NAME(x) x##_avx512bf16
#include "conv_direct_bf16_impl.h"
#else
typedef int ct_conv_direct_avx512bf16_empty;
#endif
