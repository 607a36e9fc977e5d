/* AVX2 + FMA instantiation of the depthwise + pointwise kernels (dwpw_impl.h): 6 pixels by
 * 16 output channels per GEMM block. */
#if defined(__x86_64__)
#include <immintrin.h>

typedef __m256 vf;
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSTREAM(p, v) _mm256_stream_ps((p), (v))
#define VFENCE() _mm_sfence()
#define VSET1(x) _mm256_set1_ps(x)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VZERO _mm256_setzero_ps()
#define NAME(x) x##_avx2
#include "dwpw_impl.h"
#else
typedef int ct_dwpw_avx2_empty;
#endif
