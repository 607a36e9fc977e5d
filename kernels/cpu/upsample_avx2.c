/* AVX2 instantiation of the upsample row kernel (upsample_impl.h). GCC's vector operators on
 * __m256 compile to the AVX instructions (no FMA contraction under -std=c11), so the bits
 * match the portable kernel's. */
#if defined(__x86_64__)
#include "vec_avx2.h"
#define NAME(x) x##_avx2
#include "upsample_impl.h"
#else
typedef int ct_upsample_avx2_empty;
#endif
