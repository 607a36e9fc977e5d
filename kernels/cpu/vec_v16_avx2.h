/* The row-kernel templates' vector (see vec_generic.h) at 16 lanes in GCC generic vectors
 * compiled for AVX2 (vec16_avx2.h): the AVX-512 instantiations' width and indexing, for the
 * test-only v16-avx2 row on machines without AVX-512. */
#ifndef CARTOON_VEC_V16_AVX2_H
#define CARTOON_VEC_V16_AVX2_H
#include "vec16_avx2.h"
#define VL 16
#define VLOAD(p) v16_load(p)
#define VSTORE(p, v) v16_store((p), (v))
#define VSET1(x) v16_set1(x)
#endif
