/* AVX2 instantiation of the guided filter band kernel (guided_filter_impl.h). GCC's vector operators on
 * __m256 compile to the AVX instructions (no FMA contraction under -std=c11), so the bits
 * match the portable kernel's. */
#if defined(__x86_64__)
#include <immintrin.h>
typedef __m256 vf;
#define VL 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define NAME(x) x##_avx2
#include "guided_filter_impl.h"
#else
typedef int ct_guided_filter_avx2_empty;
#endif
