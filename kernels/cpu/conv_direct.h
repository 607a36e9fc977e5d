/* Direct convolution for the layers where im2col + sgemm does poorly: few input channels
 * (the first 7x7, 3 -> 32), few output channels (the last 7x7, 32 -> 3) and stride 2. The
 * sgemm for those has one tiny dimension (K = 147, or N = 3) or pays for a large im2col copy;
 * here each output pixel's window is read in place and the weights stay in L1.
 *
 * Two kernels, chosen at creation:
 *   - output channels in vector lanes (cout >= 8 or cin < 8): weights packed [k][k][cin][cout8],
 *     each input value broadcast against 16 output channels, 4 output pixels at a time;
 *   - input channels in vector lanes (cout < 8 and cin >= 8): weights kept [cout][k][k][cin],
 *     dot products over cin, summed across lanes once per output value.
 * Both take any k, stride, cin and cout, and apply the epilogue (bias, activation, residual)
 * as values are stored. Arithmetic is fp32 throughout; only the summation order differs from
 * the naive reference. */
#ifndef CARTOON_CONV_DIRECT_H
#define CARTOON_CONV_DIRECT_H
#include <stdint.h>
#include "cartoon.h"
#include "conv.h"
#include "threadpool.h"

typedef struct ct_direct ct_direct;

/* w_ohwi is [cout][k][k][cin]; copied and repacked. Read-only afterwards, shareable. */
cartoon_status ct_direct_create(const float *w_ohwi, int cin, int cout, int k, ct_direct **out);
void ct_direct_free(ct_direct *d);

/* bf16 operands (the bf16 precision): the same convolution with the input and the weights
 * rounded to bf16 and fp32 sums (VDPBF16PS), where ct_direct_bf16_ok: cout a multiple of 16
 * (output channels in lanes), or cout = 3 with an even cin >= 8 (the RGB output).
 * docs/precision-notes.md: bf16 direct keeps about 62 dB end to end. Creates both the fp32
 * and the bf16 packing; CARTOON_E_INVALID_ARGUMENT where the shape is not one of those. */
int ct_direct_bf16_ok(int cin, int cout, int k);
#define CT_DIRECT_MAX_K 11    /* the largest window of the bf16 kernels (their rings hold k rows) */
#define CT_DIRECT_BF16_PAD 64 /* zero bytes after a converted row, which a last pair may read */
cartoon_status ct_direct_create_bf16(const float *w_ohwi, int cin, int cout, int k, ct_direct **out);
/* 1 when d has bf16 weights (run it with ct_direct_conv_bf16), else 0. */
int ct_direct_is_bf16(const ct_direct *d);
/* Bytes of scratch ct_direct_conv_bf16 needs for inputs w pixels wide run by up to nthreads
 * threads (pass ct_pool_size(pool)): k converted input rows per thread, whatever the height. */
size_t ct_direct_bf16_scratch_bytes(const ct_direct *d, int w, int nthreads);

/* One output row, instantiated per instruction set (conv_direct_generic.c,
 * conv_direct_avx2.c); lib/cpu/cpu_kernels.c chooses. */
typedef void (*ct_direct_row_fn)(void *job, int oy, int tid);

/* out = epilogue(conv(in)) for shape s (s->cin, s->cout, s->k equal to d's; any stride and
 * size) with the row kernel `row`. No scratch, no allocation; rows are spread over pool. */
cartoon_status ct_direct_conv(const ct_direct *d, const ct_conv_shape *s, const float *in,
                              const ct_epilogue *ep, float *out, ct_pool *pool,
                              ct_direct_row_fn row);
/* The same with bf16 operands, for d from ct_direct_create_bf16, with the band kernel rows
 * (ct_direct_rows_bf16_<isa>): bands of output rows spread over pool, each converting the
 * input rows it reads into its thread's part of scratch (ct_direct_bf16_scratch_bytes,
 * 64-byte aligned). Allocates nothing. */
cartoon_status ct_direct_conv_bf16(const ct_direct *d, const ct_conv_shape *s, const float *in,
                                   const ct_epilogue *ep, float *out, void *scratch, ct_pool *pool,
                                   ct_direct_row_fn rows);

/* Internal: the packed weights, shared by the portable and AVX2 instantiations. */
struct ct_direct {
    int cin, cout, k;
    int cout8;          /* cout rounded up to 8 */
    int lanes_in_cin;   /* 1: the cin-vectorised kernel */
    float *w;           /* [k][k][cin][cout8], or [max(cout, 4)][k][k][cin] (zero filters pad) */
    uint16_t *wb;       /* bf16 weights, NULL in an fp32 one: [k][(k * cin + 1) / 2 pairs][cout]
                         * of pairs (w holds the same weights rounded to bf16, for the taps of
                         * clipped windows), or [cout][k][k * cin / 2 pairs, padded to 16] when
                         * lanes_in_cin */
};

typedef struct {
    const ct_direct *d;
    const ct_conv_shape *s;
    const float *in;
    const ct_epilogue *ep;
    float *out;
    int stream;         /* 1: whole output vectors go out with streaming stores */
    void *inb;          /* bf16: the threads' rings of k converted rows, slot_bytes each (w * cin
                         * bf16, then at least CT_DIRECT_BF16_PAD zero bytes) */
    size_t slot_bytes;
    int band;           /* bf16: output rows per task */
} ct_direct_job;

void ct_direct_row_generic(void *job, int oy, int tid);
void ct_direct_row_avx2(void *job, int oy, int tid);
void ct_direct_row_avx512(void *job, int oy, int tid);
/* The AVX-512 algorithm (16 lanes) in generic vectors for AVX2: for the tests only. */
void ct_direct_row_v16_avx2(void *job, int oy, int tid);
/* bf16: a band of output rows per call, with VDPBF16PS (conv_direct_avx512bf16.c) and as
 * its bit-exact emulation (conv_direct_bf16_v16_avx2.c). */
void ct_direct_rows_bf16_avx512bf16(void *job, int band, int tid);
void ct_direct_rows_bf16_v16_avx2(void *job, int band, int tid);
#endif
