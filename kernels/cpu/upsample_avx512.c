/* AVX-512 instantiation of the upsample row kernel (upsample_impl.h): 16 channels per
 * instruction. Tested where the CPU lacks AVX-512 through upsample_v16_avx2.c. */
#if defined(__x86_64__)
#include "vec_avx512.h"
#define NAME(x) x##_avx512
#include "upsample_impl.h"
#else
typedef int ct_upsample_avx512_empty;
#endif
