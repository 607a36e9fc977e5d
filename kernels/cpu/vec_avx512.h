/* The vector vocabulary the kernel templates are written over (see vec_avx2.h), for AVX-512:
 * __m512, 16 lanes. Only for files compiled with -mavx512f. vec_v16_avx2.h is the same width
 * in generic vectors. No VHSUM8: the templates then reduce each sum alone. */
#ifndef CARTOON_VEC_AVX512_H
#define CARTOON_VEC_AVX512_H
#include <immintrin.h>
typedef __m512 vf;
#define VL 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
/* 8 floats into the low lanes, the high ones zero (a 256-bit load: reads nothing past p + 8) */
#define VLOAD8(p) _mm512_zextps256_ps512(_mm256_loadu_ps(p))
/* the low 8 lanes to p .. p + 8 (a 256-bit store: writes nothing else) */
#define VSTORE8(p, v) _mm256_storeu_ps((p), _mm512_castps512_ps256(v))

#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VZERO _mm512_setzero_ps()
#define VHSUM(v) _mm512_reduce_add_ps(v)
#define VSTREAM(p, v) _mm512_stream_ps((p), (v))
#define VFENCE() _mm_sfence()
#endif
