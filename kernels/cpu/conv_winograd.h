/* Winograd convolution for 3x3, stride 1, SAME (pad 1) convolutions, NHWC float32, batch 1.
 *
 * Output tiles of m x m (F(4x4,3x3): m = 4, or F(6x6,3x3): m = 6) are computed from
 * (m+2)^2 transformed input points; the elementwise stage runs as one small GEMM per
 * transform point over a block of tiles, so a block stays in the L2 cache from input
 * transform to output. The weights are transformed once, in double, at creation.
 *
 * Precision (fp32 throughout after the weight transform): the worst max abs error against
 * the float64 direct sum seen in tests/test_winograd.c is 7.8e-6 (m = 4) and 1.4e-5
 * (m = 6) relative to max(1, max|out|); end to end on the model, 7e-6 / 1.6e-5
 * (docs/precision-notes.md), both inside the 1e-4 exactness tolerance. */
#ifndef CARTOON_CONV_WINOGRAD_H
#define CARTOON_CONV_WINOGRAD_H
#include <stddef.h>
#include "cartoon.h"
#include "conv.h"
#include "threadpool.h"

/* Transformed weights: read-only after creation, shareable between threads. */
typedef struct ct_winograd ct_winograd;

/* Alignment the scratch passed to ct_winograd_conv must have. */
#define CT_WINOGRAD_SCRATCH_ALIGN 64

/* w_ohwi is [cout][3][3][cin] as in the model file; cin, cout >= 1. Uses the default tile
 * size (the faster one on the development machine, see ct_winograd_create_tile). */
cartoon_status ct_winograd_create(const float *w_ohwi, int cin, int cout, ct_winograd **out);
/* Same with the output tile chosen: m = 4 (F(4x4,3x3)) or 6 (F(6x6,3x3)). */
cartoon_status ct_winograd_create_tile(const float *w_ohwi, int cin, int cout, int m,
                                       ct_winograd **out);
void ct_winograd_free(ct_winograd *wg);
/* The output tile size m of wg (4 or 6). */
int ct_winograd_tile(const ct_winograd *wg);

/* Bytes of scratch ct_winograd_conv needs for an h x w image run by up to nthreads threads
 * (pass ct_pool_size(pool), 1 for a NULL pool). Per thread it is at most a few hundred KiB
 * (one block of transformed tiles), whatever the image size. */
size_t ct_winograd_scratch_bytes(const ct_winograd *wg, int h, int w, int nthreads);

/* One block of tiles of the Winograd convolution, instantiated per instruction set
 * (conv_winograd_generic.c, conv_winograd_avx2.c); lib/cpu/cpu_kernels.c chooses. */
typedef void (*ct_winograd_task_fn)(void *job, int block, int tid);
void ct_wg_task_generic(void *job, int block, int tid);
void ct_wg_task_avx2(void *job, int block, int tid);
void ct_wg_task_avx512(void *job, int block, int tid);
/* The AVX-512 algorithm (16 lanes) in generic vectors for AVX2: for the tests only. */
void ct_wg_task_v16_avx2(void *job, int block, int tid);
/* bf16-operand block kernels, for weights from ct_winograd_create_bf16 only: VDPBF16PS
 * (AVX512_BF16, conv_winograd_avx512bf16.c), and its bit-exact portable emulation
 * (bf16_emul.h) for the tests. */
void ct_wg_task_bf16_avx512bf16(void *job, int block, int tid);
void ct_wg_task_bf16_v16_avx2(void *job, int block, int tid);

/* F(4x4,3x3) weights for the bf16 kernels: transformed in double as in
 * ct_winograd_create_tile, then rounded to bf16 (nearest even) and packed in input-channel
 * pairs. Precision (docs/precision-notes.md): bf16 operands with fp32 sums keep F(4x4) at
 * about 53 dB end to end, where F(6x6) would fall to 48 dB. Same errors as
 * ct_winograd_create. */
cartoon_status ct_winograd_create_bf16(const float *w_ohwi, int cin, int cout, ct_winograd **out);
/* 1 when wg holds bf16 weights (run it with a ct_wg_task_bf16_* kernel), else 0. */
int ct_winograd_is_bf16(const ct_winograd *wg);

/* out = epilogue(conv3x3(in)) for s with k = 3, stride = 1 (SAME: pad 1 on each side),
 * s->cin and s->cout equal to wg's; any h, w >= 1. scratch: at least
 * ct_winograd_scratch_bytes(wg, s->h, s->w, ct_pool_size(pool)) bytes aligned to
 * CT_WINOGRAD_SCRATCH_ALIGN. task: the block kernel of the instruction set to use
 * (a ct_wg_task_* the CPU runs; a ct_wg_task_bf16_* one exactly when wg is bf16).
 * out must not overlap in; ep->residual may be out itself (each value is read just before
 * the same element is written). Allocates nothing; threads over blocks of tiles with pool
 * (NULL: the calling thread only). Returns CARTOON_E_INVALID_ARGUMENT on a shape mismatch. */
cartoon_status ct_winograd_conv(const ct_winograd *wg, const ct_conv_shape *s, const float *in,
                                const ct_epilogue *ep, float *out, void *scratch,
                                ct_pool *pool, ct_winograd_task_fn task);
/* ct_winograd_conv with the tile grid shifted: the image's row 0 and column 0 sit at row py
 * and column px (0..m-1) of the first tile, as when the image is a piece, starting at row
 * y and column x, of a larger one whose grid starts at 0 (py = y % m, px = x % m). A tile's
 * rounding depends on where the tile lies, so this makes every pixel of the piece bit for bit
 * the pixel of the larger image's run (exact tiling, lib/core/tiling.c) wherever both read the
 * same input. The scratch ct_winograd_scratch_bytes gives covers every phase. */
cartoon_status ct_winograd_conv_at(const ct_winograd *wg, const ct_conv_shape *s, const float *in,
                                   const ct_epilogue *ep, float *out, void *scratch,
                                   ct_pool *pool, ct_winograd_task_fn task, int py, int px);
#endif
