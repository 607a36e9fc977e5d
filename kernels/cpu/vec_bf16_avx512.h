/* The bf16 operands of the 16-lane templates on AVX512_BF16 (only for files built with
 * -mavx512bf16, after vec_avx512.h): vbh holds 16 lanes of two bf16 each, the pairs VDPBF16PS
 * multiplies. vec_bf16_v16_avx2.h is the same vocabulary as its bit-exact emulation.
 *   BH_LOAD(p)          32 bf16 from p;  BH_LOADN(p, n): the first n < 16 lanes, the rest zero
 *   BH_SET1(u)          one pair (a uint32_t) in every lane
 *   VDPBF16(acc, a, b)  acc + the pairs' dot products, lane by lane (VDPBF16PS)
 *   BH_STORE_CVT(p, v)  16 floats rounded to bf16 (VCVTNEPS2BF16), stored at p */
#ifndef CARTOON_VEC_BF16_AVX512_H
#define CARTOON_VEC_BF16_AVX512_H
#include <immintrin.h>
typedef __m512i vbh;
#define BH_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define BH_LOADN(p, n) _mm512_maskz_loadu_epi32((__mmask16)((1u << (n)) - 1u), (const void *)(p))
#define BH_SET1(u) _mm512_set1_epi32((int)(u))
#define VDPBF16(acc, a, b) _mm512_dpbf16_ps((acc), (__m512bh)(a), (__m512bh)(b))
#define BH_STORE_CVT(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (__m256i)_mm512_cvtneps_pbh(v))
#endif
