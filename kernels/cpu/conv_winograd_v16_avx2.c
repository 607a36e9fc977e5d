/* The 16-lane Winograd kernels (conv_winograd_impl.h with VL 16, MR 12, as in
 * conv_winograd_avx512.c) in GCC generic vectors, compiled for AVX2 (GCC splits each
 * 64-byte vector into two ymm registers). Never chosen at run time: it exists so that every
 * x86 machine with AVX2 runs the blocking, indexing and tails of the AVX-512 build in the
 * tests. FMA and max are the per-lane operations of the AVX-512 instructions. */
#if defined(__x86_64__)
#include "conv_winograd_impl.h"
#include "vec_v16_avx2.h"
#define MR 12
#define WG_NAME(x) x##_v16_avx2
/* bf16 operands: each lane of VDPBF16PS and VCVTNEPS2BF16 as bf16_emul.h defines it, so the
 * results are those of the instructions bit for bit. */
#include "vec_bf16_v16_avx2.h"
#define WG_BF16
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_v16_avx2_empty;
#endif
