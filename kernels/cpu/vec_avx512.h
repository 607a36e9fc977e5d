/* The row-kernel templates' vector (see vec_generic.h) for AVX-512: __m512, 16 lanes. Only for
 * files compiled with -mavx512f. vec_v16_avx2.h is the same width in generic vectors. */
#ifndef CARTOON_VEC_AVX512_H
#define CARTOON_VEC_AVX512_H
#include <immintrin.h>
typedef __m512 vf;
#define VL 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#endif
