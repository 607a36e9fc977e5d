/* AVX2 + FMA instantiation of the direct-convolution kernels (conv_direct_impl.h). */
#if defined(__x86_64__)
#include <immintrin.h>

typedef __m256 vf;
static inline float vhsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* The eight sums of a0..a7 in one vector, lane i = sum of ai: three levels of hadd and one
 * cross-lane add (about 10 instructions for eight sums instead of about 40 for eight vhsum). */
static inline __m256 vhsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5, __m256 a6,
                            __m256 a7)
{
    __m256 s0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    __m256 s1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
    return _mm256_add_ps(_mm256_permute2f128_ps(s0, s1, 0x20), _mm256_permute2f128_ps(s0, s1, 0x31));
}
#define VHSUM8(a0, a1, a2, a3, a4, a5, a6, a7) vhsum8(a0, a1, a2, a3, a4, a5, a6, a7)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSTREAM(p, v) _mm256_stream_ps((p), (v))
#define VFENCE() _mm_sfence()
#define VSET1(x) _mm256_set1_ps(x)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VZERO _mm256_setzero_ps()
#define VHSUM(v) vhsum(v)
#define NAME(x) x##_avx2
#include "conv_direct_impl.h"
#else
typedef int ct_conv_direct_avx2_empty;
#endif
