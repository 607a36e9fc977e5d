/* AVX-512 instantiation of the Winograd kernels (conv_winograd_impl.h): 16 lanes, so a
 * 16-wide cout block is one zmm vector; F/BW/VL/DQ only (the bf16 kernel, which needs
 * AVX512_BF16, is conv_winograd_avx512bf16.c). The same template compiled with 16-lane GCC
 * vectors (conv_winograd_v16_avx2.c) is what the tests run where the CPU lacks AVX-512. */
#if defined(__x86_64__)
#include "conv_winograd_impl.h"
#include "vec_avx512.h"
/* 12 x 16: 12 accumulators + 1 weight vector, the row values broadcast from memory inside
 * the FMA; 12 independent chains cover the FMA latency of two units, and 32 zmm registers
 * leave room (more rows would only lengthen the tails of a block of tiles). */
#define MR 12
#define WG_NAME(x) x##_avx512
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_avx512_empty;
#endif
