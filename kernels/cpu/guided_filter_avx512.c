/* AVX-512 instantiation of the guided filter band kernel (guided_filter_impl.h): 16 columns per
 * instruction. Tested where the CPU lacks AVX-512 through guided_filter_v16_avx2.c. */
#if defined(__x86_64__)
#include "vec_avx512.h"
#define NAME(x) x##_avx512
#include "guided_filter_impl.h"
#else
typedef int ct_guided_filter_avx512_empty;
#endif
