/* The 16-lane direct-convolution kernels (conv_direct_impl.h with VL 16) in GCC generic
 * vectors, compiled for AVX2 (vec_v16_avx2.h: GCC splits each 64-byte vector into two ymm
 * registers). Never chosen at run time: it exists so that every x86 machine with AVX2 runs the
 * blocking, indexing and tails of the AVX-512 build (conv_direct_avx512.c) in the tests. Each
 * operation is the one the AVX-512 instruction performs on each lane (FMA with one rounding,
 * max picking the second operand unless the first is greater, the sum of a vector in
 * _mm512_reduce_add_ps's order). */
#if defined(__x86_64__)
#include "vec_v16_avx2.h"
#define NAME(x) x##_v16_avx2
#include "conv_direct_impl.h"
#else
typedef int ct_conv_direct_v16_avx2_empty;
#endif
