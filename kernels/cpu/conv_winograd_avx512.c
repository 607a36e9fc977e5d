/* AVX-512 instantiation of the Winograd kernels (conv_winograd_impl.h): 16 lanes, so a
 * 16-wide cout block is one zmm vector; F/BW/VL/DQ only (the bf16 kernel, which needs
 * AVX512_BF16, is conv_winograd_avx512bf16.c). The same template compiled with 16-lane GCC
 * vectors (conv_winograd_v16_avx2.c) is what the tests run where the CPU lacks AVX-512. */
#if defined(__x86_64__)
#include <immintrin.h>
#include "conv_winograd_impl.h"

typedef __m512 vf;
#define VL 16
/* 12 x 16: 12 accumulators + 1 weight vector, the row values broadcast from memory inside
 * the FMA; 12 independent chains cover the FMA latency of two units, and 32 zmm registers
 * leave room (more rows would only lengthen the tails of a block of tiles). */
#define MR 12
#define WG_NAME(x) x##_avx512
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_avx512_empty;
#endif
