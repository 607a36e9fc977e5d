/* The 16-lane depthwise + pointwise kernels (dwpw_impl.h with VL 16) in GCC generic vectors,
 * compiled for AVX2 (vec_v16_avx2.h). Never chosen at run time: it exists so that every x86
 * machine with AVX2 runs the blocking, indexing and tails of the AVX-512 build
 * (dwpw_avx512.c) in the tests. */
#if defined(__x86_64__)
#include "vec_v16_avx2.h"
#define NAME(x) x##_v16_avx2
#include "dwpw_impl.h"
#else
typedef int ct_dwpw_v16_avx2_empty;
#endif
