/* AVX2 instantiation of the guided filter band kernel (guided_filter_impl.h). GCC's vector operators on
 * __m256 compile to the AVX instructions (no FMA contraction under -std=c11), so the bits
 * match the portable kernel's. */
#if defined(__x86_64__)
#include "vec_avx2.h"
#define NAME(x) x##_avx2
#include "guided_filter_impl.h"
#else
typedef int ct_guided_filter_avx2_empty;
#endif
