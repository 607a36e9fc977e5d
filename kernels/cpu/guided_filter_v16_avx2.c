/* The 16-lane guided filter band kernel (guided_filter_impl.h with VL 16, as
 * guided_filter_avx512.c) in GCC generic vectors compiled for AVX2: never chosen at run time,
 * it runs the AVX-512 kernel's indexing and column tails in the tests on machines without
 * AVX-512. */
#if defined(__x86_64__)
#include "vec_v16_avx2.h"
#define NAME(x) x##_v16_avx2
#include "guided_filter_impl.h"
#else
typedef int ct_guided_filter_v16_avx2_empty;
#endif
