/* The bf16-operand Winograd kernel for AVX512_BF16 (VDPBF16PS, VCVTNEPS2BF16): the AVX-512
 * instantiation of conv_winograd_impl.h with WG_BF16, in a file of its own because it is the
 * only code that needs AVX512_BF16 (CT_ISA_AVX512_BF16; every other AVX-512 kernel runs on
 * F/BW/VL/DQ alone). Only ct_wg_task_bf16_avx512bf16 is used from here; the fp32 kernels the
 * template also makes are those of conv_winograd_avx512.c under another name. The tests run
 * its bit-exact emulation (conv_winograd_v16_avx2.c) where the CPU lacks AVX512_BF16. */
#if defined(__x86_64__)
#include "conv_winograd_impl.h"
#include "vec_avx512.h"
/* 12 x 16: 12 accumulators + 1 weight vector, the row values broadcast from memory inside
 * the FMA; 12 independent chains cover the FMA latency of two units, and 32 zmm registers
 * leave room (more rows would only lengthen the tails of a block of tiles). */
#define MR 12
#define WG_NAME(x) x##_avx512bf16
/* bf16 operands: VDPBF16PS and VCVTNEPS2BF16 (AVX512_BF16) */
#include "vec_bf16_avx512.h"
#define WG_BF16
#define WG_TEMPLATE
#include "conv_winograd_impl.h"
#else
typedef int ct_winograd_avx512bf16_empty;
#endif
