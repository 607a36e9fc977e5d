/* AVX2 + FMA instantiation of the Winograd kernels (conv_winograd_impl.h). */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "conv_winograd_impl.h"

typedef __m256 vf;
#define VL 8
/* 6 x 16: 12 accumulators + 2 weight vectors + 1 broadcast fit the 16 ymm registers, and
 * each weight load feeds 6 FMAs. */
#define MR 6
#define WG_NAME(x) x##_avx2
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_avx2_empty; /* ISO C wants a translation unit to declare something */
#endif
