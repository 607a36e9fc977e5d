/* AVX2 + FMA instantiation of the Winograd kernels (conv_winograd_impl.h). */
#if defined(__x86_64__) || defined(__i386__)
#include "conv_winograd_impl.h"
#include "vec_avx2.h"
/* 6 x 16: 12 accumulators + 2 weight vectors + 1 broadcast fit the 16 ymm registers, and
 * each weight load feeds 6 FMAs. */
#define MR 6
#define WG_NAME(x) x##_avx2
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_avx2_empty; /* ISO C wants a translation unit to declare something */
#endif
