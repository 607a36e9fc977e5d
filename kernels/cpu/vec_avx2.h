/* The row-kernel templates' vector (see vec_generic.h) for AVX2: __m256. GCC's vector
 * operators on it compile to AVX instructions, with no FMA contraction under -std=c11, so the
 * bits match the portable instantiation's. Only for files compiled with -mavx2. */
#ifndef CARTOON_VEC_AVX2_H
#define CARTOON_VEC_AVX2_H
#include <immintrin.h>
typedef __m256 vf;
#define VL 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#endif
