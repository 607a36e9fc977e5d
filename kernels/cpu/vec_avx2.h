/* The vector vocabulary the kernel templates are written over, for AVX2 + FMA: __m256, 8
 * lanes. Include once per instantiation file, before the template; only for files compiled
 * with -mavx2 -mfma.
 *   - VLOAD, VSTORE, VSET1: every template. The row-kernel templates (upsample_impl.h,
 *     guided_filter_impl.h) use nothing else: GCC's vector operators on __m256 compile to AVX
 *     instructions, with no FMA contraction under -std=c11, so their bits match the portable
 *     instantiation's.
 *   - the arithmetic of the FMA templates (conv_direct_impl.h, dwpw_impl.h,
 *     conv_winograd_impl.h): VFMA (one rounding), VADD, VSUB, VMUL, VMAX, VZERO, VHSUM (one
 *     vector's sum), VHSUM8 (eight sums in one vector), and VSTREAM / VFENCE, the aligned
 *     non-temporal store and the fence that orders such stores before the pool's barrier. */
#ifndef CARTOON_VEC_AVX2_H
#define CARTOON_VEC_AVX2_H
#include <immintrin.h>
typedef __m256 vf;
#define VL 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)

#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VZERO _mm256_setzero_ps()
#define VSTREAM(p, v) _mm256_stream_ps((p), (v))
#define VFENCE() _mm_sfence()

static inline float vhsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#define VHSUM(v) vhsum(v)
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
#endif
